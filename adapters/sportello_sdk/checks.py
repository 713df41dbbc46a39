"""The checks an adapter's declaration and its fetches must pass, as plain functions.

One place for the rules, used by the registry (a plug-in whose declaration cannot
work is refused), by the contract kit (:mod:`sportello_sdk.testing`), by
``sportello check-adapter`` and by the collector's sense checks. Nothing here
raises on bad input or does I/O: every function returns what is wrong, in words
fit to show a plug-in author (and never a secret: values are described by their
type, times and ids are shown, text is not).

- :func:`declaration_problems`: what makes an adapter class unusable (the
  registry skips it); :func:`option_problems`: what else a declaration gets wrong
  (defaults that do not fit their option, a secret with a default…).
- :func:`sense_check` (the collector's own, used by ``sportello.core.state_check``;
  its rules are written above it) and :func:`review_state` (a whole fetch, for the
  kit and ``check-adapter``): each conversation checked on its own. One that
  fails is *dropped* with its reason, what can be repaired is, and said
  (:class:`Fixed`), the rest are kept. Only a state that is not a state at all
  (:func:`state_problems`: a bad memory, a negative hold…) is unusable as a whole.
- :func:`contract_problems`: what the contract asks beyond what the collector
  needs (every time in UTC, not merely aware); :func:`size_notes`: text that
  will be cut when stored.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sportello_sdk.base import Adapter
from sportello_sdk.models import (
    MEMORY_LIMIT,
    Author,
    Capabilities,
    ChannelKind,
    ChannelState,
    Conversation,
    Customer,
    Message,
)
from sportello_sdk.options import Option, OptionError, OptionType, format_duration

__all__ = [
    "CLOCK_SKEW",
    "FIELD_MAX",
    "MAX_CONVERSATIONS",
    "SKEW_S",
    "TEXT_MAX",
    "CheckedConversations",
    "Dropped",
    "Fixed",
    "StateReview",
    "contract_problems",
    "declaration_problems",
    "memory_problem",
    "option_problems",
    "review_state",
    "size_notes",
    "state_problems",
    "time_problem",
]

SKEW_S = 300.0
"""How far (seconds) in the future of our clock a channel's time may be: its clock is
not ours."""
CLOCK_SKEW = timedelta(seconds=SKEW_S)
MAX_CONVERSATIONS = 200_000
# What the store keeps of text (sportello.core.ingest has the same figures; a test
# keeps them equal): longer text is cut, not refused.
FIELD_MAX = 1_000  # subject, customer name/e-mail/phone/handle, assignee, author name
TEXT_MAX = 20_000  # one message's text

_MISSING: Any = object()


# --------------------------------------------------------------------------- words


def kind_of(value: object) -> str:
    """A value's type in words, never its content (it may be a secret)."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, str):
        return "a str"
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _at(value: datetime) -> str:
    try:
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip() or value.isoformat()
    except (ValueError, OverflowError):
        return repr(value)


def _id(value: object) -> str:
    return repr(value[:60]) if isinstance(value, str) else kind_of(value)


# --------------------------------------------------------------------------- the declaration


def _attribute(cls: type, name: str) -> Any:
    try:
        return getattr(cls, name, _MISSING)
    except BaseException:  # a metaclass property may do anything
        return _MISSING


def declaration_problems(cls: object) -> list[str]:
    """What makes ``cls`` unusable as an adapter; empty when it can be used.

    Checked: a subclass of :class:`~sportello_sdk.base.Adapter`; ``name`` a
    non-empty str; ``description`` a str; ``kind`` a ChannelKind;
    ``default_expectation`` a timedelta above zero; ``options`` a tuple (or list)
    of :class:`~sportello_sdk.options.Option` with distinct names and an
    OptionType each; ``capabilities`` a Capabilities; ``connect`` implemented as
    ``@classmethod async def connect(cls, context)``; and ``describe()`` giving
    JSON data.
    """
    if not isinstance(cls, type):
        return [f"is {kind_of(cls)}, not a class"]
    if not issubclass(cls, Adapter):
        hint = ""
        if callable(_attribute(cls, "fetch")):
            hint = " (an adapter of the old contract? see docs/adapters.md)"
        return [f"is not a subclass of sportello_sdk.Adapter{hint}"]
    problems: list[str] = []
    name = _attribute(cls, "name")
    if name is _MISSING:
        problems.append("declares no name (name = 'my-desk')")
    elif not isinstance(name, str) or not name.strip():
        what = "an empty str" if isinstance(name, str) else kind_of(name)
        problems.append(f"name must be a non-empty str, got {what}")
    description = _attribute(cls, "description")
    if not isinstance(description, str):
        problems.append(f"description must be a str, got {kind_of(description)}")
    kind = _attribute(cls, "kind")
    if not isinstance(kind, ChannelKind):
        problems.append(f"kind must be a ChannelKind (ChannelKind.EMAIL…), got {_shown(kind)}")
    expectation = _attribute(cls, "default_expectation")
    if not isinstance(expectation, timedelta):
        problems.append(
            "default_expectation must be a timedelta (timedelta(hours=1)), "
            f"got {_shown(expectation)}"
        )
    elif expectation <= timedelta(0):
        problems.append(
            f"default_expectation must be above zero, got {format_duration(expectation)}"
        )
    problems.extend(_options_problems(_attribute(cls, "options")))
    capabilities = _attribute(cls, "capabilities")
    if not isinstance(capabilities, Capabilities):
        problems.append(
            f"capabilities must be a sportello_sdk.Capabilities, got {kind_of(capabilities)}"
        )
    problems.extend(_connect_problems(cls))
    if not problems:
        problems.extend(_describe_problems(cls))
    return problems


