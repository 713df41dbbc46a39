"""What the store hands back to the collector, the CLI and the screen.

Times are Unix seconds (UTC) as floats: cheap to sort and compare for 100,000
rows. Customer text in these records is raw: the screen sanitises it.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import NamedTuple


class Health(enum.StrEnum):
    """A channel's polling health."""

    UNKNOWN = "unknown"  # never polled yet
    OK = "ok"
    DEGRADED = "degraded"  # the last poll failed; retrying with backoff
    DOWN = "down"  # failing for a while, or failing in a way retries will not fix


REASONS_MAX = 10  # reasons of a DropReport a store keeps …
REASON_MAX = 300  # … and characters of each


@dataclass(frozen=True, slots=True)
class DropReport:
    """What the sense checks refused of a channel's last good poll
    (:mod:`sportello.core.state_check`).

    ``count``: conversations dropped (not stored). ``fixed``: repairs made to
    stored conversations (a customer field that was not text, a message sent in
    the future left out). ``reasons``: the first few of both, drops first, in
    words, with ids shown inert; the screen still makes them inert to show them.
    """

    count: int
    reasons: tuple[str, ...] = ()
    fixed: int = 0

    def to_json(self) -> str:
        """``{"count": n, "reasons": [...], "fixed": m}``: how a store keeps it."""
        reasons = [reason[:REASON_MAX] for reason in self.reasons[:REASONS_MAX]]
        data = {"count": self.count, "reasons": reasons, "fixed": self.fixed}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> DropReport | None:
        """The report a store kept, or None (none kept, or not one of ours)."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        count, fixed, reasons = data.get("count"), data.get("fixed", 0), data.get("reasons", [])
        if (
            not isinstance(count, int)
            or not isinstance(fixed, int)
            or not isinstance(reasons, list)
        ):
            return None
        return cls(count, tuple(str(reason) for reason in reasons), fixed)


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """A channel's last known state in the store."""

    id: str
    label: str
    adapter: str
    kind: str
    health: Health
    last_error: str | None
    failing_since: float | None
    last_poll_at: float | None
    last_ok_at: float | None
    on_hold: int | None  # phone: callers on hold
    longest_hold_s: float | None  # phone: the longest hold
    dropped: DropReport | None = None  # what the last good poll's checks refused


TEXTS_SEPARATOR = "\x1f"  # ASCII unit separator: between the texts of a QueueItem


class QueueItem(NamedTuple):
    """One waiting conversation, as the queue lists it. Immutable.

    Compact, since the screen holds one per waiting conversation (a million,
    for a big shop): a tuple of five, its six short texts in one string
    (:attr:`texts`) split again only for the rows on show, so that a
    conversation costs about 300 bytes rather than 630 (a string costs 49 bytes
    before its first character). Make one with :meth:`of`; the store reads
    :attr:`texts` made by SQL (``sportello.core.store``).
    """

    conversation_id: int
    channel_id: str
    waiting_since: float
    # External id, customer name, e-mail, phone, handle, subject, in that order, joined
    # by TEXTS_SEPARATOR (removed from each); a missing one is empty (pack_texts).
    texts: str
    # The start of the last messages, folded (sportello.core.folding.search_text): what the
    # filter searches of them. Empty until the store has computed it.
    search_text: str = ""

    @classmethod
    def of(
        cls,
        conversation_id: int,
        channel_id: str,
        external_id: str,
        customer_name: str | None,
        customer_email: str | None,
        customer_phone: str | None,
        subject: str,
        waiting_since: float,
        search_text: str = "",
        customer_handle: str | None = None,
    ) -> QueueItem:
        """The item of these fields (the order a conversation's are stored in)."""
        texts = pack_texts(
            external_id, customer_name, customer_email, customer_phone, customer_handle, subject
        )
        return cls(conversation_id, channel_id, waiting_since, texts, search_text)

    def fields(self) -> list[str]:
        """The six texts: external id, name, e-mail, phone, handle, subject ('' if none)."""
        fields = self.texts.split(TEXTS_SEPARATOR, 5)
        if len(fields) < 6:  # not made by pack_texts: take it as the subject
            return ["", "", "", "", "", self.texts]
        return fields

    @property
    def external_id(self) -> str:
        return self.fields()[0]

    @property
    def customer_name(self) -> str | None:
        return self.fields()[1] or None

    @property
    def customer_email(self) -> str | None:
        return self.fields()[2] or None

    @property
    def customer_phone(self) -> str | None:
        return self.fields()[3] or None

    @property
    def customer_handle(self) -> str | None:
        """A handle (Telegram @name, a Facebook id) for a customer known by nothing else."""
        return self.fields()[4] or None

    @property
    def subject(self) -> str:
        return self.fields()[5]


def pack_texts(*texts: str | None) -> str:
    """``texts`` in one string for :attr:`QueueItem.texts` (each without the separator)."""
    return TEXTS_SEPARATOR.join((text or "").replace(TEXTS_SEPARATOR, "") for text in texts)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    author: str  # "customer" | "business"
    author_name: str | None
    sent_at: float
    text: str


@dataclass(frozen=True, slots=True)
class FirstResponse:
    """A conversation's first customer message and the business's first reply."""

    channel_id: str
    first_customer_message_at: float
    first_response_at: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The queue of one channel at one moment, for history and trends."""

    channel_id: str
    taken_at: float
    waiting: int
    oldest_waiting_since: float | None


@dataclass(frozen=True, slots=True)
class PollOutcome:
    channel_id: str
    started_at: float
    finished_at: float
    ok: bool
    error: str | None
    conversations: int


@dataclass(frozen=True, slots=True)
class Draft:
    """A reply being written: kept in the store so that it survives a restart and
    others on the server see that someone is writing."""

    conversation_id: int
    author: str  # user@host
    text: str
    opened_at: float  # when the composer was first opened on it
    updated_at: float


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What a conversation's handling looks like beyond its wait."""

    conversation_id: int
    assignee: str | None
    last_business_at: float | None  # the business's last message, from any tool
    handled_at: float | None  # answered, closed or snoozed through sportello
    snoozed_until: float | None
    closed: bool
