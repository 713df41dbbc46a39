"""The store's domain rules, backend-neutral: what any store does to what a channel says.

A backend (SQLite today, PostgreSQL for a chain of shops later) persists what this
module prepares and follows the rules written here; the contract suite
(``tests/store_contract``) checks every backend against them.

- **Timestamps** are Unix seconds (UTC) as floats; a naive datetime (an adapter
  bug) is taken as UTC.
- **Text caps**: subjects and customer fields at :data:`FIELD_MAX` characters,
  message text at :data:`TEXT_MAX`, errors at :data:`ERROR_MAX`; a lone surrogate
  (which UTF-8 cannot hold) becomes "?". External ids are never cut.
- **Message identity**: :func:`message_key` — the channel's id, else a hash of
  author, time and text. A message is never dropped, only updated. A reply
  sportello delivered is keyed by the id the channel gave it
  (:func:`message_id_key`), so the fetch that brings it back adds nothing.
- **Last activity** of a conversation: the latest of its first message, its wait,
  its first response and its messages; it never moves back.
- **The phone snapshot rule**: a channel that reports callers on hold (a phone
  queue) snapshots those and the start of the longest hold, not the waiting rows.
- **Snapshots on change**: a queue snapshot is taken when a figure (waiting, oldest
  waiting since) differs from the channel's last one, and at least every
  :data:`SNAPSHOT_HEARTBEAT_S` otherwise: between two snapshots the queue was as
  the first says, for up to that long (beyond, the channel was not polled).
- **Unchanged costs nothing**: a conversation whose :func:`fingerprint` equals the
  one stored with it is not written again (nor are its messages).
- **Answered here stays answered**: once the business answered, closed or snoozed
  a conversation through sportello, a fetch that still reports the old wait (the
  channel has not caught up) does not put it back in the queue. Only a wait that
  started after the action (the customer wrote again) — or a snooze that ran out —
  does. See :func:`kept_waiting`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import marshal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sportello_sdk.models import MEMORY_LIMIT, ChannelState, Message

__all__ = [
    "ERROR_MAX",
    "FIELD_MAX",
    "SNAPSHOT_HEARTBEAT_S",
    "TEXT_MAX",
    "PreparedFetch",
    "field",
    "fingerprint",
    "kept_waiting",
    "message_id_key",
    "message_key",
    "message_row",
    "prepare_fetch",
    "snapshot_figures",
    "storable",
    "text",
    "ts",
    "ts_or_none",
]

FIELD_MAX = 1_000  # subject, customer name/e-mail/phone/handle, assignee, author name
TEXT_MAX = 20_000  # one message's text
ERROR_MAX = 2_000  # a poll's error message
SNAPSHOT_HEARTBEAT_S = 3600.0  # an unchanged queue is snapshotted once an hour
KEY_MAX = 200  # a message's external id longer than this is keyed by its hash

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PreparedFetch:
    """A fetch made storable.

    ``conversations``: rows of (external_id, customer_name, customer_email,
    customer_phone, customer_handle, subject, first_customer_message_at,
    waiting_since, first_response_at, assignee, last_activity_at).
    ``messages``: per external id, rows of (key, author, author_name, sent_at, text).
    ``fingerprints``: per external id, :func:`fingerprint` of its rows and messages.
    """

    conversations: tuple[Row, ...]
    messages: dict[str, list[Row]]
    on_hold: int | None
    longest_hold_s: float | None
    memory: str | None = None  # the channel's memory as JSON; None: keep it as it is
    fingerprints: dict[str, int] = dataclasses.field(default_factory=dict)


# 16 bytes at most; change it when what is stored of a fetch changes
FINGERPRINT_VERSION = b"sportello-fp-v1"


def fingerprint(previous: int | None, row: Row, messages: list[Row]) -> int:
    """A stable 64-bit hash (signed, an SQLite INTEGER) of a prepared conversation row
    and its message rows: what a store keeps of them. ``previous``: the fingerprint
    of the same conversation earlier in the same fetch (a conversation reported twice).

    The same across processes and runs (no ``hash()``): a store keeps it beside the
    conversation, and a fetch whose fingerprint equals the stored one is skipped.
    """
    digest = hashlib.blake2b(digest_size=8, person=FINGERPRINT_VERSION)
    if previous is not None:
        digest.update(previous.to_bytes(8, "little", signed=True))
    # marshal format 2: no back-references (which follow object identity, not
    # value), floats as their 8 bytes; three times as fast as repr().
    digest.update(marshal.dumps((row, messages), 2))
    return int.from_bytes(digest.digest(), "little", signed=True)


def memory_json(memory: object) -> str:
    """A channel's memory as compact JSON; ``ValueError`` naming why it cannot be."""
    if not isinstance(memory, Mapping):
        raise ValueError(f"memory must be a mapping, not {type(memory).__name__}")
    try:
        text = json.dumps(dict(memory), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"memory is not JSON data ({str(exc)[:80]})") from None
    size = len(text.encode("utf-8"))
    if size > MEMORY_LIMIT:
        raise ValueError(f"memory takes {size} bytes, more than {MEMORY_LIMIT}")
    return text