def _shown(value: object) -> str:
    """A declaration's value, shown: declarations hold no secrets, but stay short."""
    if value is _MISSING:
        return "nothing"
    if isinstance(value, str):
        return f"the str {value[:40]!r}"
    return kind_of(value)


def _options_problems(options: object) -> list[str]:
    if options is _MISSING:
        return []  # Adapter's own () is inherited; only a deleted one is missing
    if not isinstance(options, tuple | list):
        return [f"options must be a tuple of sportello_sdk.Option, got {_shown(options)}"]
    problems: list[str] = []
    seen: set[str] = set()
    for index, option in enumerate(options):
        if not isinstance(option, Option):
            problems.append(
                f"options[{index}] must be a sportello_sdk.Option, got {_shown(option)}"
                + (f" (write Option({option[:40]!r}))" if isinstance(option, str) else "")
            )
            continue
        name = option.name
        if not isinstance(name, str) or not name:
            problems.append(f"options[{index}] has no name (got {kind_of(name)})")
            continue
        if name in seen:
            problems.append(f"option {name!r} is declared twice")
        seen.add(name)
        if not isinstance(option.type, OptionType):
            problems.append(
                f"option {name!r}: type must be an OptionType (OptionType.STR…), "
                f"got {_shown(option.type)}"
            )
    return problems


def _connect_problems(cls: type) -> list[str]:
    connect = _attribute(cls, "connect")
    if connect is _MISSING or not callable(connect):
        return ["has no connect(): write @classmethod async def connect(cls, context)"]
    if getattr(connect, "__isabstractmethod__", False):
        return ["does not implement connect(): write @classmethod async def connect(cls, context)"]
    problems: list[str] = []
    if not inspect.iscoroutinefunction(connect):
        problems.append("connect() must be a coroutine function (async def)")
    try:
        inspect.signature(connect).bind(object())
    except TypeError:
        problems.append(
            "connect() must take one argument, the context: "
            "@classmethod async def connect(cls, context)"
        )
    except ValueError:  # no signature to read (a builtin): let the call tell
        pass
    return problems


def _describe_problems(cls: type[Adapter]) -> list[str]:
    try:
        described = cls.describe()
        json.dumps(described, allow_nan=False)
    except BaseException as exc:
        return [f"describe() fails: {type(exc).__name__}"]
    if not isinstance(described, dict):
        return [f"describe() must give a dict, got {kind_of(described)}"]
    return []


def option_problems(options: Sequence[Option]) -> list[str]:
    """What a declaration's options get wrong that still lets the adapter load.

    Assumes :func:`declaration_problems` found nothing wrong with them.
    """
    problems: list[str] = []
    for option in options:
        where = f"option {option.name!r}"
        if not option.name.isidentifier():
            problems.append(f"{where}: a name of letters, digits and _ reads best in config.yaml")
        if not isinstance(option.description, str):
            problems.append(f"{where}: description must be a str")
        if option.secret and option.type is not OptionType.STR:
            problems.append(f"{where}: a secret option must be of type str")
        if option.secret and option.default is not None:
            problems.append(f"{where}: a secret cannot have a default (it would be in the code)")
        if option.required and option.default is not None:
            problems.append(f"{where}: required, so its default is never used")
        if option.choices is not None and (
            not isinstance(option.choices, tuple)
            or not option.choices
            or not all(isinstance(choice, str) for choice in option.choices)
        ):
            problems.append(f"{where}: choices must be a non-empty tuple of str")
        if (
            option.minimum is not None
            and option.maximum is not None
            and option.minimum > option.maximum
        ):
            problems.append(f"{where}: minimum is above maximum")
        if option.default is not None and not option.secret:
            try:
                coerced = option.coerce(option.default)
            except OptionError as exc:
                problems.append(f"{where}: its default does not fit it ({exc})")
            else:
                if coerced != option.default:
                    problems.append(
                        f"{where}: its default changes when checked (write it as "
                        f"{kind_of(coerced)})"
                    )
    return problems


# --------------------------------------------------------------------------- times


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


# --------------------------------------------------------------------------- conversations

SUBJECT_WORDS = 60  # characters of the first message that stand in for a missing subject


