"""The shop's hours and the shape of its day, in Europe/Rome.

Staff answer Mon-Fri 9-13 and 14-19:30, Sat 9-13; the owner also clears e-mail
and social messages 21-23 every evening; the phone line is open Mon-Fri 9-13 and
15:30-19:30, Sat 9-13. Customers write most mid-morning and in the afternoon,
least at night and at weekends (:func:`hourly_weight`).

Times are Unix seconds (floats) throughout the simulation; :func:`utc` makes the
aware datetimes the SDK wants.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sportello_demo.randomness import Rand

__all__ = [
    "AGENT_HOURS",
    "AGENT_WEEK",
    "OWNER_HOURS",
    "OWNER_WEEK",
    "PHONE_HOURS",
    "PHONE_WEEK",
    "ROME",
    "SHAPE_MESSAGES",
    "SHAPE_PHONE",
    "SHAPE_SOCIAL",
    "Week",
    "add_open",
    "awake",
    "hourly_weight",
    "is_open",
    "span_end",
    "utc",
]

ROME = ZoneInfo("Europe/Rome")

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

# The weeks by number (what the functions below take, cheap to cache on).
_WEEKS = (AGENT_HOURS, OWNER_HOURS, PHONE_HOURS)
AGENT_WEEK, OWNER_WEEK, PHONE_WEEK = 0, 1, 2


def utc(t: float) -> datetime:
    """Unix seconds as an aware datetime in UTC."""
    return datetime.fromtimestamp(t, UTC)


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


def is_open(t: float, week: int) -> bool:
    return any(start <= t < end for start, end in _day_spans(week, _ordinal(t)))


def span_end(t: float, week: int) -> float | None:
    """The end of the open span that holds ``t``, if it is open."""
    for start, end in _day_spans(week, _ordinal(t)):
        if start <= t < end:
            return end
    return None


def awake(t: float, rng: Rand) -> float:
    """``t``, or a time the next morning when ``t`` is in the dead of night."""
    local = datetime.fromtimestamp(t, ROME)
    if 1 <= local.hour < 7:
        morning = local.replace(hour=7, minute=0, second=0, microsecond=0)
        return int(morning.timestamp() + rng.uniform(0, 3 * 3600))
    return t


def add_open(t: float, seconds: float, week: int) -> float:
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
SHAPE_MESSAGES = (
    0.08, 0.04, 0.02, 0.02, 0.02, 0.04, 0.10, 0.25, 0.50, 0.80, 1.00, 1.00,
    0.80, 0.60, 0.60, 0.75, 0.90, 0.95, 0.85, 0.60, 0.45, 0.40, 0.30, 0.15,
)  # fmt: skip
SHAPE_SOCIAL = (
    0.12, 0.06, 0.03, 0.02, 0.02, 0.03, 0.08, 0.20, 0.40, 0.60, 0.80, 0.85,
    0.80, 0.75, 0.65, 0.70, 0.80, 0.90, 0.95, 0.90, 0.90, 1.00, 0.70, 0.35,
)  # fmt: skip
SHAPE_PHONE = (
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.8, 1.0, 1.0,
    0.8, 0.5, 0.4, 0.5, 0.8, 0.9, 0.9, 0.6, 0.2, 0.0, 0.0, 0.0,
)  # fmt: skip
_WEEKDAY = (1.1, 1.0, 1.0, 1.0, 1.0, 0.6, 0.4)  # Monday's backlog, quiet weekends


def hourly_weight(local: datetime, shape: tuple[float, ...]) -> float:
    """The relative arrival rate at a local time, by ``shape`` and the day of the week."""
    hour = local.hour + local.minute / 60.0
    low = int(hour)
    frac = hour - low
    value = shape[low] * (1.0 - frac) + shape[(low + 1) % 24] * frac
    return value * _WEEKDAY[local.weekday()]
