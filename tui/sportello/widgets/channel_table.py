"""The channel rows: one line per channel, updated in place.

At 80 columns::

    CHANNEL     WAITING   OLDEST  EXPECT  GAP              FRT p50  STATE
    Email            12    5h10m      4h  +1h10m    ██ !     2h05m  ✓ ok
    Phone             2  4m hold      2m  +2m        █        —     ⚠ timed out…

From 100 columns on, ``FRT p90`` and ``7 DAYS`` (a sparkline of the queue depth
over the last week) are added before ``STATE``. The security column arrives with
the checklist; until then it is absent.

A figure is never cut: the number columns are as wide as their widest figure
(``+123d04h``), and a terminal too narrow for every column loses whole columns,
``FRT p50`` first, then ``EXPECT``, ``OLDEST`` and ``WAITING`` (``GAP`` and
``STATE`` stay). When not every channel fits the table's height and the table
does not have the focus, it scrolls so that the worst channel is in view.

Each update compares every cell with what is shown and calls ``update_cell`` only
for the cells that changed: no clear, no flicker, and the cursor stays on its
channel when channels are added or removed above it.

The level of a gap shows in three ways, so that it reads with 16 colours and with
``NO_COLOR``: a colour (component classes; on 16 colours the palette's own, see
:func:`~sportello.widgets.cells.sixteen_colours`), a bar growing with gap/expectation,
and a mark (``!`` warn, ``!!`` critical). The state has a glyph (✓ ⚠ ✗ …, or
ASCII: :mod:`sportello.core.glyphs`). The cursor shows only while the table has the
focus: a highlighted row would paint over its channel's colours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Region
from textual.message import Message
from textual.widgets import DataTable

from sportello.bindings import bindings
from sportello.core.board import Board, ChannelRow, dropped_note, dropped_summary, opens_label
from sportello.core.glyphs import Glyphs, glyphs
from sportello.core.inert import inert
from sportello.core.records import Health
from sportello.core.report import CLOSED, OFF_HOURS, gap_text
from sportello.core.settings import Dashboard
from sportello.widgets.cells import (
    BAR_WIDTH,
    FEW_COLOURS,
    GapLevel,
    ascii_scrollbar,
    component_style,
    format_clock,
    gap_bar,
    gap_level,
    sixteen_colours,
    sparkline,
)
from sportello_sdk.options import format_duration

__all__ = ["OFF_HOURS", "WIDE_AT", "ChannelTable", "describe_channel"]

WIDE_AT = 100
"""From this many columns on, the table adds ``FRT p90`` and ``7 DAYS``."""


_CACHED_CELLS = 400  # DataTable's render caches (see ChannelTable.__init__)
_CACHED_ROWS = 100
_LABEL_LIMIT = 60  # characters of a channel label kept before truncating to the column
_ERROR_LIMIT = 300  # characters of an error kept for the STATE cell
_FULL_ERROR_LIMIT = 2000  # … and for describe_channel
_MIN_STATE = 8  # "✗ down", "⚠ degra…": the glyph and the colour say the rest
_LABEL = 10  # the label's width below WIDE_AT …
_MIN_LABEL = 8  # … and what it may shrink to before a column is dropped ("Facebook")
_GAP_VALUE = 7  # "+23h18m": the gap's figure, before its bar and mark

_WORDS = {
    Health.OK: "ok",
    Health.DEGRADED: "degraded",
    Health.DOWN: "down",
    Health.UNKNOWN: "waiting for first poll",
}


def _glyph(health: Health, marks: Glyphs) -> str:
    return {
        Health.OK: marks.ok,
        Health.DEGRADED: marks.degraded,
        Health.DOWN: marks.down,
        Health.UNKNOWN: marks.pending,
    }[health]


_LEVEL_CLASS = {
    GapLevel.OK: "channel-table--ok",
    GapLevel.BEHIND: "channel-table--behind",
    GapLevel.WARN: "channel-table--warn",
    GapLevel.CRITICAL: "channel-table--critical",
}
_HEALTH_CLASS = {
    Health.OK: "channel-table--ok",
    Health.DEGRADED: "channel-table--degraded",
    Health.DOWN: "channel-table--down",
    Health.UNKNOWN: "channel-table--pending",
}
# How bad a channel is, to keep the worst in view: down (its queue unknown), then critical.
_LEVEL_RANK = {GapLevel.OK: 0, GapLevel.BEHIND: 1, GapLevel.WARN: 2, GapLevel.CRITICAL: 3}
_HEALTH_RANK = {Health.OK: 0, Health.UNKNOWN: 0, Health.DEGRADED: 2, Health.DOWN: 4}


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    label: str
    width: int | None  # the narrowest it may be; None: sized by the layout (label, state)
    right: bool = False

    @property
    def header(self) -> Text:
        return Text(self.label, justify="right" if self.right else "left")


_CHANNEL = _Column("channel", "CHANNEL", None)
_WAITING = _Column("waiting", "WAITING", 7, right=True)
_OLDEST = _Column("oldest", "OLDEST", 8, right=True)
_EXPECT = _Column("expect", "EXPECT", 6, right=True)
_GAP = _Column("gap", "GAP", _GAP_VALUE + 1 + BAR_WIDTH + 3)  # "+23h18m ████ !!"
_FRT_P50 = _Column("frt_p50", "FRT p50", 7, right=True)
_FRT_P90 = _Column("frt_p90", "FRT p90", 7, right=True)
_TREND = _Column("trend", "7 DAYS", 7)
_STATE = _Column("state", "STATE", None)

_NARROW = (_CHANNEL, _WAITING, _OLDEST, _EXPECT, _GAP, _FRT_P50, _STATE)
_WIDE = (_CHANNEL, _WAITING, _OLDEST, _EXPECT, _GAP, _FRT_P50, _FRT_P90, _TREND, _STATE)
_FIGURES = tuple(c for c in _WIDE if c.width is not None)
_DROP_ORDER = ("trend", "frt_p90", "frt_p50", "expect", "oldest", "waiting")
"""Which column goes first when the terminal is too narrow for all of them."""


@dataclass(frozen=True, slots=True)
class _Layout:
    columns: tuple[_Column, ...]
    widths: Mapping[str, int]  # every column shown, label and state included

    @property
    def label_width(self) -> int:
        return self.widths["channel"]

    @property
    def state_width(self) -> int:
        return self.widths["state"]


def _layout(width: int, padding: int, figures: Mapping[str, int]) -> _Layout:
    """Which columns, and how wide each is, at ``width``.

    ``figures``: how wide each number column must be for its widest figure. Whole
    columns are dropped (``_DROP_ORDER``) rather than any figure cut; the label
    shrinks to ``_MIN_LABEL`` before a column goes.
    """
    wide = width >= WIDE_AT
    columns = list(_WIDE if wide else _NARROW)
    label = _LABEL if not wide else min(20, 12 + max(0, width - 140) // 4)

    def state_room(shown: list[_Column], label_width: int) -> int:
        used = sum(figures[c.key] for c in shown if c.width is not None) + label_width
        return width - used - 2 * padding * len(shown)

    drops = [None, *(key for key in _DROP_ORDER if any(c.key == key for c in columns))]
    for drop in drops:
        columns = [c for c in columns if c.key != drop]
        for label_width in dict.fromkeys((label, min(label, _MIN_LABEL))):
            room = state_room(columns, label_width)
            if room >= _MIN_STATE:
                break
        if room >= _MIN_STATE:
            break
    if room < _MIN_STATE:  # narrower than GAP and STATE: a shorter label, then what is left
        label_width = max(3, label_width - (_MIN_STATE - room))
        room = max(1, state_room(columns, label_width))
    widths = {c.key: figures[c.key] for c in columns if c.width is not None}
    widths["channel"] = label_width
    widths["state"] = room
    return _Layout(tuple(columns), widths)


def _same(a: Text | None, b: Text) -> bool:
    return (
        a is not None
        and a.plain == b.plain
        and a.style == b.style
        and a.spans == b.spans
        and a.justify == b.justify
    )


def _cut(text: str, width: int, marks: Glyphs, *, pad: bool = False) -> str:
    """``text`` in ``width`` cells, ending with the cut mark when it does not fit."""
    length = cell_len(text)
    if length > width:
        mark = marks.cut if cell_len(marks.cut) < width else ""
        return set_cell_size(text, width - cell_len(mark)) + mark
    return text + " " * (width - length) if pad else text


def _state_plain(row: ChannelRow, width: int, now: float | None = None) -> str:
    """``✓ ok``, ``✓ ok · 2 dropped``, ``⚠ degraded: timed out``; only the error when
    both do not fit. What the sense checks dropped shows with a healthy state only
    (a failing channel's error says more); the channel's detail has why."""
    marks = glyphs()
    health = row.health
    glyph, word = _glyph(health, marks), _WORDS[health]
    if row.not_polled is not None:  # the collector's config lacks it: nothing is fresh
        for text in (
            marks.mark(marks.degraded, "not polled: restart the collector"),
            marks.mark(marks.degraded, "not polled"),
        ):
            if cell_len(text) <= width:
                return text
        return marks.mark(marks.degraded, "")
    if health is Health.UNKNOWN:
        text = marks.mark(glyph, word)
        return text if cell_len(text) <= width else marks.mark(glyph, "first poll")
    error = inert(row.error, _ERROR_LIMIT) if row.error else ""
    note = dropped_note(row.dropped) if health is Health.OK else None
    if health is Health.OK and now is not None:
        opens = opens_label(row, now)
        if opens is not None:  # closed: say so, and when it opens
            closed = [f"{word} {marks.dot} opens {opens}", f"opens {opens}"]
            if note is not None:
                closed.insert(0, f"{closed[0]} {marks.dot} {note}")
            for text in (marks.mark(glyph, words) for words in closed):
                if cell_len(text) <= width:
                    return text
            return marks.mark(glyph, "closed")
    if note is not None:
        for text in (marks.mark(glyph, f"{word} {marks.dot} {note}"), marks.mark(glyph, note)):
            if cell_len(text) <= width:
                return text
    if health is Health.OK or not error:
        return marks.mark(glyph, word)
    full = marks.mark(glyph, f"{word}: {error}")
    if cell_len(full) <= width or width >= cell_len(marks.mark(glyph, f"{word}: ")) + 8:
        return full
    return marks.mark(glyph, error)  # the glyph and the colour still say degraded/down


class ChannelTable(DataTable[Text]):
    """One row per channel, keyed by channel id; ``update_board`` applies a board."""

    # Ours on top of DataTable's: ids for the help list and keys: remapping, j/k too.
    BINDINGS: ClassVar[list[BindingType]] = [*bindings("channels")]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *DataTable.COMPONENT_CLASSES,
        "channel-table--ok",
        "channel-table--behind",
        "channel-table--warn",
        "channel-table--critical",
        "channel-table--degraded",
        "channel-table--down",
        "channel-table--pending",
        "channel-table--muted",
    }

    DEFAULT_CSS = """
    ChannelTable {
        width: 1fr;
        height: auto;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        & > .channel-table--ok { color: $text-success; }
        & > .channel-table--behind { }
        & > .channel-table--warn { color: $text-warning; }
        & > .channel-table--critical { color: $text-error; text-style: bold; }
        & > .channel-table--degraded { color: $text-warning; }
        & > .channel-table--down { color: $text-error; text-style: bold; }
        & > .channel-table--pending { color: $text-muted; text-style: italic; }
        & > .channel-table--muted { color: $text-muted; }
        &:ansi {
            & > .channel-table--ok { color: ansi_green; }
            & > .channel-table--warn { color: ansi_yellow; }
            & > .channel-table--critical { color: ansi_bright_red; }
            & > .channel-table--degraded { color: ansi_yellow; }
            & > .channel-table--down { color: ansi_bright_red; }
        }
        /* 16 colours: the palette's own green, yellow and bright red (see cells.py). */
        &.-colours-16 {
            & > .channel-table--ok { color: #00aa00; }
            & > .channel-table--warn { color: #aa5500; }
            & > .channel-table--critical { color: #ff5555; text-style: bold; }
            & > .channel-table--degraded { color: #aa5500; }
            & > .channel-table--down { color: #ff5555; text-style: bold; }
        }
        /* NO_COLOR draws colours as greys: the error pink would be dimmer than text. */
        &:nocolor {
            & > .channel-table--warn { color: $foreground; }
            & > .channel-table--critical { color: $foreground; text-style: bold; }
            & > .channel-table--degraded { color: $foreground; }
            & > .channel-table--down { color: $foreground; text-style: bold; }
        }
    }
    """

    class _ChannelMessage(Message):
        def __init__(self, channel_table: ChannelTable, channel_id: str) -> None:
            super().__init__()
            self.channel_table = channel_table
            self.channel_id = channel_id

        @property
        def control(self) -> ChannelTable:
            return self.channel_table

    class ChannelHighlighted(_ChannelMessage):
        """The cursor moved to another channel, or the table got the focus."""

    class ChannelSelected(_ChannelMessage):
        """Enter (or a click) on a channel."""

    class TrendsShown(Message):
        """The 7-day column came into view (``shown``) or went: its data is read only
        while it is drawn. Posted to the app, after the frame that lays the table out."""

        def __init__(self, channel_table: ChannelTable, shown: bool) -> None:
            super().__init__()
            self.channel_table = channel_table
            self.shown = shown

        @property
        def control(self) -> ChannelTable:
            return self.channel_table

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            cursor_type="row",
            show_cursor=False,  # shown while focused (on_focus)
            zebra_stripes=False,
            show_row_labels=False,
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
        )
        self._board: Board | None = None
        self._thresholds = Dashboard()
        self._shown: dict[str, dict[str, Text]] = {}
        self._announced: str | None = None
        self._trends_shown = False  # the 7-day column is drawn (TrendsShown)
        # DataTable keys its render caches by an update count, so each board's cells
        # are new entries and the old ones are never hit again: sized for a table
        # of 100,000 cells (10,000 of them), they grew the dashboard by ~35 KB a
        # board for hours. A table of a few channels needs a few screens' worth.
        self._cell_render_cache.maxsize = _CACHED_CELLS
        for cache in (self._row_render_cache, self._row_renderable_cache, self._line_cache):
            cache.maxsize = _CACHED_ROWS

    # -- public ---------------------------------------------------------------

    @property
    def board(self) -> Board | None:
        """The board shown, ``None`` before the first."""
        return self._board

    @property
    def selected_channel_id(self) -> str | None:
        """The channel under the cursor, ``None`` when the table is empty."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    @property
    def column_keys(self) -> list[str]:
        """The keys of the columns shown, in order (depends on the width)."""
        return [str(column.key.value) for column in self.ordered_columns]

    def cell_text(self, channel_id: str, column: str) -> str:
        """The plain text of one cell (for tests and the lead's checks)."""
        return self.get_cell(channel_id, column).plain

    def update_board(self, board: Board, thresholds: Dashboard) -> None:
        """Show ``board``: add missing rows, remove stale ones, update changed cells."""
        self._board = board
        self._thresholds = thresholds
        self._apply()

    # -- applying a board -------------------------------------------------------

    def _available_width(self) -> int:
        width = self.scrollable_content_region.width
        if width <= 0:
            width = self.app.size.width
        return width

    def _apply(self) -> None:
        board = self._board
        if board is None:
            return
        rows: dict[str, ChannelRow] = {}
        for row in board.channels:
            rows.setdefault(row.channel.id, row)  # ids are unique in a valid config
        gap_width = max(
            [_GAP_VALUE]
            + [cell_len(gap_text(r.metrics.gap_s)) for r in rows.values() if r.metrics.gap_s]
        )
        figures = {channel_id: self._figures(row, gap_width) for channel_id, row in rows.items()}
        widths = {
            column.key: max(
                [column.width or 0, cell_len(column.label)]
                + [cells[column.key].cell_len for cells in figures.values()]
            )
            for column in _FIGURES
        }
        layout = _layout(self._available_width(), self.cell_padding, widths)
        self._sync_columns(layout)
        self._say_trends_shown(any(column.key == "trend" for column in layout.columns))
        wanted = list(rows)
        keep = self.selected_channel_id

        current = [str(row.key.value) for row in self.ordered_rows]
        for channel_id in current:
            if channel_id not in rows:
                self._remove(channel_id)
        current = [channel_id for channel_id in current if channel_id in rows]
        prefix = 0
        while prefix < len(current) and current[prefix] == wanted[prefix]:
            prefix += 1
        for channel_id in current[prefix:]:  # out of order: re-added below, in order
            self._remove(channel_id)

        keys = [column.key for column in layout.columns]
        for channel_id in wanted[:prefix]:
            shown = self._shown[channel_id]
            for key, text in self._cells(rows[channel_id], layout, figures[channel_id]).items():
                if not _same(shown.get(key), text):
                    self.update_cell(channel_id, key, text)
                    shown[key] = text
        for channel_id in wanted[prefix:]:
            cells = self._cells(rows[channel_id], layout, figures[channel_id])
            self.add_row(*(cells[key] for key in keys), key=channel_id)
            self._shown[channel_id] = cells

        if keep is not None and keep in rows:
            index = self.get_row_index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, scroll=self.has_focus)
        self._keep_worst_in_view()

    def _worst_index(self) -> int | None:
        """The row of the worst channel (down, then the worst gap); None if all are fine."""
        board = self._board
        if board is None:
            return None
        worst: tuple[int, float] = (0, 0.0)
        found: str | None = None
        for row in board.channels:
            metrics = row.metrics
            level = gap_level(metrics.gap_s, metrics.expect_s, self._thresholds)
            rank = max(_LEVEL_RANK[level], _HEALTH_RANK[row.health])
            share = (metrics.gap_s or 0.0) / metrics.expect_s if metrics.expect_s > 0 else 0.0
            if rank > 0 and (rank, share) > worst:
                worst, found = (rank, share), row.channel.id
        if found is None or found not in self.rows:
            return None
        return self.get_row_index(found)

    def _keep_worst_in_view(self) -> None:
        """Scroll (without moving the cursor) so that the worst channel shows.

        Only while the table has no focus: with the focus, the cursor decides.
        """
        if self.has_focus:
            return
        index = self._worst_index()
        if index is None:
            return
        row = self._get_row_region(index)
        region = Region(int(self.scroll_x), row.y, row.width, row.height)
        self.scroll_to_region(
            region, animate=False, spacing=self._get_fixed_offset(), force=True, immediate=True
        )

    def _remove(self, channel_id: str) -> None:
        self.remove_row(channel_id)
        self._shown.pop(channel_id, None)

    def _say_trends_shown(self, shown: bool) -> None:
        if shown is not self._trends_shown:
            self._trends_shown = shown
            self.call_after_refresh(self._post_trends_shown)

    def _post_trends_shown(self) -> None:
        # To the app, which feeds the boards: made while the screen applies a
        # board, the message would have the screen as sender and stop bubbling there.
        self.app.post_message(self.TrendsShown(self, self._trends_shown))

    def _sync_columns(self, layout: _Layout) -> None:
        """Columns and their widths as ``layout`` says; from the first that differs on,
        they are removed and added again (their cells are then updated)."""
        current = [(str(c.key.value), c.width) for c in self.ordered_columns]
        wanted = [(column.key, layout.widths[column.key]) for column in layout.columns]
        if current == wanted:
            return
        prefix = 0
        while prefix < min(len(current), len(wanted)) and current[prefix] == wanted[prefix]:
            prefix += 1
        for key, _ in current[prefix:]:
            self.remove_column(key)
            for shown in self._shown.values():
                shown.pop(key, None)
        for column in layout.columns[prefix:]:
            self.add_column(column.header, width=layout.widths[column.key], key=column.key)

    # -- cells ----------------------------------------------------------------

    def _style(self, component: str) -> Style:
        return component_style(self, component)

    def _figures(self, row: ChannelRow, gap_width: int) -> dict[str, Text]:
        """The number cells of a row (they size their columns: never cut)."""
        marks = glyphs()
        metrics = row.metrics
        muted = self._style("channel-table--muted")
        known = row.record is not None and row.record.last_ok_at is not None
        unknown = marks.pending if row.health is Health.UNKNOWN else marks.dash

        def number(value: str, *, dim: bool = False) -> Text:
            return Text(value, style=muted if dim else "", justify="right", end="")

        phone = row.record is not None and row.record.on_hold is not None
        gap: Text
        if not known:
            waiting, oldest = number(unknown, dim=True), number(unknown, dim=True)
            gap = Text(unknown, style=muted, end="")
        else:
            waiting = number(str(metrics.waiting), dim=metrics.waiting == 0)
            if metrics.waiting == 0 or metrics.oldest_wait_s is None:
                oldest = number(marks.dash, dim=True)
            elif row.waits_not_started:
                oldest = number(CLOSED, dim=True)
            else:
                value = format_duration(metrics.oldest_wait_s)
                if phone and len(value) + 5 <= (_OLDEST.width or 0):
                    value += " hold"
                oldest = number(value)
            gap = self._gap_cell(row, gap_width)
        if row.answered_off_hours:
            frt_p50 = number(OFF_HOURS, dim=True)
        else:
            frt_p50 = number(_duration(metrics.frt_p50_s), dim=metrics.frt_p50_s is None)
        return {
            "waiting": waiting,
            "oldest": oldest,
            "expect": number(_duration(metrics.expect_s)),
            "gap": gap,
            "frt_p50": frt_p50,
            "frt_p90": number(_duration(metrics.frt_p90_s), dim=metrics.frt_p90_s is None),
            "trend": Text(sparkline(row.trend), style=muted if row.trend is None else "", end=""),
        }

    def _cells(self, row: ChannelRow, layout: _Layout, figures: dict[str, Text]) -> dict[str, Text]:
        label = Text(
            _cut(inert(row.channel.label, _LABEL_LIMIT), layout.label_width, glyphs(), pad=True),
            end="",
        )
        cells = {**figures, "channel": label, "state": self._state_cell(row, layout.state_width)}
        return {column.key: cells[column.key] for column in layout.columns}

    def _gap_cell(self, row: ChannelRow, value_width: int) -> Text:
        metrics = row.metrics
        level = gap_level(metrics.gap_s, metrics.expect_s, self._thresholds)
        style = self._style(_LEVEL_CLASS[level])
        if row.waits_not_started:  # nothing counted yet: no gap to judge (see OLDEST)
            return Text("", end="")
        if metrics.gap_s is None and metrics.waiting > 0:  # callers on hold, hold unknown
            return Text(glyphs().dash, style=self._style("channel-table--muted"), end="")
        if level is GapLevel.OK:
            return Text(gap_text(None), style=style, end="")
        value = gap_text(metrics.gap_s)
        bar = gap_bar(metrics.gap_s, metrics.expect_s)
        plain = f"{value:<{value_width}} {bar:>{BAR_WIDTH}} {level.marker}".rstrip()
        return Text(plain, style=style, end="")

    def _state_cell(self, row: ChannelRow, width: int) -> Text:
        now = self._board.now if self._board is not None else None
        plain = _cut(_state_plain(row, width, now), width, glyphs())
        health = row.health
        dropped = row.dropped
        if row.not_polled is not None or (
            health is Health.OK and dropped is not None and dropped.count
        ):  # not fresh, or customers the adapter returned are not shown: a warning
            health = Health.DEGRADED
        return Text(plain, style=self._style(_HEALTH_CLASS[health]), end="")

    # -- events ---------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_class(sixteen_colours(self.app.console.color_system), FEW_COLOURS)
        ascii_scrollbar(self)

    def on_resize(self, event: events.Resize) -> None:
        self._apply()

    def watch_show_vertical_scrollbar(self, show: bool) -> None:
        self.call_later(self._apply)  # the scrollbar takes width from the state column

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self.call_later(self._apply)  # colours come from CSS: redraw on a theme change

    def on_focus(self, event: events.Focus) -> None:
        # Coming back to the table makes its channel the one of interest again.
        channel_id = self.selected_channel_id
        if channel_id is not None:
            self._announced = channel_id
            self.post_message(self.ChannelHighlighted(self, channel_id))
        self.show_cursor = True  # and scrolls to it

    def on_blur(self, event: events.Blur) -> None:
        self.show_cursor = False
        self._keep_worst_in_view()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is not self:
            return
        event.stop()
        # Read the cursor now, not the event: while a board is applied the cursor
        # may pass over other rows, and only where it ends is announced.
        channel_id = self.selected_channel_id
        if channel_id is not None and channel_id != self._announced:
            self._announced = channel_id
            self.post_message(self.ChannelHighlighted(self, channel_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is not self:
            return
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.ChannelSelected(self, event.row_key.value))


def _duration(seconds: float | None) -> str:
    """``2h05m``; the dash when unknown."""
    return glyphs().dash if seconds is None else format_duration(seconds)


def _when(at: float | None, now: float | None, tz: ZoneInfo | None) -> str:
    if at is None:
        return "never"
    zone = tz or ZoneInfo("UTC")
    text = format_clock(at, now if now is not None else at, zone)
    if tz is None:
        text += " UTC"
    if now is not None and now >= at:
        text += f" ({format_duration(now - at)} ago)"
    return text


def describe_channel(
    row: ChannelRow, *, now: float | None = None, tz: ZoneInfo | None = None
) -> Text:
    """A channel in full, for the preview: label, adapter, state, error, times.

    ``now`` adds "(2h ago)" to times; ``tz`` is the business time zone (UTC when
    not given). Everything from outside (label, error) is made inert.
    """
    marks = glyphs()
    record = row.record
    health = row.health
    style = {
        Health.OK: Style(color="green"),
        Health.DEGRADED: Style(color="yellow"),
        Health.DOWN: Style(color="red", bold=True),
        Health.UNKNOWN: Style(dim=True),
    }[health]
    adapter = record.adapter if record is not None else row.channel.adapter
    text = Text(end="")
    text.append(inert(row.channel.label, _LABEL_LIMIT), style="bold")
    dot = marks.dot
    text.append(f"  adapter {inert(adapter, 40)} {dot} id {inert(row.channel.id, 60)}", style="dim")
    text.append("\nState: ")
    text.append(marks.mark(_glyph(health, marks), _WORDS[health]), style=style)
    opens = opens_label(row, now) if now is not None else None
    if opens is not None:
        text.append(f"\nClosed now, opens {opens}. Waits count open hours only")
        if row.waits_not_started:
            text.append(": these customers wrote after closing, their wait starts then")
        text.append(".")
    if row.answered_off_hours:
        real = _duration(row.metrics.frt_p50_real_s)
        text.append(
            f"\nFRT p50: {_duration(row.metrics.frt_p50_s)} of open time, {real} in real time."
            " FRT counts open hours; these answers were given while closed."
        )
    if row.not_polled is not None:
        text.append("\n")
        text.append(inert(row.not_polled, 200), style=Style(color="yellow"))
    if row.error:
        text.append("\nLast error: ")
        text.append(inert(row.error, _FULL_ERROR_LIMIT))
    dropped = row.dropped
    if dropped is not None:
        warn = Style(color="yellow") if dropped.count else Style()
        text.append("\n")
        text.append(dropped_summary(dropped), style=warn)
        for reason in dropped.reasons:
            text.append(f"\n  {marks.dot} ")
            text.append(inert(reason, _ERROR_LIMIT))
        shown = len(dropped.reasons)
        if dropped.count + dropped.fixed > shown:
            text.append(f"\n  {marks.dot} and {dropped.count + dropped.fixed - shown} more")
    if record is not None:
        if health in (Health.DEGRADED, Health.DOWN) and record.failing_since is not None:
            text.append(f"\nFailing since: {_when(record.failing_since, now, tz)}")
        text.append(f"\nLast successful poll: {_when(record.last_ok_at, now, tz)}")
        if record.last_poll_at is not None and record.last_poll_at != record.last_ok_at:
            text.append(f"\nLast poll: {_when(record.last_poll_at, now, tz)}")
    else:
        text.append("\nLast successful poll: never")
    return text
