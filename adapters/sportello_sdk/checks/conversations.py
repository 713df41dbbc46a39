"""The collector's sense checks of a fetch's conversations (:func:`sense_check`,
used by ``sportello.core.state_check``, and through
:func:`~sportello_sdk.checks.fetch.review_state` by the kit): each conversation
checked on its own; one that fails is dropped with its reason, what can be
repaired is, and said, the rest are kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sportello_sdk.checks.words import kind_of, quoted_id, shown
from sportello_sdk.models import Author, Conversation, Customer, Message
from sportello_sdk.options import format_duration

__all__ = [
    "CLOCK_SKEW",
    "NO_CUSTOMER_WORDS",
    "ROUNDING_S",
    "SKEW_S",
    "SUBJECT_WORDS",
    "CheckedConversations",
    "Dropped",
    "Fixed",
    "sense_check",
]

SKEW_S = 300.0
"""How far (seconds) in the future of our clock a channel's time may be: its clock is
not ours."""
CLOCK_SKEW = timedelta(seconds=SKEW_S)
SUBJECT_WORDS = 60  # characters of the first message that stand in for a missing subject


@dataclass(frozen=True, slots=True)
class Dropped:
    """One conversation refused, and why."""

    index: int  # its place in the fetch's conversations
    external_id: str | None  # None when it has no usable id
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        if self.external_id is not None:
            who = f"conversation {quoted_id(self.external_id)}"
        else:
            who = f"conversation #{self.index}"
        return f"{who}: {'; '.join(self.reasons)}"


@dataclass(frozen=True, slots=True)
class Fixed:
    """One conversation kept after a repair (see :func:`sense_check`)."""

    external_id: str
    what: str
    kind: str = "type"  # "subject": a missing subject, normal on chat channels

    def __str__(self) -> str:
        return f"conversation {quoted_id(self.external_id)}: {self.what}"


@dataclass(frozen=True, slots=True)
class CheckedConversations:
    """What :func:`sense_check` made of a fetch's conversations.

    ``conversations``: the ones to store, repaired. ``dropped_ids``: the exact ids
    of the dropped ones (their stored rows must stay as they were);
    ``unidentified``: a dropped one had no usable id (so any stored conversation may
    be it: nothing may leave the queue on this fetch's account).
    """

    conversations: tuple[Conversation, ...] = ()
    dropped: tuple[Dropped, ...] = ()
    fixed: tuple[Fixed, ...] = ()
    dropped_ids: tuple[str, ...] = ()
    unidentified: bool = False


def _as_datetime(now: float | datetime) -> datetime:
    if isinstance(now, datetime):
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return datetime.fromtimestamp(now, UTC)


# ------------------------------------------------------------- the collector's sense checks
#
# What sportello stores of a fetch (sportello.core.state_check; checks.fetch.review_state
# applies the same), repairing what it can and refusing only what it must, so that
# one bad field or one bad message never hides a waiting customer:
#
# - refused (the conversation dropped, with its reason in words for the owner:
#   "waiting since 9999-01-01, in the future (clock skew or a time-zone bug?)"):
#   not a Conversation, no usable id, a customer that is not a Customer, messages
#   that are not a list, a first-message time or waiting-since that is not an
#   aware time or is beyond ``now`` + skew, a waiting-since before the first message
#   (by more than ROUNDING_S: channels that round one of the two to the second);
# - an id seen more than once: the copy kept is **the waiting one** (a copy not
#   waiting would take the customer out of the queue); among several waiting, or
#   none, the one with **the latest activity** (the latest of its first message,
#   wait, first response and messages); on a tie the first listed. The others are
#   dropped ("its id appears twice in this fetch (kept the waiting one)"). Ids are
#   compared as the store keeps them (text UTF-8 cannot hold made "?");
# - repaired and said (Fixed, kind "type"/"message"/"time"): a customer field, the
#   assignee, a message's author name or id that is not text becomes None; a
#   first response that is not an aware time or is in the future is left out; a
#   message that is malformed or sent in the future is left out of its conversation;
# - a subject that is None, empty or not text: the first words of the first
#   customer message (SUBJECT_WORDS characters at most, "…"), or "—" when there is
#   none (Fixed kind "subject": normal on chat channels; not text is also a "type").

ROUNDING_S = 1.0
NO_CUSTOMER_WORDS = "—"  # the subject when nothing stands in for it
_ROUNDING = timedelta(seconds=ROUNDING_S)
_FAR = timedelta(days=1)  # a time further in the future is shown as its day alone
_SKEW_HINT = "(clock skew or a time-zone bug?)"


def sense_check(
    conversations: Sequence[object], now: float | datetime, skew_s: float = SKEW_S
) -> CheckedConversations:
    """The collector's checks of one fetch's conversations, made at ``now``; see above.

    Never raises. Fast on the common case (100,000 good conversations).
    """
    instant = _as_datetime(now)
    latest = instant + timedelta(seconds=skew_s)
    kept: list[tuple[int, Conversation]] = []
    dropped: list[Dropped] = []
    fixed: list[Fixed] = []
    unidentified = False
    for index, item in enumerate(conversations):
        try:
            outcome = _sense_one(item, index, instant, latest, fixed)
        except Exception as exc:  # a field whose comparison raises: refuse, never fail
            usable = _usable_id(item)
            outcome = Dropped(index, usable, (f"cannot be checked ({type(exc).__name__})",))
        if isinstance(outcome, Dropped):
            dropped.append(outcome)
            unidentified = unidentified or outcome.external_id is None
        else:
            kept.append((index, outcome))
    good, lost = _one_per_id(kept)
    dropped.extend(lost)
    ids: tuple[str, ...] = ()
    if any(d.external_id is not None for d in dropped):
        kept_ids = {_stored_id(conversation.external_id) for conversation in good}
        ids = tuple(
            dict.fromkeys(
                d.external_id
                for d in dropped
                if d.external_id is not None and _stored_id(d.external_id) not in kept_ids
            )
        )
    return CheckedConversations(tuple(good), tuple(dropped), tuple(fixed), ids, unidentified)


def _usable_id(item: object) -> str | None:
    external_id = getattr(item, "external_id", None) if isinstance(item, Conversation) else None
    return external_id if isinstance(external_id, str) and external_id.strip() else None


def _sense_one(
    item: object, index: int, now: datetime, latest: datetime, fixed: list[Fixed]
) -> Dropped | Conversation:
    if not isinstance(item, Conversation):
        return Dropped(index, None, (f"is {kind_of(item)}, not a conversation",))
    external_id = item.external_id
    if not isinstance(external_id, str) or not external_id.strip():
        what = "empty" if isinstance(external_id, str) else f"{kind_of(external_id)}, not text"
        return Dropped(index, None, (f"its id is {what}",))
    first = item.first_customer_message_at
    problem = _sense_time(first, "first message", now, latest)
    if problem is not None:
        return Dropped(index, external_id, (problem,))
    waiting = item.waiting_since
    if waiting is not None:
        problem = _sense_time(waiting, "waiting since", now, latest)
        if problem is not None:
            return Dropped(index, external_id, (problem,))
        early = first - waiting
        if early > _ROUNDING:
            words = f"waiting since before its first message (by {format_duration(early)})"
            return Dropped(index, external_id, (words,))
    customer = item.customer
    if type(customer) is not Customer or not (
        (customer.name is None or type(customer.name) is str)
        and (customer.email is None or type(customer.email) is str)
        and (customer.phone is None or type(customer.phone) is str)
        and (customer.handle is None or type(customer.handle) is str)
    ):
        if not isinstance(customer, Customer):
            words = f"its customer is {kind_of(customer)}, not a sportello_sdk.Customer"
            return Dropped(index, external_id, (words,))
        customer = _sense_customer(customer, external_id, fixed)
    messages: Sequence[Message] = item.messages
    if not isinstance(messages, tuple | list):
        return Dropped(index, external_id, (f"its messages are {kind_of(messages)}, not a list",))
    changed = customer is not item.customer
    if not _messages_fine(messages, latest):
        messages, changed = _sense_messages(messages, external_id, now, latest, fixed), True
    first_response = item.first_response_at
    if first_response is not None:
        problem = _sense_time(first_response, "first response", now, latest)
        if problem is not None:
            fixed.append(Fixed(external_id, f"{problem}: left out", "time"))
            first_response, changed = None, True
    subject = item.subject
    if type(subject) is not str or not subject or subject.isspace():
        if subject is not None and not isinstance(subject, str):
            fixed.append(Fixed(external_id, f"subject is {kind_of(subject)}, not text", "type"))
        subject = _customer_subject(messages)
        if subject == NO_CUSTOMER_WORDS:
            words = "no subject, and no customer words to stand in"
        else:
            words = "no subject: the first words of its first customer message stand in"
        fixed.append(Fixed(external_id, words, "subject"))
        changed = True
    assignee = item.assignee
    if assignee is not None and not isinstance(assignee, str):
        fixed.append(Fixed(external_id, f"assignee is {kind_of(assignee)}, not text: left out"))
        assignee, changed = None, True
    if not changed:
        return item
    return Conversation(
        external_id=external_id,
        customer=customer,
        subject=subject,
        first_customer_message_at=first,
        waiting_since=waiting,
        first_response_at=first_response,
        messages=tuple(messages),
        assignee=assignee,
    )


def _sense_time(value: object, what: str, now: datetime, latest: datetime) -> str | None:
    """Why ``value`` cannot be the time ``what`` (in the owner's words), or None."""
    if type(value) is datetime and value.tzinfo is UTC:  # the common case, fast
        return None if value <= latest else _future_words(what, value, now)
    if not isinstance(value, datetime):
        return f"{what}: {kind_of(value)}, not a time"
    if value.tzinfo is None or value.utcoffset() is None:
        return f"{what}: a time without a time zone"
    return None if value <= latest else _future_words(what, value, now)


def _future_words(what: str, value: datetime, now: datetime) -> str:
    """``waiting since 9999-01-01, in the future (clock skew or a time-zone bug?)``;
    ``… 2026-01-01 14:00 UTC, 2h00m in the future (…)`` when it is less than a day."""
    ahead = value - now
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):  # 9999-12-31 23:00 at UTC-5 is past year 9999
        return f"{what} {value.isoformat()[:16]}, in the future {_SKEW_HINT}"
    if ahead > _FAR:
        return f"{what} {utc:%Y-%m-%d}, in the future {_SKEW_HINT}"
    return f"{what} {utc:%Y-%m-%d %H:%M} UTC, {format_duration(ahead)} in the future {_SKEW_HINT}"


def _sense_customer(customer: Customer, external_id: str, fixed: list[Fixed]) -> Customer:
    values: dict[str, str | None] = {}
    labels = (("name", "name"), ("email", "e-mail"), ("phone", "phone"), ("handle", "handle"))
    for field, label in labels:
        value = getattr(customer, field)
        if value is None or isinstance(value, str):
            values[field] = value
        else:
            words = f"customer {label} is {kind_of(value)}, not text: left out"
            fixed.append(Fixed(external_id, words))
            values[field] = None
    return Customer(**values)


def _messages_fine(messages: Sequence[object], latest: datetime) -> bool:
    """Every message well-formed and not in the future (the fast path)."""
    for message in messages:
        if type(message) is not Message:
            return False
        at = message.sent_at
        if (
            type(at) is not datetime
            or at.tzinfo is not UTC
            or at > latest
            or type(message.author) is not Author
            or type(message.text) is not str
            or not (message.author_name is None or type(message.author_name) is str)
            or not (message.external_id is None or type(message.external_id) is str)
        ):
            return False
    return True


def _sense_messages(
    messages: Sequence[object],
    external_id: str,
    now: datetime,
    latest: datetime,
    fixed: list[Fixed],
) -> list[Message]:
    """The messages to keep: malformed ones and ones sent in the future left out."""
    good: list[Message] = []
    left_out: dict[str, tuple[str, int]] = {}  # kind of problem: (the first in words, count)
    for message in messages:
        problem: tuple[str, str] | None = None
        if not isinstance(message, Message):
            problem = "type", f"{kind_of(message)}, not a message"
        elif not isinstance(message.author, Author):
            problem = "author", f"its author is {shown(message.author)}"
        elif not isinstance(message.text, str):
            problem = "text", f"its text is {kind_of(message.text)}"
        else:
            words = _sense_time(message.sent_at, "sent", now, latest)
            if words is not None:
                problem = "time", words
        if problem is not None or not isinstance(message, Message):
            kind, words = problem or ("type", "malformed")
            first_words, count = left_out.get(kind, (words, 0))
            left_out[kind] = first_words, count + 1
            continue
        author_name, message_id = message.author_name, message.external_id
        bad = [
            label
            for label, value in (("author name", author_name), ("id", message_id))
            if value is not None and not isinstance(value, str)
        ]
        if bad:
            fixed.append(Fixed(external_id, f"a message's {' and '.join(bad)} not text: left out"))
            message = Message(
                author=message.author,
                sent_at=message.sent_at,
                text=message.text,
                external_id=message_id if isinstance(message_id, str) else None,
                author_name=author_name if isinstance(author_name, str) else None,
            )
        good.append(message)
    for words, count in left_out.values():
        what = "a message" if count == 1 else f"{count} messages (the first:"
        tail = "" if count == 1 else ")"
        fixed.append(Fixed(external_id, f"{what} {words}{tail}: left out", "message"))
    return good


def _customer_subject(messages: Sequence[Message]) -> str:
    """The first words of the first customer message with words, or "—"."""
    for message in messages:
        if message.author is not Author.CUSTOMER:
            continue
        words = " ".join(message.text[: SUBJECT_WORDS * 4].split())
        if words:
            if len(words) <= SUBJECT_WORDS:
                return words
            cut = words[: SUBJECT_WORDS - 1]
            space = cut.rfind(" ")
            if space >= SUBJECT_WORDS // 2:
                cut = cut[:space]
            return cut.rstrip() + "…"
    return NO_CUSTOMER_WORDS


def _one_per_id(
    kept: list[tuple[int, Conversation]],
) -> tuple[list[Conversation], list[Dropped]]:
    """One conversation per id (the waiting one, else the latest activity); the rest dropped."""
    best: dict[str, int] = {}  # stored id: its place in kept
    copies: dict[str, list[int]] = {}
    for place, (_, conversation) in enumerate(kept):
        key = _stored_id(conversation.external_id)
        held = best.get(key)
        if held is None:
            best[key] = place
            continue
        copies.setdefault(key, [held]).append(place)
    if not copies:
        return [conversation for _, conversation in kept], []
    lost: list[Dropped] = []
    losers: set[int] = set()
    for places in copies.values():
        winner = max(places, key=lambda place: (*_rank(kept[place][1]), -place))
        conversation = kept[winner][1]
        times = "twice" if len(places) == 2 else f"{len(places)} times"
        which = "the waiting one" if conversation.waiting_since is not None else "the latest one"
        words = f"its id appears {times} in this fetch (kept {which})"
        for place in places:
            if place != winner:
                losers.add(place)
                index, loser = kept[place]
                lost.append(Dropped(index, loser.external_id, (words,)))
    good = [conversation for place, (_, conversation) in enumerate(kept) if place not in losers]
    return good, lost


def _rank(conversation: Conversation) -> tuple[bool, float]:
    """(waiting, latest activity): the larger wins among copies of one id."""
    times = [
        conversation.first_customer_message_at,
        conversation.waiting_since,
        conversation.first_response_at,
        *(message.sent_at for message in conversation.messages),
    ]
    latest = max(t.timestamp() for t in times if t is not None)
    return conversation.waiting_since is not None, latest


def _stored_id(external_id: str) -> str:
    """The id as a store keeps it: text UTF-8 cannot hold (a lone surrogate) made "?"."""
    if not external_id.isascii():
        try:
            external_id.encode("utf-8")
        except UnicodeEncodeError:
            return external_id.encode("utf-8", "replace").decode("utf-8")
    return external_id
