"""Until when to snooze, as a person types it: ``1h``, ``14:30``, ``tomorrow``…

:func:`parse_until` reads one of these, at ``now`` in the business's time zone:

===================  ============================================================
``1h``, ``30m``      that long from now (a duration, always with its unit)
``14:30``            the next 14:30: today if it is still to come, else tomorrow
``2026-03-02 09:00`` that moment (``T`` between the date and the time works too)
``tomorrow``         tomorrow at 09:00
``opening``          the channel's next opening (after it closes, if it is open)
``reply``            until the customer writes again (``inf``)
===================  ============================================================

Pure: no clock, no I/O. A time that cannot be read, or that has passed, raises
:class:`ValueError` with a sentence for the person who typed it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sportello.core.board import schedule_for
from sportello.core.desk import MORNING, next_opening
from sportello.core.settings import Channel
from sportello_sdk.options import OptionError, parse_duration

__all__ = ["FORMS", "parse_until"]

FORMS = "1h, 30m, 14:30, '2026-03-02 09:00', tomorrow, opening or reply"
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]+([01]?\d|2[0-3]):([0-5]\d)")
_LOOKS_LIKE_TIME = re.compile(r"\d:\d")
_DURATION_START = re.compile(r"\d")


def parse_until(text: str, *, now: float, tz: ZoneInfo, channel: Channel | None = None) -> float:
    """Unix seconds to snooze until (``inf``: until the customer writes again)."""
    word = " ".join(text.split()).lower()
    if not word:
        raise ValueError(f"snooze until when? write {FORMS}")
    if word == "reply":
        return math.inf
    if word == "tomorrow":
        day = datetime.fromtimestamp(now, tz).date() + timedelta(days=1)
        return _at(day, MORNING, tz)
    if word == "opening":
        return _opening(channel, now)
    clock = _CLOCK.fullmatch(word)
    if clock is not None:
        wanted = time(int(clock.group(1)), int(clock.group(2)))
        today = datetime.fromtimestamp(now, tz).date()
        moment = _at(today, wanted, tz)
        if moment <= now:
            moment = _at(today + timedelta(days=1), wanted, tz)
        return moment
    full = _MOMENT.fullmatch(word)
    if full is not None:
        try:
            day = date.fromisoformat(full.group(1))
        except ValueError:
            raise ValueError(f"{text.strip()!r} is not a date (write YYYY-MM-DD HH:MM)") from None
        moment = _at(day, time(int(full.group(2)), int(full.group(3))), tz)
        if moment <= now:
            raise ValueError(f"{text.strip()} has already passed")
        return moment
    if _LOOKS_LIKE_TIME.search(word):
        raise ValueError(f"{text.strip()[:40]!r} is not a time of day (00:00 to 23:59)")
    if _DURATION_START.match(word):
        try:
            span = parse_duration(word)
        except OptionError as exc:
            raise ValueError(f"snooze until when? {exc}") from None
        if span.total_seconds() <= 0:
            raise ValueError("snooze for how long? 0 is no time at all")
        return now + span.total_seconds()
    raise ValueError(f"snooze until when? {text.strip()[:40]!r} is none of {FORMS}")


def _at(day: date, moment: time, tz: ZoneInfo) -> float:
    return datetime.combine(day, moment, tz).timestamp()


def _opening(channel: Channel | None, now: float) -> float:
    if channel is None:
        raise ValueError("opening: the channel is no longer in config.yaml")
    if channel.hours is None or schedule_for(channel).always_open:
        raise ValueError(f"{channel.label} is open every hour (24/7): it has no next opening")
    opening = next_opening(channel, now)
    if opening is None:
        raise ValueError(f"{channel.label} does not open in the next days")
    return opening
