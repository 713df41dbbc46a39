"""Small pieces of text the widgets share: gap levels and bars, sparklines, clock
times, and customer text made safe to show.

Everything here returns plain ``str`` (or an enum); the widgets wrap it in
``Text`` objects, never in markup.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from tui.core.inert import ELLIPSIS, inert, inert_block
from tui.core.masking import mask_in_text
from tui.core.settings import Dashboard

__all__ = [
    "BAR_WIDTH",
    "SPARK",
    "GapLevel",
    "customer_block",
    "customer_line",
    "format_clock",
    "gap_bar",
    "gap_level",
    "sparkline",
]

BAR_WIDTH = 4
SPARK = "▁▂▃▄▅▆▇█"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class GapLevel(enum.Enum):
    """How far behind a channel (or a conversation) is."""

    OK = "ok"  # nobody behind: no gap, or a gap of zero or less
    BEHIND = "behind"  # behind, but within the warn threshold
    WARN = "warn"  # behind more than the warn threshold
    CRITICAL = "critical"  # behind more than the critical threshold

    @property
    def marker(self) -> str:
        """A mark that shows the level without colour (``NO_COLOR``, 16 colours)."""
        return {GapLevel.WARN: "!", GapLevel.CRITICAL: "!!"}.get(self, "")


def gap_level(gap_s: float | None, expect_s: float, thresholds: Dashboard) -> GapLevel:
    """The level of a gap against the configured warn and critical thresholds."""
    if gap_s is None or gap_s <= 0:
        return GapLevel.OK
    if gap_s > thresholds.gap_critical.at(expect_s):
        return GapLevel.CRITICAL
    if gap_s > thresholds.gap_warn.at(expect_s):
        return GapLevel.WARN
    return GapLevel.BEHIND


def gap_bar(gap_s: float | None, expect_s: float) -> str:
    """1-4 blocks growing with ``gap / expectation``; ``""`` when not behind.

    Under half the expectation behind: one block; under one expectation: two;
    under three: three; three expectations or more (or no expectation): four.
    """
    if gap_s is None or gap_s <= 0:
        return ""
    if expect_s <= 0:
        return "█" * BAR_WIDTH
    ratio = gap_s / expect_s
    blocks = 1 if ratio < 0.5 else 2 if ratio < 1 else 3 if ratio < 3 else 4
    return "█" * blocks


def _daily(trend: Sequence[int | None], points: int) -> list[int | None]:
    """Merge buckets into ``points`` points, each the largest of its buckets."""
    if len(trend) <= points:
        return list(trend)
    merged: list[int | None] = []
    for index in range(points):
        start = index * len(trend) // points
        end = (index + 1) * len(trend) // points
        known = [v for v in trend[start:end] if v is not None]
        merged.append(max(known) if known else None)
    return merged


def sparkline(trend: Sequence[int | None] | None, points: int = 7) -> str:
    """``▁▂▅█`` from the queue depth history; ``—`` when there is no history.

    Scaled to the channel's own largest value; an empty queue is the lowest bar
    and any queue at all is higher; a bucket without data is a space (never an
    invented value). Buckets are merged to ``points`` by their largest value.
    """
    if trend is None:
        return "—"
    values = _daily(trend, points)
    known = [v for v in values if v is not None]
    if not known:
        return "—"
    top = max(known)
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
        elif value <= 0 or top <= 0:
            chars.append(SPARK[0])  # an empty queue: the lowest bar
        else:  # anything waiting is at least the second bar, the largest the top one
            chars.append(SPARK[1 + int(min(value / top, 1.0) * (len(SPARK) - 2))])
    return "".join(chars)


def format_clock(at: float, now: float, tz: ZoneInfo) -> str:
    """``14:02`` today, ``yesterday 14:02``, ``12 Nov 14:02``, ``12 Nov 2025`` (in ``tz``)."""
    when = datetime.fromtimestamp(at, tz)
    today = datetime.fromtimestamp(now, tz).date()
    clock = f"{when.hour:02d}:{when.minute:02d}"
    day = when.date()
    if day == today:
        return clock
    if (today - day).days == 1:
        return f"yesterday {clock}"
    month = _MONTHS[when.month - 1]
    if when.year == today.year:
        return f"{when.day} {month} {clock}"
    return f"{when.day} {month} {when.year}"


def customer_line(text: str | None, limit: int, reveal: bool) -> str:
    """One inert line of customer text, addresses and numbers masked unless ``reveal``."""
    line = inert(text or "", limit)
    return line if reveal else mask_in_text(line)


def customer_block(text: str, limit: int, reveal: bool) -> str:
    """A message body: inert, at most ``limit`` characters, masked unless ``reveal``.

    Masked before and after cleaning, so that neither an escape sequence inside an
    address nor the cut at ``limit`` lets part of an address through.
    """
    if reveal:
        return inert_block(text, limit)
    window = limit * 4 + 64  # what inert_block reads at most
    cut = len(text) > window
    body = inert_block(mask_in_text(text[:window] if cut else text), limit)
    body = mask_in_text(body)
    if cut and not body.endswith(ELLIPSIS):
        body = body[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return body
