"""Reading opening hours and holidays from config.yaml.

Hours are a mapping from weekday (``mon`` … ``sun``) to a list of spans
(``09:00-13:00``), a comma-separated text of spans, or ``closed``; a weekday
left out is closed. ``24:00`` may end a span and is stored as ``time.max``.
Holidays are dates (``2025-08-15``) or, for every year, ``MM-DD`` (``12-25``),
expanded to the years :data:`RECURRING_YEARS`. Month first always: ``05-06`` is
the 6th of May; ``25-12`` (no 25th month) is refused with "did you mean 12-25?".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import date, datetime, time

from sportello.core.settings import WeeklyHours
from sportello.core.yaml_lines import LineList, LineMap, did_you_mean
from sportello_sdk.options import kind_of

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RECURRING_YEARS = range(2000, 2100)

# Italian names, so that "lun:" gets a precise hint rather than no suggestion at all.
_ITALIAN = {
    "lun": "mon", "lunedi": "mon", "lunedì": "mon",
    "mar": "tue", "martedi": "tue", "martedì": "tue",
    "mer": "wed", "mercoledi": "wed", "mercoledì": "wed",
    "gio": "thu", "giovedi": "thu", "giovedì": "thu",
    "ven": "fri", "venerdi": "fri", "venerdì": "fri",
    "sab": "sat", "sabato": "sat",
    "dom": "sun", "domenica": "sun",
}  # fmt: skip

_SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
_DAY_FIRST_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")

Span = tuple[time, time]
# Called with (line, field, message) for every problem found.
Report = Callable[[int, str, str], None]


def weekday_hint(key: str) -> str:
    italian = _ITALIAN.get(key.strip().lower())
    if italian is not None:
        return f" — weekdays are written in English: {italian!r}"
    return did_you_mean(key, WEEKDAYS) or f"; weekdays are {', '.join(WEEKDAYS)}"


def parse_weekly(value: object, line: int, field: str, report: Report) -> WeeklyHours | None:
    """Weekly hours from a mapping of weekday → spans; ``None`` after a problem."""
    if not isinstance(value, LineMap):
        report(line, field, f"expected a mapping of weekday to hours, got {kind_of(value)}")
        return None
    days: list[tuple[Span, ...]] = [() for _ in WEEKDAYS]
    ok = True
    for key, spans in value.items():
        where = f"{field}.{key}"
        if key not in WEEKDAYS:
            report(value.line_of(key), where, f"unknown weekday {key[:40]!r}{weekday_hint(key)}")
            ok = False
            continue
        try:
            days[WEEKDAYS.index(key)] = parse_spans(spans)
        except ValueError as exc:
            report(_item_line(spans, value.line_of(key), exc), where, str(exc))
            ok = False
    return tuple(days) if ok else None


class SpanError(ValueError):
    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


def parse_spans(value: object) -> tuple[Span, ...]:
    """``closed``, a list of ``HH:MM-HH:MM`` spans, or such spans separated by commas."""
    if isinstance(value, str):
        if value.strip().lower() == "closed":
            return ()
        items: list[object] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = list(value)
    elif value is None:
        raise SpanError("expected spans such as [09:00-13:00, 15:30-19:30] or closed")
    else:
        raise SpanError(f"expected a list of spans such as 09:00-13:00, got {kind_of(value)}")
    spans: list[tuple[Span, int]] = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise SpanError(f"expected a span such as 09:00-13:00, got {kind_of(item)}", index)
        spans.append((_parse_span(item, index), index))
    spans.sort()
    for (previous, _), (current, index) in itertools.pairwise(spans):
        if current[0] < previous[1]:
            raise SpanError(f"{_show(previous)} and {_show(current)} overlap", index)
    return tuple(span for span, _ in spans)


def _parse_span(text: str, index: int) -> Span:
    match = _SPAN.fullmatch(text.strip())
    if match is None:
        raise SpanError(f"expected a span such as 09:00-13:00, got {text.strip()[:40]!r}", index)
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise SpanError(f"{text.strip()!r} is not a time of day (00:00 to 24:00)", index)
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if end <= start:
        raise SpanError(
            f"{text.strip()!r} ends before it starts; a span across midnight is two spans "
            "on two days (22:00-24:00 and 00:00-02:00)",
            index,
        )
    return start, end


def parse_holidays(value: object, line: int, field: str, report: Report) -> frozenset[date]:
    """Holidays from a list of ``YYYY-MM-DD`` dates and yearly ``MM-DD`` days."""
    if value is None:
        return frozenset()
    if not isinstance(value, LineList):
        expected = "expected a list of dates such as 2025-08-15 or 12-25"
        report(line, field, f"{expected}, got {kind_of(value)}")
        return frozenset()
    found: set[date] = set()
    for index, item in enumerate(value):
        try:
            found.update(parse_holiday(item))
        except ValueError as exc:
            report(value.line_of(index), field, str(exc))
    return frozenset(found)


def parse_holiday(item: object) -> list[date]:
    """One holiday: a date, or every year's ``MM-DD`` over :data:`RECURRING_YEARS`."""
    if isinstance(item, datetime):
        raise ValueError("a holiday is a day: write 2025-08-15, without a time")
    if isinstance(item, date):
        return [item]
    if not isinstance(item, str):
        raise ValueError(f"expected a date such as 2025-08-15 or 12-25, got {kind_of(item)}")
    text = item.strip()
    if _FULL_DATE.fullmatch(text):
        try:
            return [date.fromisoformat(text)]
        except ValueError:
            written_year, first, second = text.split("-")
            hint = _swapped(int(first), int(second), f"{written_year}-{second}-{first}")
            raise ValueError(f"{text!r} is not a date in the calendar{hint}") from None
    day_first = _DAY_FIRST_DATE.fullmatch(text)
    if day_first is not None:
        day_, month_, year_ = day_first.groups()
        iso = f"{year_}-{int(month_):02d}-{int(day_):02d}"
        hint = f"; did you mean {iso}?" if int(day_) > 12 else ""
        raise ValueError(f"{text[:40]!r}: dates are written year first (YYYY-MM-DD){hint}")
    match = _MONTH_DAY.fullmatch(text)
    if match is None:
        raise ValueError(f"expected a date such as 2025-08-15 or 12-25, got {text[:40]!r}")
    month, day = int(match[1]), int(match[2])
    try:
        date(2000, month, day)  # a leap year: 02-29 is a valid yearly holiday
    except ValueError:
        hint = _swapped(month, day, f"{match[2]}-{match[1]}")
        raise ValueError(f"{text!r} is not a day of the year (MM-DD){hint}") from None
    days = []
    for year in RECURRING_YEARS:
        try:
            days.append(date(year, month, day))
        except ValueError:  # 02-29 in a common year
            continue
    return days


def _swapped(month: int, day: int, swapped: str) -> str:
    """``; did you mean 12-25?`` when the day and month were written the other way."""
    if month <= 12:
        return ""
    try:
        date(2000, day, month)
    except ValueError:
        return ""
    return f"; did you mean {swapped}?"


def _item_line(spans: object, fallback: int, exc: ValueError) -> int:
    index = exc.index if isinstance(exc, SpanError) else None
    if isinstance(spans, LineList) and index is not None:
        return spans.line_of(index)
    return fallback


def _show(span: Span) -> str:
    end = "24:00" if span[1] == time.max else span[1].strftime("%H:%M")
    return f"{span[0].strftime('%H:%M')}-{end}"
