"""The demo adapter: the channels of a simulated shop, Bottega Rossi.

It is the embedded default, so that a new user sees a living dashboard in the first
minute, and the traffic source of tests and benchmarks. Every demo channel has a
``profile`` (email, chat, phone, facebook, telegram) that shapes its traffic.

The world is a pure function of ``(seed, channel id, profile)`` and the clock:

- Time is cut in 10-minute buckets. Each bucket has its own random stream, seeded
  from the seed, the channel and the bucket number, which decides how many
  customers arrive in it (a Poisson draw whose rate follows the time of day in
  Europe/Rome, quieter at night and at weekends) and the whole story of each
  conversation: who writes, about what, when the shop answers (a delay drawn
  around the channel's expectation, counted in working time), and whether the
  customer writes again. Staff answer Mon-Fri 9-13 and 14-19:30, Sat 9-13; the
  owner also clears e-mail and social messages 21-23 every evening; the chat is
  offline outside staff hours; the phone line is open Mon-Fri 9-13 and
  15:30-19:30, Sat 9-13, and its queue is empty otherwise.
- ``fetch()`` replays the buckets of the last five days (one day for the phone)
  and reports each conversation as it stands at the clock's now: waiting ones, and
  the ones answered in the last 24 hours so that first response times exist.
  Another process with the same seed sees the same world; only what the user did
  is stored.
- Now and then a customer who got no answer writes on a second channel; those
  events are seeded from the seed alone, so two demo channels with different
  profiles agree on them ("also on Facebook").
- ``act()`` (reply, close, assign, snooze, reopen) changes the world through a
  durable record of what the channel accepted (:mod:`sportello_demo.record`), one
  fsynced JSON line per action written before ``act()`` answers. The adapter
  reads the record when it first needs it and again whenever it grew, so after a
  restart the conversations look as they did, ``lookup()`` answers by key, and a
  line that another tool appended (``answer_elsewhere``) shows as a business
  message. After a reply or a close the customer may write again a few minutes
  later (drawn from the seed and the conversation), which puts the conversation
  back in the queue.

``scale: N`` replaces the simulation with exactly N waiting conversations (for
benchmarks): N slots, each holding one conversation that is replaced by a new
one when its simulated lifetime ends (minutes to hours for one slot in 20, days
for the rest). It is cheap: one message per conversation.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, TypeGuard, TypeVar
from zoneinfo import ZoneInfo

from sportello_demo import data
from sportello_demo.record import ELSEWHERE, RecordTail, record_path
from sportello_sdk.base import Adapter, Clock, utc_now
from sportello_sdk.errors import ConnectionFailed, ProtocolError
from sportello_sdk.models import (
    ActionKind,
    ActionRequest,
    ActionResult,
    Author,
    Capabilities,
    ChannelKind,
    ChannelState,
    Conversation,
    Customer,
    Message,
)
from sportello_sdk.options import Option, OptionType

ROME = ZoneInfo("Europe/Rome")

PROFILES = ("email", "chat", "phone", "facebook", "telegram")

BUCKET_S = 600  # arrivals are drawn per 10-minute bucket
ECHO_BUCKET_S = 3600  # cross-channel customers are drawn per hour
MAX_THREAD_S = 96 * 3600  # every simulated thread ends within four days of its start
RECENT_S = 24 * 3600  # answered conversations are reported for a day
WINDOW_S = MAX_THREAD_S + RECENT_S
PHONE_WINDOW_S = RECENT_S + 3600
MAX_MESSAGES = 6  # the last messages of a thread reported by fetch()
THREAD_AFTER_S = 1000  # scale >= this: generate in a worker thread
SCALE_ANSWERED = 200  # scale mode: at most this many recently answered conversations
SCALE_LIVELY = 20  # scale mode: one slot in 20 turns over within a few expectations
SCALE_STILL_S = 2 * 86400  # ...the others last two to eight days

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15

T = TypeVar("T")


# --------------------------------------------------------------------------- randomness


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of a 64-bit integer."""
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _key(*parts: object) -> int:
    """A stable 64-bit key (Python's ``hash()`` of text changes between processes)."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _sub(key: int, n: int) -> int:
    return _mix(key ^ _mix(n & _MASK))


class _Rand:
    """A small, fast, reproducible random stream (splitmix64)."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def random(self) -> float:
        self._state = (self._state + _GOLDEN) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return ((z ^ (z >> 31)) >> 11) * (1.0 / (1 << 53))

    def below(self, n: int) -> int:
        return min(int(self.random() * n), n - 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def chance(self, p: float) -> bool:
        return self.random() < p

    def choice(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def expo(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.random())

    def gauss(self) -> float:
        u1 = 1.0 - self.random()
        u2 = self.random()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 30:  # only with a large rate multiplier: the normal approximation
            return max(0, round(lam + math.sqrt(lam) * self.gauss()))
        limit = math.exp(-lam)
        k = 0
        p = self.random()
        while p > limit:
            k += 1
            p *= self.random()
        return k


# --------------------------------------------------------------------------- hours

# Minutes after local midnight, Monday first. Europe/Rome.
Week = tuple[tuple[tuple[int, int], ...], ...]
AGENT_HOURS: Week = (  # when someone at the shop answers messages
    ((540, 780), (840, 1170)),  # Mon 9:00-13:00, 14:00-19:30
    ((540, 780), (840, 1170)),
    ((540, 780), (840, 1170)),
    ((540, 780), (840, 1170)),
    ((540, 780), (840, 1170)),
    ((540, 780),),  # Sat 9:00-13:00
    (),  # Sun closed
)
PHONE_HOURS: Week = (  # when the phone line is open
    ((540, 780), (930, 1170)),  # Mon 9:00-13:00, 15:30-19:30
    ((540, 780), (930, 1170)),
    ((540, 780), (930, 1170)),
    ((540, 780), (930, 1170)),
    ((540, 780), (930, 1170)),
    ((540, 780),),  # Sat 9:00-13:00
    (),
)
OWNER_HOURS: Week = tuple(  # the staff's hours plus the owner's evening on the phone
    (*day, (1260, 1380)) for day in AGENT_HOURS
)  # every evening 21:00-23:00
_WEEKS = (AGENT_HOURS, OWNER_HOURS, PHONE_HOURS)
_AGENT, _OWNER, _PHONE = 0, 1, 2


@lru_cache(maxsize=8192)
def _day_spans(week: int, ordinal: int) -> tuple[tuple[float, float], ...]:
    """The open spans of one local day, as Unix seconds."""
    day = date.fromordinal(ordinal)
    spans = []
    for start, end in _WEEKS[week][day.weekday()]:
        opens = datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=ROME)
        closes = datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=ROME)
        spans.append((opens.timestamp(), closes.timestamp()))
    return tuple(spans)


