"""Small pieces the widgets share: gap levels and bars, sparklines, clock times,
customer text made safe to show, and component styles that read in any terminal.

The text helpers return plain ``str`` (or an enum); the widgets wrap it in
``Text`` objects, never in markup. Glyphs come from :mod:`sportello.core.glyphs`
(ASCII when the terminal cannot show Unicode).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.widget import Widget

from sportello.core.glyphs import glyphs
from sportello.core.inert import ELLIPSIS, inert, inert_block
from sportello.core.masking import mask_in_text
from sportello.core.settings import Dashboard

__all__ = [
    "BAR_WIDTH",
    "FEW_COLOURS",
    "GapLevel",
    "ascii_scrollbar",
    "component_style",
    "customer_block",
    "customer_line",
    "format_clock",
    "gap_bar",
    "gap_level",
    "sixteen_colours",
    "sparkline",
]

BAR_WIDTH = 4
FEW_COLOURS = "-colours-16"
"""The class a table gives itself on a 16-colour terminal (see :func:`sixteen_colours`)."""
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
    block = glyphs().bar
    if expect_s <= 0:
        return block * BAR_WIDTH
    ratio = gap_s / expect_s
    blocks = 1 if ratio < 0.5 else 2 if ratio < 1 else 3 if ratio < 3 else 4
    return block * blocks


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
    marks = glyphs()
    if trend is None:
        return marks.dash
    values = _daily(trend, points)
    known = [v for v in values if v is not None]
    if not known:
        return marks.dash
    spark = marks.spark
    top = max(known)
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
        elif value <= 0 or top <= 0:
            chars.append(spark[0])  # an empty queue: the lowest bar
        else:  # anything waiting is at least the second bar, the largest the top one
            chars.append(spark[1 + int(min(value / top, 1.0) * (len(spark) - 2))])
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


def sixteen_colours(color_system: str | None) -> bool:
    """True for a terminal of 16 colours (``TERM=xterm``, ``vt100``).

    Textual draws the theme in true colour and Rich maps each colour to the
    nearest of the 16 when it writes: the theme's error pink lands on grey (7),
    dimmer than normal text (15), while its warning lands on bright yellow. On
    such a terminal the tables pick their level colours from the 16 themselves
    (:data:`FEW_COLOURS`), as exact palette colours that Rich maps to themselves.
    """
    return color_system in ("standard", "windows")


def component_style(widget: Widget, name: str) -> Style:
    """A component class's style for a cell (partial: the row keeps its background).

    A colour with alpha (``$text-muted``) is blended over the widget's background
    here: a partial style alone carries it at full strength, brighter than text.
    """
    style = widget.get_component_rich_style(name, partial=True)
    color = widget.get_component_styles(name).color
    if style.color is not None and color.a < 1:
        _, background = widget.background_colors
        style += Style(color=(background + color).rich_color)
    return style


class _AsciiScrollBarRender(ScrollBarRender):
    """A scrollbar of spaces: its thumb shows by its colour, not by ``▁▂▃▄`` blocks."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * 8
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * 8


def ascii_scrollbar(widget: Widget) -> None:
    """Draw ``widget``'s vertical scrollbar without block glyphs when they cannot show."""
    if glyphs().plain:
        # Per instance, as Textual documents it (the attribute is a ClassVar).
        widget.vertical_scrollbar.renderer = _AsciiScrollBarRender  # type: ignore[misc]


def sync_scrollbar(widget: Widget, virtual_size: Size) -> None:
    """Tell ``widget``'s vertical scroll bar its new virtual height; repaint it only
    when its thumb is drawn differently.

    For a widget whose ``virtual_size`` changes without a layout (the queue on every
    filter keystroke, the preview on every conversation): Textual gives the scroll
    bar its sizes when it lays the screen out, so without this the thumb stayed
    where the last layout left it (a queue of 15 drawn as if it held 1). A repaint
    of a bar that looks the same is bytes over SSH for nothing: a queue of 15
    that becomes 16 mostly draws the same thumb.
    """
    if not widget.show_vertical_scrollbar:
        return
    scrollbar = widget.vertical_scrollbar
    window = widget.container_size.height - widget.scrollbar_size_horizontal
    before = _thumb(scrollbar, scrollbar.window_virtual_size, scrollbar.window_size)
    scrollbar.set_reactive(ScrollBar.window_virtual_size, virtual_size.height)
    scrollbar.set_reactive(ScrollBar.window_size, window)
    if _thumb(scrollbar, virtual_size.height, window) != before:
        scrollbar.refresh()


def _thumb(scrollbar: ScrollBar, virtual_size: int, window_size: int) -> list[Segment]:
    """The scroll bar's cells for these sizes (in the renderer's own colours: only
    the thumb's place and glyphs matter), as Textual's ScrollBar draws them."""
    bar = scrollbar.renderer.render_bar(
        size=scrollbar.size.height,
        virtual_size=virtual_size,
        window_size=window_size if window_size < virtual_size else 0,
        position=scrollbar.position,
        thickness=scrollbar.thickness,
        vertical=True,
    )
    return list(bar.segments)
