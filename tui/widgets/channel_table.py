"""The channel rows: one line per channel, updated in place.

At 80 columns::

    CHANNEL     WAITING   OLDEST  EXPECT  GAP             FRT p50  STATE
    Email            12    5h10m      4h  +1h10m   ██ !     2h05m  ✓ ok
    Phone             2  4m hold      2m  +2m       █        —     ⚠ timed out…

From 100 columns on, ``FRT p90`` and ``7 DAYS`` (a sparkline of the queue depth
over the last week) are added before ``STATE``. The security column arrives with
the checklist; until then it is absent.

Each update compares every cell with what is shown and calls ``update_cell`` only
for the cells that changed: no clear, no flicker, and the cursor stays on its
channel when channels are added or removed above it.

The level of a gap shows in three ways, so that it reads with 16 colours and with
``NO_COLOR``: a colour (component classes), a bar growing with gap/expectation,
and a mark (``!`` warn, ``!!`` critical). The state has a glyph (✓ ⚠ ✗ …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import DataTable

from adapters.options import format_duration
from tui.bindings import bindings
from tui.core.board import Board, ChannelRow, opens_label
from tui.core.inert import inert
from tui.core.records import Health
from tui.core.report import gap_text
from tui.core.settings import Dashboard
from tui.widgets.cells import GapLevel, format_clock, gap_bar, gap_level, sparkline

__all__ = ["WIDE_AT", "ChannelTable", "describe_channel"]

WIDE_AT = 100
"""From this many columns on, the table adds ``FRT p90`` and ``7 DAYS``."""

_LABEL_LIMIT = 60  # characters of a channel label kept before truncating to the column
_ERROR_LIMIT = 300  # characters of an error kept for the STATE cell
_FULL_ERROR_LIMIT = 2000  # … and for describe_channel
_MIN_STATE = 10

_GLYPHS = {
    Health.OK: "✓",
    Health.DEGRADED: "⚠",
    Health.DOWN: "✗",
    Health.UNKNOWN: "…",
}
_WORDS = {
    Health.OK: "ok",
    Health.DEGRADED: "degraded",
    Health.DOWN: "down",
    Health.UNKNOWN: "waiting for first poll",
}
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


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    label: str
    width: int | None  # None: as wide as its content (which we size ourselves)
    right: bool = False

    @property
    def header(self) -> Text:
        return Text(self.label, justify="right" if self.right else "left")


_CHANNEL = _Column("channel", "CHANNEL", None)
_WAITING = _Column("waiting", "WAITING", 7, right=True)
_OLDEST = _Column("oldest", "OLDEST", 8, right=True)
_EXPECT = _Column("expect", "EXPECT", 6, right=True)
_GAP = _Column("gap", "GAP", 14)
_FRT_P50 = _Column("frt_p50", "FRT p50", 7, right=True)
_FRT_P90 = _Column("frt_p90", "FRT p90", 7, right=True)
_TREND = _Column("trend", "7 DAYS", 7)
_STATE = _Column("state", "STATE", None)

_NARROW = (_CHANNEL, _WAITING, _OLDEST, _EXPECT, _GAP, _FRT_P50, _STATE)
_WIDE = (_CHANNEL, _WAITING, _OLDEST, _EXPECT, _GAP, _FRT_P50, _FRT_P90, _TREND, _STATE)
_AUTO = frozenset(c.key for c in _WIDE if c.width is None)


@dataclass(frozen=True, slots=True)
class _Layout:
    columns: tuple[_Column, ...]
    label_width: int
    state_width: int


def _layout(width: int, padding: int) -> _Layout:
    """Which columns, and how wide the label and the state may be, at ``width``."""
    wide = width >= WIDE_AT
    columns = _WIDE if wide else _NARROW
    label_width = 10 if not wide else min(20, 12 + max(0, width - 140) // 4)
    fixed = sum(c.width or 0 for c in columns) + 2 * padding * len(columns) + label_width
    return _Layout(columns, label_width, max(_MIN_STATE, width - fixed))


def _same(a: Text | None, b: Text) -> bool:
    return (
        a is not None
        and a.plain == b.plain
        and a.style == b.style
        and a.spans == b.spans
        and a.justify == b.justify
    )


def _state_plain(row: ChannelRow, width: int, now: float | None = None) -> str:
    """``✓ ok``, ``⚠ degraded: timed out``; only the error when both do not fit."""
    health = row.health
    glyph, word = _GLYPHS[health], _WORDS[health]
    if health is Health.UNKNOWN:
        text = f"{glyph} {word}"
        return text if len(text) <= width else f"{glyph} first poll"
    error = inert(row.error, _ERROR_LIMIT) if row.error else ""
    if health is Health.OK and now is not None:
        opens = opens_label(row, now)
        if opens is not None:  # closed: say so, and when it opens
            for text in (f"{glyph} {word} · opens {opens}", f"{glyph} opens {opens}"):
                if len(text) <= width:
                    return text
            return f"{glyph} closed"
    if health is Health.OK or not error:
        return f"{glyph} {word}"
    full = f"{glyph} {word}: {error}"
    if len(full) <= width or width >= len(f"{glyph} {word}: ") + 8:
        return full
    return f"{glyph} {error}"  # the glyph and the colour still say degraded/down


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
        layout = _layout(self._available_width(), self.cell_padding)
        self._sync_columns(layout)
        rows: dict[str, ChannelRow] = {}
        for row in board.channels:
            rows.setdefault(row.channel.id, row)  # ids are unique in a valid config
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
            for key, text in self._cells(rows[channel_id], layout).items():
                if not _same(shown.get(key), text):
                    self.update_cell(channel_id, key, text, update_width=key in _AUTO)
                    shown[key] = text
        for channel_id in wanted[prefix:]:
            cells = self._cells(rows[channel_id], layout)
            self.add_row(*(cells[key] for key in keys), key=channel_id)
            self._shown[channel_id] = cells

        if keep is not None and keep in rows:
            index = self.get_row_index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index)

    def _remove(self, channel_id: str) -> None:
        self.remove_row(channel_id)
        self._shown.pop(channel_id, None)

    def _sync_columns(self, layout: _Layout) -> None:
        current = self.column_keys
        wanted = [column.key for column in layout.columns]
        if current == wanted:
            return
        prefix = 0
        while prefix < min(len(current), len(wanted)) and current[prefix] == wanted[prefix]:
            prefix += 1
        for key in current[prefix:]:
            self.remove_column(key)
            for shown in self._shown.values():
                shown.pop(key, None)
        for column in layout.columns[prefix:]:
            self.add_column(column.header, width=column.width, key=column.key)

    # -- cells ----------------------------------------------------------------

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _cells(self, row: ChannelRow, layout: _Layout) -> dict[str, Text]:
        metrics = row.metrics
        muted = self._style("channel-table--muted")
        known = row.record is not None and row.record.last_ok_at is not None
        unknown = "…" if row.health is Health.UNKNOWN else "—"

        def number(value: str, *, dim: bool = False) -> Text:
            return Text(value, style=muted if dim else "", justify="right", end="")

        label = Text(inert(row.channel.label, _LABEL_LIMIT), end="")
        label.truncate(layout.label_width, overflow="ellipsis", pad=True)

        phone = row.record is not None and row.record.on_hold is not None
        if not known:
            waiting, oldest, gap = number(unknown, dim=True), number(unknown, dim=True), None
        else:
            waiting = number(str(metrics.waiting), dim=metrics.waiting == 0)
            if metrics.waiting == 0 or metrics.oldest_wait_s is None:
                oldest = number("—", dim=True)
            else:
                value = format_duration(metrics.oldest_wait_s)
                if phone and len(value) + 5 <= (_OLDEST.width or 0):
                    value += " hold"
                oldest = number(value)
            gap = self._gap_cell(row)

        cells = {
            "channel": label,
            "waiting": waiting,
            "oldest": oldest,
            "expect": number(format_duration(metrics.expect_s)),
            "gap": gap if gap is not None else Text(unknown, style=muted, end=""),
            "frt_p50": number(format_duration(metrics.frt_p50_s), dim=metrics.frt_p50_s is None),
            "frt_p90": number(format_duration(metrics.frt_p90_s), dim=metrics.frt_p90_s is None),
            "trend": Text(sparkline(row.trend), style=muted if row.trend is None else "", end=""),
            "state": self._state_cell(row, layout.state_width),
        }
        return {column.key: cells[column.key] for column in layout.columns}

    def _gap_cell(self, row: ChannelRow) -> Text:
        metrics = row.metrics
        level = gap_level(metrics.gap_s, metrics.expect_s, self._thresholds)
        style = self._style(_LEVEL_CLASS[level])
        if metrics.gap_s is None and metrics.waiting > 0:  # callers on hold, hold unknown
            return Text("—", style=self._style("channel-table--muted"), end="")
        if level is GapLevel.OK:
            return Text(gap_text(None), style=style, end="")
        value = gap_text(metrics.gap_s)
        bar = gap_bar(metrics.gap_s, metrics.expect_s)
        return Text(f"{value:<7}{bar:>4} {level.marker}".rstrip(), style=style, end="")

    def _state_cell(self, row: ChannelRow, width: int) -> Text:
        now = self._board.now if self._board is not None else None
        plain = _state_plain(row, width, now)
        text = Text(plain, style=self._style(_HEALTH_CLASS[row.health]))
        text.end = ""
        text.truncate(width, overflow="ellipsis")
        return text

    # -- events ---------------------------------------------------------------

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
    text.append(f"  adapter {inert(adapter, 40)} · id {inert(row.channel.id, 60)}", style="dim")
    text.append("\nState: ")
    text.append(f"{_GLYPHS[health]} {_WORDS[health]}", style=style)
    if row.error:
        text.append("\nLast error: ")
        text.append(inert(row.error, _FULL_ERROR_LIMIT))
    if record is not None:
        if health in (Health.DEGRADED, Health.DOWN) and record.failing_since is not None:
            text.append(f"\nFailing since: {_when(record.failing_since, now, tz)}")
        text.append(f"\nLast successful poll: {_when(record.last_ok_at, now, tz)}")
        if record.last_poll_at is not None and record.last_poll_at != record.last_ok_at:
            text.append(f"\nLast poll: {_when(record.last_poll_at, now, tz)}")
    else:
        text.append("\nLast successful poll: never")
    return text