def _ordinal(t: float) -> int:
    return datetime.fromtimestamp(t, ROME).toordinal()


def _is_open(t: float, week: int) -> bool:
    return any(start <= t < end for start, end in _day_spans(week, _ordinal(t)))


def _span_end(t: float, week: int) -> float | None:
    """The end of the open span that holds ``t``, if it is open."""
    for start, end in _day_spans(week, _ordinal(t)):
        if start <= t < end:
            return end
    return None


def _awake(t: float, rng: _Rand) -> float:
    """``t``, or a time the next morning when ``t`` is in the dead of night."""
    local = datetime.fromtimestamp(t, ROME)
    if 1 <= local.hour < 7:
        morning = local.replace(hour=7, minute=0, second=0, microsecond=0)
        return int(morning.timestamp() + rng.uniform(0, 3 * 3600))
    return t


def _add_open(t: float, seconds: float, week: int) -> float:
    """The instant ``seconds`` of open time after ``t`` (the next opening if 0)."""
    first = _ordinal(t)
    for ordinal in range(first, first + 60):
        for start, end in _day_spans(week, ordinal):
            if end <= t:
                continue
            begin = max(start, t)
            if seconds <= end - begin:
                return begin + seconds
            seconds -= end - begin
    return t + seconds  # unreachable with the weeks above


# Relative arrival rate by local hour (0-23), interpolated linearly; 1.0 is the peak.
_SHAPE_MESSAGES = (
    0.08, 0.04, 0.02, 0.02, 0.02, 0.04, 0.10, 0.25, 0.50, 0.80, 1.00, 1.00,
    0.80, 0.60, 0.60, 0.75, 0.90, 0.95, 0.85, 0.60, 0.45, 0.40, 0.30, 0.15,
)  # fmt: skip
_SHAPE_SOCIAL = (
    0.12, 0.06, 0.03, 0.02, 0.02, 0.03, 0.08, 0.20, 0.40, 0.60, 0.80, 0.85,
    0.80, 0.75, 0.65, 0.70, 0.80, 0.90, 0.95, 0.90, 0.90, 1.00, 0.70, 0.35,
)  # fmt: skip
_SHAPE_PHONE = (
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.8, 1.0, 1.0,
    0.8, 0.5, 0.4, 0.5, 0.8, 0.9, 0.9, 0.6, 0.2, 0.0, 0.0, 0.0,
)  # fmt: skip
_WEEKDAY = (1.1, 1.0, 1.0, 1.0, 1.0, 0.6, 0.4)  # Monday's backlog, quiet weekends


def _shape(local: datetime, shape: tuple[float, ...]) -> float:
    hour = local.hour + local.minute / 60.0
    low = int(hour)
    frac = hour - low
    value = shape[low] * (1.0 - frac) + shape[(low + 1) % 24] * frac
    return value * _WEEKDAY[local.weekday()]


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True, slots=True)
class _Profile:
    name: str
    tag: str  # prefix of external ids
    kind: ChannelKind
    expectation: timedelta
    peak_per_hour: float  # arrivals per hour at the busiest time of a weekday
    shape: tuple[float, ...]
    # (probability, low, high) in seconds of working time, tried in order; the
    # first band is the usual answer, later ones are late.
    delays: tuple[tuple[float, float, float], ...]
    more_gap: tuple[float, float]  # a second customer message, seconds after the first
    followup_gap: tuple[float, float]  # the customer again after an answer
    p_more: float = 0.2
    p_followup: float = 0.25
    answer_hours: int = _OWNER  # when answers are written (email and social: evenings too)
    offline_share: float = 1.0  # arrival rate outside agent hours (chat is "offline")
    finish_by_close: bool = False  # what arrived while open is answered before closing
    # The customer again after the user answered or closed: how likely, how soon.
    p_again: float = 0.2
    again_gap: tuple[float, float] = (2 * 60, 40 * 60)


_PROFILES: dict[str, _Profile] = {
    "email": _Profile(
        "email",
        "em",
        ChannelKind.EMAIL,
        timedelta(hours=4),
        2.5,
        _SHAPE_MESSAGES,
        delays=((0.80, 600, 9000), (0.14, 3 * 3600, 6 * 3600), (1.0, 8 * 3600, 14 * 3600)),
        more_gap=(300, 3600),
        followup_gap=(1800, 20 * 3600),
    ),
    "chat": _Profile(
        "chat",
        "ch",
        ChannelKind.CHAT,
        timedelta(minutes=5),
        6.0,
        _SHAPE_MESSAGES,
        delays=((0.60, 30, 300), (0.30, 300, 900), (1.0, 1200, 3600)),
        more_gap=(15, 120),
        followup_gap=(30, 300),
        p_more=0.35,
        p_followup=0.3,
        p_again=0.3,
        offline_share=0.02,
        finish_by_close=True,
        answer_hours=_AGENT,
    ),
    "phone": _Profile(
        "phone",
        "ph",
        ChannelKind.PHONE,
        timedelta(minutes=2),
        14.0,
        _SHAPE_PHONE,
        delays=(),
        more_gap=(0, 0),
        followup_gap=(0, 0),
        p_again=0.0,  # a caller who was answered does not call back on their own
    ),
    "facebook": _Profile(
        "facebook",
        "fb",
        ChannelKind.SOCIAL,
        timedelta(hours=1),
        1.0,
        _SHAPE_SOCIAL,
        delays=((0.60, 300, 3000), (0.28, 3600, 4 * 3600), (1.0, 6 * 3600, 16 * 3600)),
        more_gap=(60, 900),
        followup_gap=(600, 6 * 3600),
        p_again=0.25,
    ),
    "telegram": _Profile(
        "telegram",
        "tg",
        ChannelKind.SOCIAL,
        timedelta(hours=1),
        0.7,
        _SHAPE_SOCIAL,
        delays=((0.70, 180, 2400), (0.25, 3600, 3 * 3600), (1.0, 5 * 3600, 12 * 3600)),
        more_gap=(20, 300),
        followup_gap=(300, 4 * 3600),
        p_more=0.3,
        p_again=0.25,
    ),
}