# --------------------------------------------------------------------------- a whole fetch


@dataclass(frozen=True, slots=True)
class Dropped:
    """One conversation refused, and why."""

    index: int  # its place in the fetch's conversations
    external_id: str | None  # None when it has no usable id
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        if self.external_id is not None:
            who = f"conversation {_id(self.external_id)}"
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
        return f"conversation {_id(self.external_id)}: {self.what}"


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


@dataclass(frozen=True, slots=True)
class StateReview:
    """What :func:`review_state` found.

    ``problems``: what makes the whole fetch unusable (then ``state`` is ``None``).
    Otherwise ``state`` is the fetch with only the kept conversations (repaired).
    ``kept``: those conversations (also when the state is unusable, when they could
    be checked), ``dropped`` the others with their reasons, ``fixed`` the repairs.
    """

    state: ChannelState | None
    dropped: tuple[Dropped, ...] = ()
    fixed: tuple[Fixed, ...] = ()
    problems: tuple[str, ...] = ()
    kept: tuple[Conversation, ...] = ()

    @property
    def usable(self) -> bool:
        return self.state is not None


def memory_problem(memory: object) -> str | None:
    """Why ``memory`` cannot be saved (not a mapping, not JSON data, over
    ``MEMORY_LIMIT`` bytes); ``None`` when it can (or is ``None``: kept as it was)."""
    if memory is None:
        return None
    if not isinstance(memory, Mapping):
        return f"memory is {kind_of(memory)}, not a mapping"
    try:
        text = json.dumps(dict(memory), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"memory is not JSON data ({type(exc).__name__}: {str(exc)[:80]})"
    size = len(text.encode("utf-8"))
    if size > MEMORY_LIMIT:
        return f"memory takes {size} bytes as JSON, more than {MEMORY_LIMIT}"
    return None


def state_problems(state: object) -> list[str]:
    """What makes a fetch unusable as a whole; empty when its conversations can be
    checked one by one."""
    if not isinstance(state, ChannelState):
        return [f"fetch() returned {kind_of(state)}, not a ChannelState"]
    problems: list[str] = []
    conversations = state.conversations
    if not isinstance(conversations, tuple | list):
        problems.append(f"conversations is {kind_of(conversations)}, not a tuple")
    elif len(conversations) > MAX_CONVERSATIONS:
        problems.append(f"{len(conversations)} conversations, more than {MAX_CONVERSATIONS}")
    if not isinstance(state.complete, bool):
        problems.append(f"complete is {kind_of(state.complete)}, not True or False")
    on_hold = state.on_hold
    if on_hold is not None and (
        isinstance(on_hold, bool) or not isinstance(on_hold, int) or on_hold < 0
    ):
        problems.append(f"on_hold is {_count(on_hold)}, not a count")
    hold = state.longest_hold
    if hold is not None and (not isinstance(hold, timedelta) or hold < timedelta(0)):
        problems.append(f"longest_hold is {_shown(hold)}, not a duration of zero or more")
    memory = memory_problem(state.memory)
    if memory:
        problems.append(memory)
    return problems


def _count(value: object) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else kind_of(value)


def review_state(state: object, now: datetime, *, skew: timedelta = CLOCK_SKEW) -> StateReview:
    """Check one fetch as the collector does: unusable as a whole (``problems``: then
    ``state`` is ``None``, though the conversations are still checked when they can
    be, to tell everything at once), or its conversations kept, repaired or dropped.
    Never raises."""
    problems = state_problems(state)
    if not isinstance(state, ChannelState):
        return StateReview(None, problems=tuple(problems))
    conversations = state.conversations
    if not isinstance(conversations, tuple | list) or len(conversations) > MAX_CONVERSATIONS:
        return StateReview(None, problems=tuple(problems))
    checked = sense_check(conversations, now, skew.total_seconds())
    kept = checked.conversations
    usable = None if problems else replace(state, conversations=kept)
    return StateReview(usable, checked.dropped, checked.fixed, tuple(problems), kept)


# --------------------------------------------------------------------------- the contract's extras


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
                    f"conversation {_id(conversation.external_id)}: {what} is in the time "
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
                    f"conversation {_id(conversation.external_id)}: {name} has {len(value)} "
                    f"characters; only {FIELD_MAX} are kept"
                )
        for index, message in enumerate(conversation.messages):
            if isinstance(message.text, str) and len(message.text) > TEXT_MAX:
                notes.append(
                    f"conversation {_id(conversation.external_id)}: message #{index} has "
                    f"{len(message.text)} characters; only {TEXT_MAX} are kept"
                )
    return notes


# ------------------------------------------------------------- the collector's sense checks
#
# What sportello stores of a fetch (sportello.core.state_check; review_state above
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
            problem = "author", f"its author is {_shown(message.author)}"
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


__all__ += ["NO_CUSTOMER_WORDS", "ROUNDING_S", "sense_check"]
