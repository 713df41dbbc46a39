"""Builders for the contract suite's outbox tests: actions made and moved through
:mod:`sportello.core.outbox`, as the desk and the collector make them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from sportello.core import outbox
from sportello.core.outbox import Action, Kind, State
from sportello.core.records import QueueItem
from sportello.core.store_contract import Delivery, StoreBackend
from sportello_sdk.models import Message
from tests.helpers_store import T0, conversation, state

Opener = Callable[[], Awaitable[StoreBackend]]  # the open_store fixture

OWNER = "collector@shop:1"
UNDO_S = 10.0
DEFAULT_PAYLOAD: Mapping[Kind, Mapping[str, str]] = {
    Kind.REPLY: {"text": "Il pacco è partito ieri."},
    Kind.CLOSE: {},
    Kind.ASSIGN: {"assignee": "Luca"},
    Kind.SNOOZE: {"until": str(T0 + 3600)},
    Kind.REOPEN: {},
}


def make(
    item: QueueItem,
    kind: Kind = Kind.REPLY,
    *,
    at: float = 100.0,
    payload: Mapping[str, str] | None = None,
    made_by: str = "anna@shop",
    key: str | None = None,
) -> Action:
    """A pending action on ``item``, made ``at`` seconds after T0."""
    return outbox.make(
        kind,
        channel_id=item.channel_id,
        conversation_id=item.conversation_id,
        external_id=item.external_id,
        payload=DEFAULT_PAYLOAD[kind] if payload is None else payload,
        made_by=made_by,
        now=T0 + at,
        undo_window_s=UNDO_S,
        key=key,
    )


async def waiting_one(
    backend: StoreBackend,
    external_id: str = "c1",
    *,
    channel_id: str = "email",
    waiting: float = 10.0,
    first_response: float | None = None,
    messages: Sequence[Message] = (),
) -> QueueItem:
    """Fetch one waiting conversation onto ``channel_id`` (at T0 + 20, an incomplete
    fetch: the channel's others stay) and return it as queued."""
    fetched = conversation(
        external_id, first=0.0, waiting=waiting, first_response=first_response, messages=messages
    )
    await backend.apply_fetch(channel_id, state(fetched, complete=False), T0 + 20)
    (item,) = [i for i in await backend.waiting(channel_id) if i.external_id == external_id]
    return item


async def claimed(backend: StoreBackend, action: Action, owner: str = OWNER) -> Action:
    """``action`` (pending, just enqueued) claimed once its undo window has passed."""
    sending = outbox.claim(action, action.due_at, owner)
    assert await backend.transition(sending, State.PENDING)
    return sending


async def delivered(
    backend: StoreBackend,
    action: Action,
    *,
    at: float | None = None,
    message_id: str | None = None,
    author_name: str | None = "Anna",
) -> Action:
    """Enqueue ``action``, claim it and record it delivered at ``at`` (after T0)."""
    await backend.enqueue(action)
    sending = await claimed(backend, action)
    done_at = sending.updated_at + 1 if at is None else T0 + at
    sent = outbox.delivered(sending, done_at, message_id)
    delivery = Delivery(at=done_at, message_id=message_id, author_name=author_name)
    assert await backend.deliver(sent, delivery)
    return sent