def prepare_fetch(state: ChannelState) -> PreparedFetch:
    conversations: list[Row] = []
    messages: dict[str, list[Row]] = {}
    fingerprints: dict[str, int] = {}
    for conversation in state.conversations:
        external_id = storable(str(conversation.external_id))
        first = ts(conversation.first_customer_message_at)
        waiting = ts_or_none(conversation.waiting_since)
        first_response = ts_or_none(conversation.first_response_at)
        rows = [message_row(message) for message in conversation.messages]
        last_activity = max(
            first,
            waiting if waiting is not None else first,
            first_response if first_response is not None else first,
            *(row[3] for row in rows),
        )
        customer = conversation.customer
        row = (
            external_id,
            field(customer.name),
            field(customer.email),
            field(customer.phone),
            field(customer.handle),
            text(conversation.subject, FIELD_MAX),
            first,
            waiting,
            first_response,
            field(conversation.assignee),
            last_activity,
        )
        conversations.append(row)
        fingerprints[external_id] = fingerprint(fingerprints.get(external_id), row, rows)
        if rows:
            messages.setdefault(external_id, []).extend(rows)
    on_hold = None if state.on_hold is None else int(state.on_hold)
    longest = None if state.longest_hold is None else state.longest_hold.total_seconds()
    memory = None if state.memory is None else memory_json(state.memory)
    return PreparedFetch(tuple(conversations), messages, on_hold, longest, memory, fingerprints)


def snapshot_figures(
    fetch: PreparedFetch, waiting: int, oldest: float | None, fetched_at: float
) -> tuple[int, float | None]:
    """(waiting, oldest waiting since) of the queue snapshot taken after a fetch."""
    if fetch.on_hold is None:
        return waiting, oldest
    if fetch.on_hold > 0 and fetch.longest_hold_s is not None:
        return fetch.on_hold, fetched_at - fetch.longest_hold_s
    return fetch.on_hold, None


def kept_waiting(
    fetched: float | None,
    *,
    handled_at: float | None,
    snoozed_until: float | None,
    now: float,
) -> float | None:
    """The waiting-since a store keeps for a fetched conversation.

    ``handled_at`` is when sportello last answered, closed or snoozed it. A wait
    that started at or before then is the one already handled: not waiting,
    unless the snooze has run out (``snoozed_until`` passed).
    """
    if fetched is None or handled_at is None or fetched > handled_at:
        return fetched
    if snoozed_until is not None and snoozed_until <= now:
        return fetched
    return None


def message_key(message: Message) -> str:
    """The key a message is deduplicated by within its conversation.

    ``id:<external id>`` when the channel gives one (a hash of it when it is very
    long), else ``h:<hash of author, time and text>``.
    """
    if message.external_id:
        return message_id_key(str(message.external_id))
    digest = hashlib.sha256()
    for part in (str(message.author), repr(ts(message.sent_at)), message.text):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return "h:" + digest.hexdigest()[:40]


def message_id_key(external_id: str) -> str:
    """The key of a message the channel gave ``external_id``: the same whether the
    message came in a fetch or was recorded when sportello delivered it."""
    if len(external_id) <= KEY_MAX:
        return "id:" + storable(external_id)
    return "idh:" + hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()


def message_row(message: Message) -> Row:
    return (
        message_key(message),
        str(message.author),
        field(message.author_name),
        ts(message.sent_at),
        text(message.text, TEXT_MAX),
    )


def ts(value: datetime) -> float:
    """Unix seconds. A naive datetime (an adapter bug) is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def ts_or_none(value: datetime | None) -> float | None:
    return None if value is None else ts(value)


def text(value: object, cap: int) -> str:
    """``value`` as text of at most ``cap`` characters that can be stored as UTF-8."""
    out = value if isinstance(value, str) else str(value)
    if len(out) > cap:
        out = out[:cap]
    return storable(out)


def storable(value: str) -> str:
    """``value`` with any lone surrogate (not encodable as UTF-8) replaced by "?"."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    return value


def field(value: object | None) -> str | None:
    return None if value is None else text(value, FIELD_MAX)
