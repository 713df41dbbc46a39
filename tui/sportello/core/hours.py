"""Open hours: how many seconds between two instants a channel counts as open.

A :class:`Schedule` turns a channel's :class:`~sportello.core.settings.OpenHours` (weekly
wall-clock spans in the business's timezone, plus whole-day holidays) into a sorted
table of open intervals in Unix seconds, with the cumulative open seconds at the start
of each interval. ``open_seconds(a, b)`` is then ``C(b) - C(a)``, where ``C(t)`` is
the open seconds up to ``t``, found by bisection: O(log n) per call, so the queue can
compute the wait of 100,000 conversations on every refresh.

The table covers whole local years and grows on demand, between 1970 and 2099
(instants outside are clamped to that range). Equal hours share one schedule.

Rules (all in the schedule's timezone):

- Spans are wall-clock times, weekday ``0`` = Monday. A span ``[open, close)``
  includes its opening instant and excludes its closing one.
- ``close == time(0, 0)`` or ``close == time.max`` (23:59:59.999999) means 24:00,
  the end of the day; ``00:00-00:00`` is the whole day. A span whose ``close`` is
  otherwise before its ``open`` runs past midnight into the next day. ``open ==
  close`` (other than midnight) is an empty span. Overlapping spans are merged.
- Spans count real elapsed seconds: 09:00-13:00 is four hours on any day, and
  01:00-04:00 is two hours on the spring-forward day and four on the fall-back day
  (Europe/Rome: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00).
- A wall time that does not exist (in the spring-forward gap) is the instant the
  clocks jump; a wall time that happens twice (the fall-back hour) is its first
  occurrence. Opening and closing times follow the same rule, so adjacent spans
  stay adjacent.
- A holiday closes its whole local day, including the part of an overnight span
  from the day before that falls on it.
- ``Schedule.from_hours(None)`` is open 24/7: open seconds are real seconds.

Instants are finite floats; a NaN counts as no time at all.
"""

from __future__ import annotations

import functools
import math
import threading
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from sportello.core.settings import OpenHours

__all__ = ["Schedule"]

# Instants are clamped to these local years: a bad instant (milliseconds, a zero)
# costs at most one build of this range (about 0.6 s), and cannot crash anything.
_MIN_YEAR = 1970
_MAX_YEAR = 2099
_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)
# How many years past an instant next_open() looks before giving up.
_NEXT_OPEN_YEARS = 10

# One day's spans as (open, close) wall times; close None means 24:00.
_DaySpans = tuple[tuple[time, time | None], ...]


class _Table:
    """Merged open intervals over the local years ``[first_year, last_year]``.

    ``starts[0] == ends[0] == lo`` is a sentinel, so that for any ``t >= lo``
    ``bisect_right(starts, t) - 1`` is a valid index.
    ``cum[i]`` is the open seconds from ``lo`` to ``starts[i]``.
    """

    __slots__ = ("cum", "ends", "first_year", "hi", "last_year", "lo", "starts")

    def __init__(
        self,
        first_year: int,
        last_year: int,
        lo: float,
        hi: float,
        starts: list[float],
        ends: list[float],
        cum: list[float],
    ) -> None:
        self.first_year = first_year
        self.last_year = last_year
        self.lo = lo
        self.hi = hi
        self.starts = starts
        self.ends = ends
        self.cum = cum


def _wall_to_instant(day: date, wall: time | None, tz: tzinfo) -> float:
    """The Unix instant of a wall time on a local day (``None``: 24:00).

    Non-existent wall times (spring-forward gap) map to the instant the clocks jump;
    repeated ones (fall-back) to their first occurrence.
    """
    if wall is None:
        day, wall = day + _ONE_DAY, _MIDNIGHT
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=tz, fold=0).timestamp()
    second = naive.replace(tzinfo=tz, fold=1).timestamp()
    if first <= second:  # exists once (equal) or twice (first < second)
        return first
    # In a gap: fold=0 reads it with the offset before the jump (a later instant),
    # fold=1 with the offset after (an earlier one). The jump lies in (second, first].
    before = datetime.fromtimestamp(second, tz).utcoffset()
    lo, hi = math.floor(second), math.ceil(first)
    while hi - lo > 1:  # transitions fall on whole seconds
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return float(hi)


