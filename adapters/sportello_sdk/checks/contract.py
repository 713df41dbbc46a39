"""What the contract asks beyond what the collector needs (for the kit and
``sportello check-adapter``): every time in UTC, an action's time not in the future,
and text that will be cut when stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sportello_sdk.checks.conversations import CLOCK_SKEW
from sportello_sdk.checks.words import kind_of, quoted_id
from sportello_sdk.models import Conversation
from sportello_sdk.options import format_duration

__all__ = ["FIELD_MAX", "TEXT_MAX", "contract_problems", "size_notes", "time_problem"]

# What the store keeps of text (sportello.core.ingest has the same figures; a test
# keeps them equal): longer text is cut, not refused.
FIELD_MAX = 1_000  # subject, customer name/e-mail/phone/handle, assignee, author name
TEXT_MAX = 20_000  # one message's text


def _at(value: datetime) -> str:
    try:
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip() or value.isoformat()
    except (ValueError, OverflowError):
        return repr(value)


def time_problem(
    value: object,
    what: str,
    now: datetime,
    *,
    skew: timedelta = CLOCK_SKEW,
    optional: bool = False,
) -> str | None:
    """Why ``value`` cannot be the time ``what``: not a datetime, no time zone, or
    later than ``now`` + ``skew``. ``None`` when it is fine (or ``None`` and
    ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, datetime):
        return f"{what} is {kind_of(value)}, not a datetime"
    if value.tzinfo is None or value.utcoffset() is None:
        return f"{what} has no time zone (give aware times in UTC: datetime(…, tzinfo=UTC))"
    try:
        ahead = value - now
    except (OverflowError, TypeError):
        return f"{what} cannot be compared with the clock"
    if ahead > skew:
        hint = ""
        hours = ahead.total_seconds() / 3600
        if hours <= 14.5 and abs(hours - round(hours)) * 60 <= skew.total_seconds() / 60:
            hint = ": a local time labelled UTC?"
        return (
            f"{what} {_at(value)} is {format_duration(ahead)} in the future "
            f"(the clock says {_at(now)}){hint}"
        )
    return None


def _times_of(conversation: Conversation) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = [
        ("first_customer_message_at", conversation.first_customer_message_at),
        ("waiting_since", conversation.waiting_since),
        ("first_response_at", conversation.first_response_at),
    ]
    for index, message in enumerate(conversation.messages):
        found.append((f"message #{index} sent_at", message.sent_at))
    return found


def contract_problems(conversations: Sequence[Conversation]) -> list[str]:
    """What the contract asks of conversations the collector would still store:
    every time in UTC (an aware time in another zone is read right, but is usually
    a sign of a time-zone slip elsewhere)."""
    problems: list[str] = []
    for conversation in conversations:
        for what, value in _times_of(conversation):
            if not isinstance(value, datetime) or value.utcoffset() is None:
                continue
            if value.utcoffset() != timedelta(0):
                problems.append(
                    f"conversation {quoted_id(conversation.external_id)}: {what} is in the time "
                    f"zone {value.tzname() or value.utcoffset()}; give times in UTC "
                    "(value.astimezone(UTC))"
                )
    return problems


def size_notes(conversations: Sequence[Conversation]) -> list[str]:
    """Text that will be cut when stored (not an error: the channel may say more)."""
    notes: list[str] = []
    for conversation in conversations:
        fields = [("subject", conversation.subject), ("assignee", conversation.assignee)]
        customer = conversation.customer
        fields += [(f"customer.{name}", getattr(customer, name)) for name in ("name", "email")]
        for name, value in fields:
            if isinstance(value, str) and len(value) > FIELD_MAX:
                notes.append(
                    f"conversation {quoted_id(conversation.external_id)}: {name} has {len(value)} "
                    f"characters; only {FIELD_MAX} are kept"
                )
        for index, message in enumerate(conversation.messages):
            if isinstance(message.text, str) and len(message.text) > TEXT_MAX:
                notes.append(
                    f"conversation {quoted_id(conversation.external_id)}: message #{index} has "
                    f"{len(message.text)} characters; only {TEXT_MAX} are kept"
                )
    return notes
