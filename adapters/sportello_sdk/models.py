"""Plain data that adapters return.

Adapters speak to channels and hand back these frozen dataclasses: never widgets,
never store rows. Every timestamp is an aware ``datetime`` in UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MEMORY_LIMIT = 64 * 1024  # bytes of a channel's memory, as JSON


class ChannelKind(enum.StrEnum):
    """What sort of channel an adapter speaks to; drives the default expectation."""

    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    SOCIAL = "social"
    HELPDESK = "helpdesk"
    OTHER = "other"


class Author(enum.StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    BUSINESS = "business"


class ActionKind(enum.StrEnum):
    """What the business asks a channel to do with a conversation."""

    REPLY = "reply"
    CLOSE = "close"
    ASSIGN = "assign"
    SNOOZE = "snooze"
    REOPEN = "reopen"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an adapter can do besides fetching.

    ``keys``: the channel itself honours the idempotency key (a second call with
    the same key does nothing and answers as the first). ``lookup``: the adapter
    can tell whether an action with a given key reached the channel
    (:meth:`sportello_sdk.base.Adapter.lookup`): a send cut off by a crash is then
    checked instead of shown as unknown. ``recheck``: it can re-read one
    conversation (:meth:`sportello_sdk.base.Adapter.recheck`), so that a reply is held
    when someone already answered from another tool.
    """

    reply: bool = False
    close: bool = False
    assign: bool = False
    snooze: bool = False
    reopen: bool = False
    keys: bool = False
    lookup: bool = False
    recheck: bool = False

    def can(self, kind: ActionKind) -> bool:
        return bool(getattr(self, str(kind)))


@dataclass(frozen=True, slots=True)
class Customer:
    """Who a conversation is with, as far as the channel knows.

    The identity fields (e-mail, phone) let the core match one customer across
    channels; any of them may be unknown.
    """

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    handle: str | None = None  # username on a social or chat channel


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation."""

    author: Author
    sent_at: datetime
    text: str
    external_id: str | None = None
    author_name: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """One customer thread on one channel.

    ``waiting_since`` is the time of the first customer message after the
    business's last reply (``None`` when the conversation is not waiting: the
    business spoke last, or it is closed or snoozed). ``first_response_at`` is
    when the business first replied, when the channel knows it.
    """

    external_id: str
    customer: Customer
    subject: str
    first_customer_message_at: datetime
    waiting_since: datetime | None
    first_response_at: datetime | None = None
    messages: tuple[Message, ...] = ()  # the last messages of the thread, oldest first
    assignee: str | None = None

    @property
    def waiting(self) -> bool:
        return self.waiting_since is not None


@dataclass(frozen=True, slots=True)
class ChannelState:
    """What one ``fetch()`` saw on a channel.

    ``conversations`` holds the waiting conversations and may hold recently
    answered ones (``waiting_since is None``) so that first response times can be
    counted. When ``complete`` is true the list covers the whole queue, so a
    conversation that was waiting before and is absent now has left the queue.
    ``on_hold`` and ``longest_hold`` are channel-level figures of channels that
    have them (a phone queue: callers on hold, the longest hold).

    ``memory``: what the channel must remember until the next fetch (a cursor:
    Telegram's next offset, IMAP's UIDVALIDITY and UIDNEXT, an export's cursor),
    as JSON-ready data (dicts, lists, text, numbers, true/false, null) of at most
    ``MEMORY_LIMIT`` bytes. It is saved in the same transaction as this state and
    handed to the next ``fetch`` — of this process, or of the one that takes over.
    ``None`` keeps the memory as it was.
    """

    conversations: tuple[Conversation, ...] = ()
    complete: bool = True
    on_hold: int | None = None
    longest_hold: timedelta | None = None
    memory: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One action to deliver. ``idempotency_key`` is made once, when the user acts,
    and is the same on every retry of it.

    ``text`` for a reply, ``assignee`` for assign, ``until`` for snooze (aware,
    UTC; ``None``: until the customer writes again).
    """

    kind: ActionKind
    conversation_external_id: str
    idempotency_key: str
    text: str | None = None
    assignee: str | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the channel said when it accepted an action.

    ``external_id``: the channel's id of what it made (a reply's message id), so
    that the next fetch recognises the message as the one already recorded.
    """

    done_at: datetime
    external_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