def _normalise(hours: OpenHours) -> tuple[tuple[_DaySpans, ...], tuple[_DaySpans, ...]]:
    """Split each weekday's spans into same-day parts and parts spilling into the next day."""
    if len(hours.weekly) != 7:
        raise ValueError(f"weekly hours need 7 days (Monday first), got {len(hours.weekly)}")
    same_day: list[_DaySpans] = []
    spill: list[_DaySpans] = []  # indexed by the weekday the span *starts* on
    for spans in hours.weekly:
        today: list[tuple[time, time | None]] = []
        tomorrow: list[tuple[time, time | None]] = []
        for opening, closing in spans:
            opening = opening.replace(tzinfo=None)
            closing = closing.replace(tzinfo=None)
            if closing in (_MIDNIGHT, time.max):
                today.append((opening, None))
            elif closing > opening:
                today.append((opening, closing))
            elif closing < opening:  # past midnight
                today.append((opening, None))
                tomorrow.append((_MIDNIGHT, closing))
            # closing == opening (not midnight): an empty span
        same_day.append(tuple(today))
        spill.append(tuple(tomorrow))
    return tuple(same_day), tuple(spill)


class Schedule:
    """When a channel counts waiting time. Build with :meth:`from_hours`.

    Thread-safe: the interval table is replaced whole when it grows.
    """

    __slots__ = (
        "_holidays",
        "_lock",
        "_max_t",
        "_min_t",
        "_same_day",
        "_spill",
        "_table",
        "_tz",
        "hours",
    )

    def __init__(self, hours: OpenHours | None) -> None:
        self.hours = hours
        self._lock = threading.Lock()
        self._table: _Table | None = None
        if hours is None:
            self._same_day: tuple[_DaySpans, ...] = ()
            self._spill: tuple[_DaySpans, ...] = ()
            self._holidays: frozenset[date] = frozenset()
            self._tz: tzinfo | None = None
            self._min_t, self._max_t = -math.inf, math.inf
        else:
            self._same_day, self._spill = _normalise(hours)
            self._holidays = hours.holidays
            self._tz = hours.timezone
            self._min_t = _wall_to_instant(date(_MIN_YEAR, 1, 1), _MIDNIGHT, self._tz)
            self._max_t = _wall_to_instant(date(_MAX_YEAR, 12, 31), None, self._tz)

    @classmethod
    def from_hours(cls, hours: OpenHours | None) -> Schedule:
        """The schedule of ``hours``; ``None`` is open 24/7.

        Equal hours share one schedule (and its interval table), so calling this on
        every refresh costs a dictionary look-up, not a rebuild.
        """
        if cls is Schedule:
            try:
                return _shared(hours)
            except TypeError:  # unhashable hours (lists instead of tuples): not shared
                pass
        return cls(hours)

    @property
    def always_open(self) -> bool:
        """True for a 24/7 schedule (no open hours configured)."""
        return self._tz is None

    def __repr__(self) -> str:
        if self._tz is None:
            return "Schedule(24/7)"
        return f"Schedule({self._tz}, {len(self._holidays)} holidays)"

    # -- queries -------------------------------------------------------------------

    def open_seconds(self, start: float, end: float) -> float:
        """Seconds of ``[start, end)`` inside open hours; ``0.0`` when ``end <= start``."""
        if not end > start:  # also NaN
            return 0.0
        if self._tz is None:
            return end - start
        table = self._table
        if table is None or not (table.lo <= start and end <= table.hi):
            start, end = self._clamp(start), self._clamp(end)
            if not end > start:
                return 0.0
            table = self._cover(start, end)
        starts, ends, cum = table.starts, table.ends, table.cum
        i = bisect_right(starts, end) - 1
        e = ends[i]
        counted = cum[i] + ((end if end < e else e) - starts[i])
        i = bisect_right(starts, start) - 1
        e = ends[i]
        counted -= cum[i] + ((start if start < e else e) - starts[i])
        # C is non-decreasing, so counted >= 0; rounding must not push it past the span.
        span = end - start
        return span if counted > span else counted

    def open_seconds_many(self, starts: Sequence[float], end: float) -> list[float]:
        """``[open_seconds(s, end) for s in starts]``, faster."""
        if self._tz is None:
            return [end - s if s < end else 0.0 for s in starts]
        if not starts:
            return []
        end = self._clamp(end)
        first = min(starts)  # NaN only if starts[0] is NaN
        if first != first or first < self._clamp(first):
            # A NaN first, or instants before the supported range: rare, slow path.
            return [self.open_seconds(s, end) for s in starts]
        if not first < end:  # also NaN end
            return [0.0] * len(starts)
        table = self._table
        if table is None or not (table.lo <= first and end <= table.hi):
            table = self._cover(first, end)
        st, en, cum = table.starts, table.ends, table.cum
        i = bisect_right(st, end) - 1
        e = en[i]
        at_end = cum[i] + ((end if end < e else e) - st[i])
        out: list[float] = []
        append = out.append
        for s in starts:
            if not s < end:  # also NaN
                append(0.0)
                continue
            i = bisect_right(st, s) - 1
            e = en[i]
            counted = at_end - cum[i] - ((s if s < e else e) - st[i])
            append(counted if counted <= end - s else end - s)
        return out

    def is_open(self, t: float) -> bool:
        """Whether the channel is open at instant ``t``."""
        if self._tz is None:
            return True
        if t != t:  # NaN
            return False
        table = self._table
        if table is None or not (table.lo <= t < table.hi):
            clamped = self._clamp(t)
            if clamped != t:
                return False
            table = self._cover(t, t)
        i = bisect_right(table.starts, t) - 1
        return t < table.ends[i]

    def next_open(self, t: float) -> float | None:
        """When the channel is next open at or after ``t``: ``t`` itself if open now.

        ``None`` if it does not open in the next ten years (no spans, or out of range).
        """
        if self._tz is None:
            return t
        if t != t or not any(self._same_day):  # NaN, or never open
            return None
        if self._clamp(t) != t:
            return None
        table = self._cover(t, t)
        stop_year = min(self._year_of(t) + _NEXT_OPEN_YEARS, _MAX_YEAR)
        while True:
            i = bisect_right(table.starts, t) - 1
            if t < table.ends[i]:
                return t
            if i + 1 < len(table.starts):
                return table.starts[i + 1]
            if table.last_year >= stop_year:
                return None
            table = self._extend(table.first_year, table.last_year + 1)

    # -- the interval table --------------------------------------------------------

    def _clamp(self, t: float) -> float:
        lo, hi = self._min_t, self._max_t
        return lo if t < lo else hi if t > hi else t

    def _year_of(self, t: float) -> int:
        """The local year of a clamped instant (24:00 on the last day stays in range)."""
        return min(datetime.fromtimestamp(t, self._tz).year, _MAX_YEAR)

    def _cover(self, start: float, end: float) -> _Table:
        """The table, grown if needed to cover ``[start, end]`` (clamped instants)."""
        table = self._table
        if table is not None and table.lo <= start and end <= table.hi:
            return table
        first, last = self._year_of(start), self._year_of(end)
        if table is not None:
            first, last = min(first, table.first_year), max(last, table.last_year)
        return self._extend(first, last)

    def _extend(self, first_year: int, last_year: int) -> _Table:
        with self._lock:
            table = self._table
            if table is not None:
                first_year = min(first_year, table.first_year)
                last_year = max(last_year, table.last_year)
                if table.first_year == first_year and table.last_year == last_year:
                    return table
            table = self._build(first_year, last_year)
            self._table = table
            return table

    def _build(self, first_year: int, last_year: int) -> _Table:
        tz = self._tz
        assert tz is not None
        lo = _wall_to_instant(date(first_year, 1, 1), _MIDNIGHT, tz)
        hi = _wall_to_instant(date(last_year, 12, 31), None, tz)
        parts: list[tuple[float, float]] = []
        day = date(first_year, 1, 1)
        last_day = date(last_year, 12, 31)
        same_day, spill, holidays = self._same_day, self._spill, self._holidays
        while day <= last_day:
            if day not in holidays:
                weekday = day.weekday()
                for opening, closing in (*spill[weekday - 1], *same_day[weekday]):
                    a = _wall_to_instant(day, opening, tz)
                    b = _wall_to_instant(day, closing, tz)
                    if b > a:
                        parts.append((a, b))
            day += _ONE_DAY
        parts.sort()
        merged: list[list[float]] = []
        for a, b in parts:
            if merged and a <= merged[-1][1]:  # overlapping or touching
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        # The sentinel, then the intervals. Computing cum[i + 1] exactly as
        # open_seconds computes C(ends[i]) keeps C non-decreasing despite rounding.
        starts, ends, cum = [lo], [lo], [0.0]
        for a, b in merged:
            cum.append(cum[-1] + (ends[-1] - starts[-1]))
            starts.append(a)
            ends.append(b)
        return _Table(first_year, last_year, lo, hi, starts, ends, cum)


@functools.lru_cache(maxsize=128)
def _shared(hours: OpenHours | None) -> Schedule:
    return Schedule(hours)
