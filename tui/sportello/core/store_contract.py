"""What the core reads from and writes to a store, whatever the database.

:class:`StoreBackend` is the contract: the collector, the live worker, the desk
and the CLI use nothing else. :mod:`sportello.core.store` is its SQLite implementation;
a PostgreSQL backend (for a chain of shops on one server) would be another module
passing the same contract suite (``tests/store_contract``). The domain rules every
backend follows are in :mod:`sportello.core.ingest`.

**Revisions.** Every write bumps a counter of what it touched, in the same
transaction: ``channels[id]`` for anything about a channel (a poll, a fetch, an
action), ``queues[id]`` when that channel's waiting conversations or their
actions changed, ``outbox`` for any action, ``collector`` for the collector's
record and requests. A process that compares two reads of :meth:`revisions`
knows what another process changed, and only that.

**Leadership.** One process per store collects (polls and delivers): the one
that holds the store's lead. It dies with its process, and a closed store holds
none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self

from sportello.core.outbox import Action, State
from sportello.core.polling_status import CollectorInfo
from sportello.core.records import (
    ChannelRecord,
    ConversationState,
    Draft,
    DropReport,
    FirstResponse,
    Health,
    MessageRecord,
    PollOutcome,
    QueueItem,
    Snapshot,
)
from sportello.core.settings import Channel
from sportello_sdk.models import ChannelState

__all__ = ["Delivery", "Request", "Revisions", "StoreBackend", "StoreError"]


class StoreError(Exception):
    """The store failed. The message names the store; it never holds customer text."""


@dataclass(frozen=True, slots=True)
class Revisions:
    channels: Mapping[str, int] = field(default_factory=dict)
    queues: Mapping[str, int] = field(default_factory=dict)
    outbox: int = 0
    collector: int = 0


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    kind: str  # "poll"
    channel_id: str | None  # None: every channel
    made_at: float
    made_by: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a delivered action does to its conversation, recorded with its mark.

    A reply: the business's message (``message_id`` from the channel when it gave
    one) at ``at``, the conversation leaves the queue, a first response is set if
    none was. Close and snooze: it leaves the queue (until the customer writes
    again, or the snooze ends). Assign: the assignee. Reopen: back in the queue.
    """

    at: float
    message_id: str | None = None
    author_name: str | None = None


class StoreBackend(Protocol):
    """The store contract. Every method raises :class:`StoreError` on failure."""

    @property
    def closed(self) -> bool: ...
    async def close(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    # -- channels, fetches, polls
    async def sync_channels(
        self, channels: Iterable[Channel], kinds: Mapping[str, str]
    ) -> None: ...
    async def apply_fetch(
        self,
        channel_id: str,
        state: ChannelState,
        fetched_at: float,
        *,
        keep: Iterable[str] = (),
        poll: PollOutcome | None = None,
        health: Health = Health.OK,
        dropped: DropReport | None = None,
    ) -> int: ...
    async def record_poll(
        self, outcome: PollOutcome, health: Health, *, dropped: DropReport | None = None
    ) -> None: ...
    async def memories(self) -> dict[str, dict[str, Any]]: ...
    async def save_transport(self, channel_id: str, report: str) -> None: ...
    async def transports(self) -> dict[str, dict[str, Any]]: ...
    async def prune(self, before: float, *, history_before: float | None = None) -> None: ...

    # -- reads
    async def channels(self) -> list[ChannelRecord]: ...
    async def waiting(
        self, channel_id: str | None = None, *, search: bool = True
    ) -> list[QueueItem]: ...
    async def waiting_summary(self) -> dict[str, tuple[int, float]]: ...
    async def waiting_head(self, per_channel: int) -> list[QueueItem]: ...
    async def conversation(self, conversation_id: int) -> QueueItem | None: ...
    async def conversation_state(self, conversation_id: int) -> ConversationState | None: ...
    async def messages(self, conversation_id: int, limit: int = 50) -> list[MessageRecord]: ...
    async def first_responses(self, since: float) -> list[FirstResponse]: ...
    async def snapshots(self, channel_id: str, since: float) -> list[Snapshot]: ...
    async def trend(
        self, channel_id: str, since: float, bucket: float, *, carry: float = 0.0
    ) -> list[tuple[int, int]]: ...
    async def revisions(self) -> Revisions: ...

    # -- the outbox
    async def enqueue(self, action: Action, *, drop_draft_of: str | None = None) -> None: ...
    async def action(self, key: str) -> Action | None: ...
    async def actions(
        self,
        *,
        states: Iterable[State] | None = None,
        conversation_id: int | None = None,
        channel_id: str | None = None,
        since: float | None = None,
        limit: int | None = None,
    ) -> list[Action]: ...
    async def transition(self, new: Action, expected: State, *, durable: bool = False) -> bool: ...
    async def deliver(self, new: Action, delivery: Delivery) -> bool: ...
    async def prune_outbox(self, before: float) -> None: ...

    # -- drafts
    async def save_draft(self, draft: Draft) -> None: ...
    async def delete_draft(self, conversation_id: int, author: str) -> None: ...
    async def drafts(self, conversation_id: int | None = None) -> list[Draft]: ...

    # -- who collects
    def try_lead(self) -> bool: ...
    def release_lead(self) -> None: ...
    @property
    def leading(self) -> bool: ...
    async def set_collector(self, info: CollectorInfo) -> None: ...
    async def set_collector_paused(self, pid: int, paused: bool) -> None: ...
    async def clear_collector(self, pid: int) -> None: ...
    async def collector(self) -> CollectorInfo | None: ...
    async def request(
        self, kind: str, made_at: float, made_by: str, channel_id: str | None = None
    ) -> int: ...
    async def requests_after(self, request_id: int) -> list[Request]: ...
    async def last_request_id(self) -> int: ...