# --------------------------------------------------------------------------- people


@dataclass(frozen=True, slots=True)
class _Person:
    first: str
    last: str
    lang: str
    email: str
    phone: str
    telegram: str
    facebook: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _phone_number(lang: str, n: int) -> str:
    if lang == "it":
        return f"+39 3{20 + n % 80} 555 {n // 80 % 10000:04d}"
    return f"+44 7700 900{n % 1000:03d}"


def _make_person(rng: _Rand, lang: str) -> _Person:
    first = rng.choice(data.FIRST_NAMES[lang])
    last = rng.choice(data.LAST_NAMES[lang])
    a, b = _ascii(first), _ascii(last)
    digits = rng.below(90) + 10
    local = rng.choice((f"{a}.{b}", f"{a[0]}{b}", f"{a}{b}{digits}", f"{a}.{b}{digits}"))
    return _Person(
        first=first,
        last=last,
        lang=lang,
        email=f"{local}@{rng.choice(data.EMAIL_DOMAINS[lang])}",
        phone=_phone_number(lang, rng.below(800_000)),
        telegram=f"@{a}_{b}{digits}",
        facebook=f"{a}.{b}.{rng.below(900) + 100}",
    )


@lru_cache(maxsize=16)
def _people(seed: int) -> tuple[_Person, ...]:
    """The shop's customers for one seed, shared by every channel."""
    rng = _Rand(_key("people", seed))
    return tuple(
        _make_person(rng, "it" if rng.chance(data.ITALIAN_SHARE) else "en") for _ in range(400)
    )


def _customer(profile: str, person: _Person, rng: _Rand, known: bool) -> Customer:
    """What each kind of channel knows about a person; ``known``: they are in contacts."""
    if profile == "email":
        return Customer(name=person.full, email=person.email)
    if profile == "chat":
        email = person.email if known or rng.chance(0.6) else None
        return Customer(name=person.full if known or rng.chance(0.5) else person.first, email=email)
    if profile == "phone":
        return Customer(name=person.full if known or rng.chance(0.4) else None, phone=person.phone)
    if profile == "facebook":
        return Customer(name=person.full, handle=person.facebook)
    name = person.full if known or rng.chance(0.5) else person.first
    return Customer(name=name, handle=person.telegram)


# --------------------------------------------------------------------------- threads


@dataclass(frozen=True, slots=True)
class _Event:
    at: float
    author: Author
    text: str
    author_name: str | None = None


@dataclass(frozen=True, slots=True)
class _Thread:
    """One simulated conversation, from its first message to its end, independent of now."""

    external_id: str
    start: float
    customer: Customer
    subject: str
    events: tuple[_Event, ...]  # oldest first; the first is the customer's
    assignee: str | None = None
    ends_at: float | None = None  # a phone caller hung up: no longer waiting
    phone: bool = False
    lang: str = "it"
    # What the customer may write after the user's answer, and its placeholders'
    # values (filled only when a customer does write again).
    followups: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()

    def again_text(self, draw: int) -> str:
        """The customer's message after the user answered or closed."""
        if not self.followups:
            texts = data.FOLLOW_UPS[self.lang]
            return texts[draw % len(texts)]
        return _fill(self.followups[draw % len(self.followups)], dict(self.values))


# A business message the simulation did not write: (at, text, message id, author name).
_Reply = tuple[float, str, str, str | None]


@dataclass(slots=True)
class _Actions:
    """What the channel accepted (the record, applied), by conversation external id.

    ``replies`` holds the user's replies and the answers given elsewhere;
    ``again`` the customer's messages after the user answered or closed, as
    (when, a draw that picks the text).
    """

    replies: dict[str, list[_Reply]] = field(default_factory=dict)
    closed: dict[str, float] = field(default_factory=dict)
    snoozed: dict[str, tuple[float, float]] = field(default_factory=dict)  # (when, until)
    assigned: dict[str, str] = field(default_factory=dict)
    again: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)  # the user's replies and closes

    def copy(self) -> _Actions:
        return _Actions(
            {key: list(value) for key, value in self.replies.items()},
            dict(self.closed),
            dict(self.snoozed),
            dict(self.assigned),
            {key: list(value) for key, value in self.again.items()},
            dict(self.answered),
        )

    def touched(self, external_id: str) -> bool:
        return (
            external_id in self.replies
            or external_id in self.closed
            or external_id in self.snoozed
            or external_id in self.assigned
        )


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _fill(text: str, values: Mapping[str, str]) -> str:
    filled = text.format_map(values)
    return filled[:1].upper() + filled[1:]


def _materialise(thread: _Thread, now: float, acts: _Actions) -> Conversation | None:
    """The thread as it stands at ``now``; ``None`` when it is not worth reporting."""
    key = thread.external_id
    user_replies = acts.replies.get(key)
    again = acts.again.get(key)
    cut = now
    if user_replies:  # the simulated shop does not answer after the user did
        cut = min(now, min(reply[0] for reply in user_replies))
    events: list[_Event] = [e for e in thread.events if e.at <= cut]
    ids = [f"{key}/m{i}" for i in range(len(events))]
    if user_replies or again:
        added: list[tuple[_Event, str]] = [
            (_Event(at, Author.BUSINESS, text, author_name), message_id)
            for at, text, message_id, author_name in user_replies or ()
            if at <= now
        ]
        added.extend(
            (_Event(at, Author.CUSTOMER, thread.again_text(draw)), f"{key}/a{n}")
            for n, (at, draw) in enumerate(again or ())
            if at <= now
        )
        if added:
            merged = sorted([*zip(events, ids, strict=True), *added], key=lambda pair: pair[0].at)
            events = [event for event, _ in merged]
            ids = [message_id for _, message_id in merged]
    if not events or events[0].author is not Author.CUSTOMER:
        return None

    waiting_since: float | None = None
    first_response: float | None = None
    for event in events:
        if event.author is Author.BUSINESS:
            waiting_since = None
            if first_response is None:
                first_response = event.at
        elif waiting_since is None:
            waiting_since = event.at
    last_activity = events[-1].at
    ended = thread.ends_at is not None and thread.ends_at <= now
    if ended:
        last_activity = max(last_activity, thread.ends_at or 0.0)
    if ended:
        waiting_since = None
    # Closing or snoozing hides what is waiting until the customer writes again.
    closed_at = acts.closed.get(key)
    if closed_at is not None:
        waiting_since = _written_after(events, waiting_since, closed_at)
    snoozed = acts.snoozed.get(key)
    if snoozed is not None and snoozed[1] > now:
        waiting_since = _written_after(events, waiting_since, snoozed[0])
    if waiting_since is None and last_activity < now - RECENT_S:
        return None

    subject = thread.subject
    if thread.phone:
        if waiting_since is not None:
            subject = data.PHONE_SUBJECT_WAITING
        elif first_response is not None:
            subject = data.PHONE_SUBJECT_ANSWERED
        else:
            subject = data.PHONE_SUBJECT_MISSED
    shown = range(max(0, len(events) - MAX_MESSAGES), len(events))
    return Conversation(
        external_id=key,
        customer=thread.customer,
        subject=subject,
        first_customer_message_at=_dt(events[0].at),
        waiting_since=None if waiting_since is None else _dt(waiting_since),
        first_response_at=None if first_response is None else _dt(first_response),
        messages=tuple(
            Message(
                author=events[i].author,
                sent_at=_dt(events[i].at),
                text=events[i].text,
                external_id=ids[i],
                author_name=events[i].author_name,
            )
            for i in shown
        ),
        assignee=acts.assigned.get(key, thread.assignee),
    )


def _written_after(events: Sequence[_Event], waiting_since: float | None, t: float) -> float | None:
    """When the customer started waiting again after ``t``, if they did."""
    if waiting_since is None or waiting_since > t:
        return waiting_since
    later = [e.at for e in events if e.author is Author.CUSTOMER and e.at > t]
    return later[0] if later else None


# --------------------------------------------------------------------------- the record, applied

_Again = Callable[[str, float, int], tuple[float, int] | None]


def _apply(
    entry: Mapping[str, Any], acts: _Actions, done: dict[str, ActionResult], again: _Again
) -> None:
    """Apply one line of the record (:mod:`sportello_demo.record`) to ``acts``; the
    first result of each key goes to ``done``. A malformed line is skipped.

    Only this conversation's entries are touched, so a large queue (scale mode)
    costs nothing per action. After a reply or a close, ``again`` may add the
    customer's next message.
    """
    kind = entry.get("kind")
    external_id = entry.get("conversation")
    at = entry.get("at")
    if not isinstance(external_id, str) or not _is_number(at):
        return
    at = float(at)
    message_id: str | None = None
    if kind in ("reply", ELSEWHERE):
        text = entry.get("text")
        replies = acts.replies.setdefault(external_id, [])
        given = entry.get("message_id")
        message_id = given if isinstance(given, str) else f"{external_id}/r{len(replies) + 1}"
        author = entry.get("author_name") if kind == ELSEWHERE else None
        replies.append(
            (at, text if isinstance(text, str) else "", message_id, _str_or_none(author))
        )
    elif kind == "close":
        acts.closed.setdefault(external_id, at)
    elif kind == "assign":
        assignee = entry.get("assignee")
        acts.assigned[external_id] = assignee if isinstance(assignee, str) else ""
    elif kind == "snooze":
        until = entry.get("until")
        acts.snoozed[external_id] = (at, float(until) if _is_number(until) else math.inf)
    elif kind == "reopen":
        acts.closed.pop(external_id, None)
        acts.snoozed.pop(external_id, None)
    else:
        return
    if kind in ("reply", "close"):
        turn = acts.answered.get(external_id, 0)
        acts.answered[external_id] = turn + 1
        later = again(external_id, at, turn)
        if later is not None:
            acts.again.setdefault(external_id, []).append(later)
    key = entry.get("key")
    if kind != ELSEWHERE and isinstance(key, str) and key not in done:
        done[key] = ActionResult(done_at=_dt(at), external_id=message_id)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- options


def _options() -> tuple[Option, ...]:
    return (
        Option(
            "profile",
            OptionType.STR,
            required=True,
            choices=PROFILES,
            description="which kind of channel to simulate: " + ", ".join(PROFILES),
        ),
        Option(
            "seed",
            OptionType.INT,
            default=7,
            description="the simulated world; the same seed gives the same customers",
        ),
        Option(
            "scale",
            OptionType.INT,
            default=0,
            minimum=0,
            description="0: realistic traffic for the time of day; "
            "N: exactly N waiting conversations, for benchmarks",
        ),
        Option(
            "rate",
            OptionType.FLOAT,
            default=1.0,
            minimum=0,
            description="arrivals multiplier (2 = twice as busy, 0 = nobody writes)",
        ),
        Option(
            "fail_rate",
            OptionType.FLOAT,
            default=0.0,
            minimum=0,
            maximum=1,
            description="probability, 0 to 1, that a poll fails as if the network were down",
        ),
        Option(
            "record",
            OptionType.STR,
            description="the file where accepted actions are kept, one JSON line each "
            "(unset: $XDG_STATE_HOME/sportello/demo/<channel id>.jsonl)",
        ),
        Option(
            "honour_keys",
            OptionType.BOOL,
            default=True,
            description="a repeated idempotency key answers as the first time; "
            "false (a test switch): every call is a new delivery",
        ),
        Option(
            "down_file",
            OptionType.STR,
            description="while this file exists, polls, actions and look-ups fail "
            "as if the server were unreachable",
        ),
        Option(
            "act_delay",
            OptionType.FLOAT,
            default=0.0,
            minimum=0,
            maximum=10,
            description="seconds each action takes before the channel accepts it (0 to 10)",
        ),
    )


# --------------------------------------------------------------------------- the adapter


class DemoAdapter(Adapter):
    """Simulated channels of a small Italian shop, for the first run, tests and benchmarks.

    ``capabilities.keys`` is declared true, as the channel honours keys by
    default; ``honour_keys: false`` is a switch for crash tests, which then see
    every call as a new delivery in the record. The outbox never relies on
    ``keys`` to avoid a second send: it never resends on its own.
    """

    name: ClassVar[str] = "demo"
    description: ClassVar[str] = (
        "simulated channels of a small shop (email, chat, phone, Facebook, Telegram)"
    )
    kind: ClassVar[ChannelKind] = ChannelKind.OTHER  # per profile: see channel_kind
    default_expectation: ClassVar[timedelta] = timedelta(hours=1)
    options: ClassVar[tuple[Option, ...]] = _options()
    capabilities: ClassVar[Capabilities] = Capabilities(
        reply=True,
        close=True,
        assign=True,
        snooze=True,
        reopen=True,
        keys=True,
        lookup=True,
        recheck=True,
    )

    def __init__(self, channel_id: str, options: Mapping[str, Any], clock: Clock = utc_now) -> None:
        super().__init__(channel_id, options, clock)
        values = self.declared_options(options)
        self.config = values
        self.profile: str = values["profile"]
        self.seed: int = values["seed"]
        self.scale: int = values["scale"]
        self.rate: float = values["rate"]
        self.fail_rate: float = values["fail_rate"]
        self.honour_keys: bool = values["honour_keys"]
        self.act_delay: float = values["act_delay"]
        self.record_path: Path = record_path(channel_id, values["record"] or "")
        self.down_file: Path | None = (
            Path(values["down_file"]).expanduser() if values["down_file"] else None
        )
        self._profile = _PROFILES[self.profile]
        self.channel_kind: ChannelKind = self._profile.kind
        self.profile_expectation: timedelta = self._profile.expectation
        self._key = _key("channel", self.seed, self.channel_id, self.profile)
        self._people = _people(self.seed)
        self._threads: dict[int, tuple[_Thread, ...]] = {}  # bucket -> its threads
        self._echoes: dict[int, _Thread | None] = {}  # hour -> this channel's echo thread
        self._tail = RecordTail(self.record_path)  # read when first needed, then as it grows
        self._actions = _Actions()  # the record, applied
        self._done: dict[str, ActionResult] = {}  # idempotency key -> its first result
        self._reading = asyncio.Lock()  # one read (or append) of the record at a time
        self._acting = asyncio.Lock()  # one action at a time
        self._fetches = 0

    # ----------------------------------------------------------------- contract

    async def fetch(self) -> ChannelState:
        self._check_up()
        now = self._now()
        self._fetches += 1
        if self.fail_rate > 0:
            draw = _Rand(_sub(self._key ^ 0xFA11, self._fetches)).random()
            if draw < self.fail_rate:
                raise ConnectionFailed(
                    f"simulated network failure (demo fail_rate {self.fail_rate:g})"
                )
        await self._sync()
        now_s = now.timestamp()
        if self.scale > 0:
            if self.scale >= THREAD_AFTER_S:
                # Tens of milliseconds of pure Python: keep the event loop free.
                conversations = await asyncio.to_thread(self._scaled, now_s, self._actions.copy())
            else:
                conversations = self._scaled(now_s, self._actions)
        else:
            conversations = self._simulated(now_s)
        if self.profile != "phone":
            return ChannelState(conversations=tuple(conversations), complete=True)
        holds = [now_s - c.waiting_since.timestamp() for c in conversations if c.waiting_since]
        return ChannelState(
            conversations=tuple(conversations),
            complete=True,
            on_hold=len(holds),
            longest_hold=timedelta(seconds=max(holds, default=0.0)),
        )

    async def act(self, request: ActionRequest) -> ActionResult:
        """Accept one action: written to the record (and fsynced) before it returns."""
        self._check_up()
        key = request.idempotency_key
        async with self._acting:
            await self._sync()
            if self.honour_keys:
                done = self._done.get(key)
                if done is not None:
                    return done
            external_id = request.conversation_external_id
            self._check_id(external_id)
            until = request.until
            if request.kind is ActionKind.SNOOZE and until is not None and until.tzinfo is None:
                raise ProtocolError("snooze: the time must carry a timezone")
            if self.act_delay > 0:
                await asyncio.sleep(self.act_delay)
            now = self._now()
            entry: dict[str, Any] = {
                "key": key,
                "kind": str(request.kind),
                "conversation": external_id,
                "at": now.timestamp(),
            }
            message_id: str | None = None
            if request.kind is ActionKind.REPLY:
                replies = self._actions.replies.get(external_id, ())
                message_id = f"{external_id}/r{len(replies) + 1}"
                entry["text"] = request.text or ""
                entry["message_id"] = message_id
            elif request.kind is ActionKind.ASSIGN:
                entry["assignee"] = request.assignee or ""
            elif request.kind is ActionKind.SNOOZE:
                entry["until"] = None if until is None else until.timestamp()
            await self._append(entry)
            result = ActionResult(done_at=now, external_id=message_id)
            return self._done.get(key, result) if self.honour_keys else result

    async def lookup(self, request: ActionRequest) -> ActionResult | None:
        """What the record says the channel answered for this key (the first time)."""
        self._check_up()
        await self._sync()
        return self._done.get(request.idempotency_key)

    async def recheck(self, external_id: str) -> Conversation | None:
        """The conversation as ``fetch()`` would report it now: one bucket or one slot."""
        self._check_up()
        await self._sync()
        if not external_id.startswith(self._profile.tag + "-"):
            return None
        now = self._now().timestamp()
        try:
            if self.scale > 0:
                return self._scaled_one(external_id, now)
            return self._simulated_one(external_id, now)
        except ValueError:  # not an id this channel makes
            return None

    async def aclose(self) -> None:
        self._threads.clear()
        self._echoes.clear()

    # ----------------------------------------------------------------- helpers

    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            return now.replace(tzinfo=UTC)
        return now.astimezone(UTC)

    def _check_id(self, external_id: str) -> None:
        if not external_id.startswith(self._profile.tag + "-"):
            raise ProtocolError(f"no conversation {external_id[:60]!r} on this demo channel")

    def _check_up(self) -> None:
        if self.down_file is not None and self.down_file.exists():
            raise ConnectionFailed(
                "simulated outage: the channel cannot be reached (demo down_file present)"
            )

    # ----------------------------------------------------------------- the record

    async def _sync(self) -> None:
        """Apply what was added to the record since it was last read (by this
        adapter, another process on the channel, or ``answer_elsewhere``)."""
        async with self._reading:
            if self._tail.unchanged():
                return
            try:
                restart, entries = await asyncio.to_thread(self._tail.read_new)
            except OSError as exc:
                raise ConnectionFailed(
                    f"cannot read the demo record {self.record_path}: {exc.strerror or exc}"
                ) from None
            self._take(restart, entries)

    async def _append(self, entry: dict[str, Any]) -> None:
        """Write one line (fsynced, off the event loop), then apply what is new."""
        async with self._reading:
            try:
                restart, entries = await asyncio.to_thread(self._tail.append, entry)
            except OSError as exc:
                raise ConnectionFailed(
                    f"cannot write the demo record {self.record_path}: {exc.strerror or exc}"
                ) from None
            self._take(restart, entries)

    def _take(self, restart: bool, entries: list[dict[str, Any]]) -> None:
        if restart:  # the record was replaced or cut: what it no longer says never happened
            self._actions = _Actions()
            self._done.clear()
        for entry in entries:
            _apply(entry, self._actions, self._done, self._again)

    def _again(self, external_id: str, at: float, turn: int) -> tuple[float, int] | None:
        """Whether, and when, the customer writes again after the user's ``turn``-th
        reply or close at ``at``: (when, a draw that picks the text)."""
        p = self._profile
        if p.p_again <= 0:
            return None
        rng = _Rand(_key("again", self.seed, self.channel_id, external_id, turn))
        if not rng.chance(p.p_again):
            return None
        return at + int(rng.uniform(*p.again_gap)), rng.below(1 << 30)

    # ----------------------------------------------------------------- simulation

    def _simulated(self, now: float) -> list[Conversation]:
        first_bucket, first_hour = self._window(now)
        for bucket in [b for b in self._threads if b < first_bucket]:
            del self._threads[bucket]
        for hour in [h for h in self._echoes if h < first_hour]:
            del self._echoes[hour]

        threads: list[_Thread] = []
        cache = self._threads
        for bucket in range(first_bucket, int(now // BUCKET_S) + 1):
            cached = cache.get(bucket)
            threads.extend(cached if cached is not None else self._bucket_threads(bucket))
        for hour in range(first_hour, int(now // ECHO_BUCKET_S) + 1):
            echo = self._echo_thread(hour)
            if echo is not None:
                threads.append(echo)
        threads.sort(key=lambda thread: thread.start)

        out: list[Conversation] = []
        for thread in threads:
            if thread.start > now:
                break
            conversation = _materialise(thread, now, self._actions)
            if conversation is not None:
                out.append(conversation)
        return out

    def _simulated_one(self, external_id: str, now: float) -> Conversation | None:
        """What ``_simulated`` reports of one conversation (``ValueError``: not an id
        of this channel)."""
        first_bucket, first_hour = self._window(now)
        rest = external_id[len(self._profile.tag) + 1 :]
        thread: _Thread | None = None
        if rest.startswith("x"):  # tag-x<hour>: a customer who wrote on two channels
            hour = int(rest[1:])
            if first_hour <= hour <= now // ECHO_BUCKET_S:
                thread = self._echo_thread(hour)
        else:  # tag-<bucket>-<i>
            bucket = int(rest.split("-", 1)[0])
            if first_bucket <= bucket <= now // BUCKET_S:
                found = [t for t in self._bucket_threads(bucket) if t.external_id == external_id]
                thread = found[0] if found else None
        if thread is None or thread.external_id != external_id or thread.start > now:
            return None
        return _materialise(thread, now, self._actions)

    def _window(self, now: float) -> tuple[int, int]:
        """The first bucket and the first echo hour that ``fetch()`` replays."""
        start = now - (PHONE_WINDOW_S if self.profile == "phone" else WINDOW_S)
        return int(start // BUCKET_S), int(start // ECHO_BUCKET_S)

    def _bucket_threads(self, bucket: int) -> tuple[_Thread, ...]:
        cached = self._threads.get(bucket)
        if cached is None:
            cached = self._threads[bucket] = self._bucket(bucket)
        return cached

    def _echo_thread(self, hour: int) -> _Thread | None:
        if hour not in self._echoes:
            self._echoes[hour] = self._echo(hour)
        return self._echoes[hour]

    def _arrival_weight(self, t: float) -> float:
        p = self._profile
        weight = _shape(datetime.fromtimestamp(t, ROME), p.shape)
        if p.offline_share < 1.0 and not _is_open(t, _AGENT):
            weight *= p.offline_share
        return weight

    def _bucket(self, bucket: int) -> tuple[_Thread, ...]:
        """Every conversation that starts in one 10-minute bucket."""
        p = self._profile
        rng = _Rand(_sub(self._key, bucket))
        begin = bucket * BUCKET_S
        lam = p.peak_per_hour * self.rate * self._arrival_weight(begin + BUCKET_S / 2)
        count = rng.poisson(lam * BUCKET_S / 3600.0)
        starts = sorted(begin + rng.below(BUCKET_S) for _ in range(count))
        threads = []
        for i, start in enumerate(starts):
            if self.profile == "phone" and not _is_open(start, _PHONE):
                continue
            person = rng.choice(self._people)
            thread_rng = _Rand(_sub(_sub(self._key ^ 0x7A, bucket), i))
            external_id = f"{p.tag}-{bucket}-{i}"
            threads.append(self._thread(thread_rng, external_id, start, person))
        return tuple(threads)

    def _echo(self, hour: int) -> _Thread | None:
        """This channel's part of a customer who wrote on two channels, if any this hour.

        The event (who, which channels, when) is drawn from the seed alone, so every
        demo channel of the same seed agrees on it; the thread's story is drawn from
        this channel's own stream.
        """
        rng = _Rand(_sub(_key("echo", self.seed), hour))
        begin = hour * ECHO_BUCKET_S
        weight = _shape(datetime.fromtimestamp(begin + 1800, ROME), _SHAPE_MESSAGES)
        if not rng.chance(min(1.0, 0.25 * weight * self.rate)):
            return None
        person = rng.choice(self._people)
        first = rng.choice(PROFILES)
        second = rng.choice([name for name in PROFILES if name != first])
        first_at = begin + rng.below(ECHO_BUCKET_S)
        second_at = first_at + int(rng.uniform(15 * 60, 2 * 3600))
        if self.profile == first:
            start, mention = first_at, None
        elif self.profile == second:
            start, mention = second_at, first
        else:
            return None
        if self.profile == "phone" and not _is_open(start, _PHONE):
            return None  # the shop was closed: nobody on hold
        if self._profile.offline_share < 1.0 and not _is_open(start, _AGENT):
            return None  # the chat was offline
        thread_rng = _Rand(_sub(self._key ^ 0xEC40, hour))
        external_id = f"{self._profile.tag}-x{hour}"
        return self._thread(thread_rng, external_id, start, person, mention, known=True)

    def _thread(
        self,
        rng: _Rand,
        external_id: str,
        start: int,
        person: _Person,
        mention: str | None = None,
        known: bool = False,
    ) -> _Thread:
        """One conversation's whole story; ``mention``: the channel they tried first."""
        customer = _customer(self.profile, person, rng, known)
        if self.profile == "phone":
            return self._call(rng, external_id, start, person, customer)
        p = self._profile
        lang = person.lang
        topic = rng.choice(data.TOPICS[lang])
        values = {
            "order": f"#{rng.below(20000) + 10000}",
            "item": rng.choice(data.ITEMS[lang]),
            "size": rng.choice(data.SIZES),
            "first": person.first,
        }
        opening = _fill(rng.choice(topic.openings), values)
        if mention is not None:
            opening = f"{opening} {data.ALSO_WROTE[lang][mention]}"
        if self.profile == "email":
            opening = (
                data.EMAIL_OPENING[lang]
                + opening
                + data.EMAIL_CLOSING[lang].format(name=person.full)
            )
        agent_id, agent_name = rng.choice(data.AGENTS)
        limit = start + MAX_THREAD_S
        events = [_Event(start, Author.CUSTOMER, opening)]
        answered = min(limit, self._answer_at(rng, start))
        if rng.chance(p.p_more):
            more_at = start + int(rng.uniform(*p.more_gap))
            if more_at < answered:
                events.append(
                    _Event(more_at, Author.CUSTOMER, _fill(rng.choice(topic.more), values))
                )
        body = _fill(rng.choice(topic.replies), values)
        if self.profile == "email":
            reply = data.REPLY_OPENING[lang].format(first=person.first) + body
            reply += f"\n\n{agent_name}"
        else:
            reply = data.CHAT_OPENING[lang].format(first=person.first) + body
        events.append(_Event(answered, Author.BUSINESS, reply, agent_name))
        if rng.chance(p.p_followup):
            again = _awake(answered + int(rng.uniform(*p.followup_gap)), rng)
            if again < limit - 3600:
                events.append(
                    _Event(again, Author.CUSTOMER, _fill(rng.choice(topic.followups), values))
                )
                second = min(limit, self._answer_at(rng, again))
                text = rng.choice(data.SECOND_REPLIES[lang])
                events.append(_Event(second, Author.BUSINESS, text, agent_name))
        return _Thread(
            external_id=external_id,
            start=start,
            customer=customer,
            subject=_fill(topic.subject, values),
            events=tuple(events),
            assignee=agent_id if rng.chance(0.3) else None,
            lang=lang,
            followups=topic.followups,
            values=tuple(values.items()),
        )

    def _answer_at(self, rng: _Rand, t: float) -> float:
        """When the shop answers a customer message sent at ``t``."""
        p = self._profile
        draw = rng.random()
        low, high = p.delays[-1][1:]
        for share, band_low, band_high in p.delays:
            if draw < share:
                low, high = band_low, band_high
                break
            draw -= share
        answer = _add_open(t, rng.uniform(low, high), p.answer_hours)
        if p.finish_by_close:
            closing = _span_end(t, p.answer_hours)
            if closing is not None and answer > closing:
                answer = closing + rng.uniform(60, 900)
        return int(answer)

    def _call(
        self, rng: _Rand, external_id: str, start: int, person: _Person, customer: Customer
    ) -> _Thread:
        """A caller in the phone queue: short holds, a few hang up."""
        draw = rng.random()
        if draw < 0.08:  # hangs up
            hold, answered = int(rng.uniform(20, 240)), False
        elif draw < 0.20:  # a long hold
            hold, answered = int(rng.uniform(180, 540)), True
        else:
            hold, answered = int(min(rng.expo(110), 420)) + 5, True
        caller = person.phone if customer.name is None else f"{person.phone} ({customer.name})"
        events = [_Event(start, Author.CUSTOMER, data.PHONE_INCOMING.format(caller=caller))]
        if answered:
            _, agent_name = rng.choice(data.AGENTS)
            events.append(
                _Event(
                    start + hold,
                    Author.BUSINESS,
                    data.PHONE_PICKED_UP.format(agent=agent_name),
                    agent_name,
                )
            )
        return _Thread(
            external_id=external_id,
            start=start,
            customer=customer,
            subject=data.PHONE_SUBJECT_WAITING,
            events=tuple(events),
            ends_at=None if answered else start + hold,
            phone=True,
        )

    # ----------------------------------------------------------------- scale

    def _scaled(self, now: float, acts: _Actions) -> list[Conversation]:
        """Exactly ``scale`` waiting conversations (fewer only where the user acted).

        Slot k holds one conversation at a time; when its lifetime ends the next one
        arrives. One slot in 20 lives a quarter to five times the channel's
        expectation, so the queue moves; the others live for days, so that two
        fetches a few minutes apart mostly agree (the benchmarks seed a store from
        one fetch and expect the app's first poll to find the same world). A
        conversation carries one message. The previous occupants of the first slots are reported
        as answered, so that first response times exist at scale too.
        """
        key, expectation = self._scale_key()
        texts = _scale_texts(self.seed)
        names = _scale_names()
        phone = self.profile == "phone"
        now_i = int(now)
        acted = bool(acts.replies or acts.closed or acts.snoozed or acts.assigned)
        out: list[Conversation] = []
        append = out.append
        waiting = self._scaled_waiting
        for slot in range(self.scale):
            h, life, generation, arrived = _scale_slot(key, slot, expectation, now_i)
            conversation, lang = waiting(h, slot, generation, arrived, texts, names)
            if acted and acts.touched(conversation.external_id):
                acted_on = _act_on(conversation, now, acts, phone, lang)
                if acted_on is not None:
                    append(acted_on)
            else:
                append(conversation)
            if slot < SCALE_ANSWERED and arrived >= now - RECENT_S:
                append(self._scaled_answered(h, slot, generation - 1, arrived - life, arrived))
        return out

    def _scaled_one(self, external_id: str, now: float) -> Conversation | None:
        """What ``_scaled`` reports of one conversation, computed from its slot alone
        (``ValueError``: not an id of this channel)."""
        slot_text, _, generation_text = external_id[len(self._profile.tag) + 1 :].partition("-")
        if not slot_text.startswith("s"):
            return None
        slot, generation = int(slot_text[1:]), int(generation_text)
        if not 0 <= slot < self.scale:
            return None
        key, expectation = self._scale_key()
        h, life, current, arrived = _scale_slot(key, slot, expectation, int(now))
        if generation == current:
            texts, names = _scale_texts(self.seed), _scale_names()
            conversation, lang = self._scaled_waiting(h, slot, current, arrived, texts, names)
            if not self._actions.touched(external_id):
                return conversation
            return _act_on(conversation, now, self._actions, self.profile == "phone", lang)
        if generation == current - 1 and slot < SCALE_ANSWERED and arrived >= now - RECENT_S:
            return self._scaled_answered(h, slot, generation, arrived - life, arrived)
        return None

    def _scale_key(self) -> tuple[int, int]:
        expectation = max(60, int(self._profile.expectation.total_seconds()))
        return _key("scale", self.seed, self.channel_id, self.profile), expectation

    def _scaled_waiting(
        self,
        h: int,
        slot: int,
        generation: int,
        arrived: int,
        texts: tuple[tuple[tuple[str, str], ...], ...],
        names: tuple[tuple[tuple[str, str, str, str], ...], ...],
    ) -> tuple[Conversation, str]:
        """The waiting occupant of a scale slot, and its language."""
        g = _mix(h ^ (generation & _MASK))
        lang = 1 if g & 3 == 0 else 0  # a quarter in English
        subject, text = texts[lang][(g >> 2) % len(texts[lang])]
        first, last, local, domain = names[lang][(g >> 10) % len(names[lang])]
        number = (g >> 24) % 100_000
        external_id = f"{self._profile.tag}-s{slot}-{generation}"
        started = _dt(arrived)
        if self.profile == "phone":
            caller = _phone_number(data.LANGUAGES[lang], number)
            customer = Customer(name=f"{first} {last}", phone=caller)
            subject = data.PHONE_SUBJECT_WAITING
            text = data.PHONE_INCOMING.format(caller=caller)
        else:
            customer = Customer(name=f"{first} {last}", email=f"{local}{number}@{domain}")
        conversation = Conversation(
            external_id=external_id,
            customer=customer,
            subject=subject,
            first_customer_message_at=started,
            waiting_since=started,
            messages=(Message(Author.CUSTOMER, started, text, f"{external_id}/m0"),),
        )
        return conversation, data.LANGUAGES[lang]

    def _scaled_answered(
        self, h: int, slot: int, generation: int, started_at: float, answered_at: float
    ) -> Conversation:
        """The previous occupant of a scale slot, answered when the slot turned over."""
        g = _mix(h ^ (generation & _MASK))
        lang = 1 if g & 3 == 0 else 0
        subject, text = _scale_texts(self.seed)[lang][(g >> 2) % 64]
        names = _scale_names()[lang]
        first, last, local, domain = names[(g >> 10) % len(names)]
        number = (g >> 24) % 100_000
        agent_id, agent_name = data.AGENTS[g % len(data.AGENTS)]
        external_id = f"{self._profile.tag}-s{slot}-{generation}"
        if self.profile == "phone":
            caller = _phone_number(data.LANGUAGES[lang], number)
            customer = Customer(name=f"{first} {last}", phone=caller)
            subject = data.PHONE_SUBJECT_ANSWERED
            text = data.PHONE_INCOMING.format(caller=caller)
            reply = data.PHONE_PICKED_UP.format(agent=agent_name)
        else:
            customer = Customer(name=f"{first} {last}", email=f"{local}{number}@{domain}")
            reply = data.SECOND_REPLIES[data.LANGUAGES[lang]][0]
        started, answered = _dt(started_at), _dt(answered_at)
        return Conversation(
            external_id=external_id,
            customer=customer,
            subject=subject,
            first_customer_message_at=started,
            waiting_since=None,
            first_response_at=answered,
            messages=(
                Message(Author.CUSTOMER, started, text, f"{external_id}/m0"),
                Message(Author.BUSINESS, answered, reply, f"{external_id}/m1", agent_name),
            ),
            assignee=agent_id,
        )


def _scale_slot(key: int, slot: int, expectation: int, now: int) -> tuple[int, int, int, int]:
    """A scale slot at ``now``: (its hash, the life of each occupant, the current
    occupant's generation, when it arrived)."""
    h = _mix(key ^ (slot * _GOLDEN & _MASK))
    if (h >> 48) % SCALE_LIVELY == 0:  # turns over on the channel's own timescale
        life = max(30, int(expectation * (0.25 + (h & 0xFFFF) * (4.75 / 65536))))
    else:  # nearly still, so that a store seeded from one fetch matches the next
        life = int(SCALE_STILL_S * (1.0 + (h & 0xFFFF) * (3.0 / 65536)))
    phase = (h >> 16) % life
    generation = (now + phase) // life
    return h, life, generation, generation * life - phase


def _act_on(
    conversation: Conversation, now: float, acts: _Actions, phone: bool, lang: str
) -> Conversation | None:
    """Apply the user's actions to a scale-mode conversation."""
    thread = _Thread(
        external_id=conversation.external_id,
        start=conversation.first_customer_message_at.timestamp(),
        customer=conversation.customer,
        subject=conversation.subject,
        events=tuple(
            _Event(m.sent_at.timestamp(), m.author, m.text, m.author_name)
            for m in conversation.messages
        ),
        assignee=conversation.assignee,
        phone=phone,
        lang=lang,
    )
    return _materialise(thread, now, acts)


@lru_cache(maxsize=16)
def _scale_texts(seed: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    """(subject, first message) pairs per language ("it", "en"), filled in advance."""
    rng = _Rand(_key("scale-texts", seed))
    out = []
    for lang in data.LANGUAGES:
        pairs = []
        for _ in range(64):
            topic = rng.choice(data.TOPICS[lang])
            values = {
                "order": f"#{rng.below(20000) + 10000}",
                "item": rng.choice(data.ITEMS[lang]),
                "size": rng.choice(data.SIZES),
                "first": "",
            }
            pairs.append((_fill(topic.subject, values), _fill(rng.choice(topic.openings), values)))
        out.append(tuple(pairs))
    return tuple(out)


@lru_cache(maxsize=1)
def _scale_names() -> tuple[tuple[tuple[str, str, str, str], ...], ...]:
    """(first, last, e-mail local part, domain) per language ("it", "en")."""
    out = []
    for lang in data.LANGUAGES:
        combos = []
        for i, first in enumerate(data.FIRST_NAMES[lang]):
            for j, last in enumerate(data.LAST_NAMES[lang]):
                domains = data.EMAIL_DOMAINS[lang]
                local = f"{_ascii(first)}.{_ascii(last)}"
                combos.append((first, last, local, domains[(i + j) % len(domains)]))
        out.append(tuple(combos))
    return tuple(out)


__all__ = ["MAX_MESSAGES", "PROFILES", "ROME", "DemoAdapter"]
