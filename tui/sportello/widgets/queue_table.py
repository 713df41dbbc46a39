"""The unified queue on screen: a Line API table that draws only what is visible.

A ``DataTable`` fed 100,000 rows takes seconds to its first frame; this widget
renders the rows of a :class:`~sportello.core.queue_view.QueueView` one screen line
at a time (``render_line``), so its cost does not grow with the queue.

    ▶ Facebook  Maria R.       Ordine non arrivato…           9h    +8h
      Email     Luca B.        Fattura errata                 5h    +1h

The wait and the gap are never cut: their columns are as wide as the widest
figure of the queue (``120d00h``, ``+119d20h``), and a narrow terminal takes the
room from the subject, the customer and the channel instead. Without colour
(``NO_COLOR``) the gap carries the level's mark, ``!`` warn, ``!!`` critical, as
in the channel rows. A conversation whose channel is closed and whose wait has not
started counting (it wrote after closing) shows ``closed``, not ``0s``, and no gap.

Customer text reaches the terminal only as plain-string ``Segment``s, already
made inert by ``sportello.core.inert``; nothing is parsed as markup. E-mail
addresses and phone numbers are masked unless the view says ``reveal``.

Keys come from the one key table (``sportello.core.keymap``, scope "queue"):
down/j, up/k, pagedown, pageup, home/g, end/G, enter (ids ``queue.down`` …
``queue.open``). Filtering, the channel, the sort and revealing belong to the
screen, which changes the :class:`QueueView` and calls :meth:`refresh_view`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sportello.bindings import bindings
from sportello.core.board import Board, opens_label
from sportello.core.glyphs import glyphs
from sportello.core.inert import inert
from sportello.core.queue_view import PreparedRows, QueueRow, QueueView, SortOrder
from sportello.core.settings import Dashboard
from sportello.widgets.cells import (
    FEW_COLOURS,
    GapLevel,
    ascii_scrollbar,
    component_style,
    gap_level,
    sixteen_colours,
    sync_scrollbar,
)
from sportello_sdk.options import format_duration

__all__ = ["CLOSED", "Layout", "QueueTable", "closed_now", "cursor_mark", "layout_columns"]

NO_MARK = "  "
CLOSED = "closed"
"""The wait of a conversation whose channel is closed and whose wait has not started."""
MARK_WIDTH = 3  # " !!" after the gap, without colour


def closed_now(board: Board) -> dict[str, str]:
    """The channels of ``board`` that are closed now, each with when it opens
    (``Wed 09:00``): what :meth:`QueueTable.set_closed` wants."""
    closed: dict[str, str] = {}
    for row in board.channels:
        opens = opens_label(row, board.now)
        if opens is not None:
            closed[row.channel.id] = opens
    return closed


def cursor_mark() -> str:
    """``▶ `` (``> `` in ASCII): the mark of the selected row."""
    return glyphs().cursor + " "


class Layout(NamedTuple):
    """Column widths in cells for one table width (0: the column is not shown).

    Order on screen: mark, channel, customer, subject, wait, gap, hint; one
    space between columns. ``hint`` is kept for "also on <channel>".
    """

    mark: int
    channel: int
    customer: int
    subject: int
    wait: int
    gap: int
    hint: int = 0


WAIT_WIDTH = 6  # "12h30m", "12d03h", "closed"
GAP_WIDTH = 7  # "+12h30m"
MIN_SUBJECT = 8


def layout_columns(width: int, wait: int = WAIT_WIDTH, gap: int = GAP_WIDTH) -> Layout:
    """Column widths for a table ``width`` cells wide.

    ``wait`` and ``gap``: the widths the figures need (at least ``WAIT_WIDTH``,
    ``GAP_WIDTH``); they are never narrowed. 80 columns (79 beside the
    scrollbar): channel 9, customer 14, wait 6, gap 7, the subject the rest.
    Wider tables give the channel and the customer more room; narrower ones
    take it from the customer, then the channel, keeping a short subject;
    narrower still, the subject goes, then the customer, then the channel.
    """
    if width >= 120:
        channel, customer = 14, 24
    elif width >= 100:
        channel, customer = 12, 18
    else:
        channel, customer = 9, 14
    wait, gap = max(wait, WAIT_WIDTH), max(gap, GAP_WIDTH)

    def rest() -> int:  # what is left for the subject
        return width - (len(NO_MARK) + channel + customer + wait + gap + 4)  # 4 separators

    short = MIN_SUBJECT - rest()
    if short > 0:
        cut = min(short, customer - 8)
        customer -= cut
        short -= cut
    if short > 0:
        channel -= min(short, channel - 5)
    if rest() < 0:  # no room even for the figures: the customer goes, then the channel
        customer = max(0, customer + rest())
    if rest() < 0:
        channel = max(0, channel + rest())
    return Layout(len(NO_MARK), channel, customer, max(0, rest()), wait, gap)


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded or cut (with "…", ASCII "~") to exactly ``width`` cells."""
    if width <= 0:
        return ""
    length = len(text) if text.isascii() else cell_len(text)
    if length > width:
        cut = glyphs().cut
        return set_cell_size(text, width - len(cut)) + cut
    padding = " " * (width - length)
    return padding + text if right else text + padding


_WAIT_OF = attrgetter("wait_s")
_GAP_OF = attrgetter("gap_s")


def _extremes(rows: Sequence[QueueRow]) -> tuple[float, float]:
    """The longest wait and the worst gap of ``rows`` (O(1) for prepared rows)."""
    if not rows:
        return 0.0, 0.0
    if isinstance(rows, PreparedRows):
        by_wait = rows.orders.get(SortOrder.WAIT)
        by_gap = rows.orders.get(SortOrder.GAP)
        if by_wait is not None and by_gap is not None and by_wait.rows and by_gap.rows:
            return by_wait.rows[0].wait_s, by_gap.rows[0].gap_s
    return max(map(_WAIT_OF, rows)), max(map(_GAP_OF, rows))


def gap_text(gap_s: float) -> str:
    """``ok`` when not behind, else ``+1h10m``."""
    return "ok" if gap_s <= 0 else "+" + format_duration(gap_s)


class QueueTable(ScrollView, can_focus=True):
    """Every waiting conversation, one line each, from a :class:`QueueView`.

    Change the view (``view.set_filter(…)``, ``set_rows(…)``) and call
    :meth:`refresh_view`, or hand over a new view with :meth:`update_rows`:
    the selected conversation stays selected at the same place on screen
    (after a change of sort order, the first row of the new order is).
    Call :meth:`set_closed` with each board: which channels are closed now.
    """

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = list(bindings("queue"))

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-table--cursor",
        "queue-table--gap-ok",
        "queue-table--gap-behind",
        "queue-table--gap-warn",
        "queue-table--gap-critical",
        "queue-table--empty",
        "queue-table--state",
        "queue-table--state-ok",
        "queue-table--state-problem",
    }

    DEFAULT_CSS = """
    QueueTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .queue-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .queue-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .queue-table--gap-ok { color: $text-success; }
        & > .queue-table--gap-behind { color: $text-warning; }
        & > .queue-table--gap-warn { color: $text-warning; text-style: bold; }
        & > .queue-table--gap-critical { color: $text-error; text-style: bold; }
        & > .queue-table--empty { color: $text-muted; }
        & > .queue-table--state { color: $text-accent; }
        & > .queue-table--state-ok { color: $text-success; }
        & > .queue-table--state-problem { color: $text-error; text-style: bold; }
        /* 16 colours: the palette's own green, yellow and bright red (see cells.py). */
        &.-colours-16 {
            & > .queue-table--gap-ok { color: #00aa00; }
            & > .queue-table--gap-behind { color: #aa5500; }
            & > .queue-table--gap-warn { color: #aa5500; text-style: bold; }
            & > .queue-table--gap-critical { color: #ff5555; text-style: bold; }
        }
        /* NO_COLOR draws colours as greys: the error pink would be dimmer than text. */
        &:nocolor {
            & > .queue-table--gap-behind { color: $foreground; }
            & > .queue-table--gap-warn { color: $foreground; text-style: none; }
            & > .queue-table--gap-critical { color: $foreground; text-style: bold; }
        }
    }
    """

    # The row count changes with every filter keystroke; the table's own size does
    # not (its scrollbar is always shown), so a change is a repaint, not a layout
    # of the whole screen.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, virtual_size: Size) -> None:
        sync_scrollbar(self, virtual_size)  # no layout tells the scroll bar

    class Highlighted(Message):
        """The cursor is on another conversation (``row`` is None: the queue is empty)."""

        def __init__(self, table: QueueTable, row: QueueRow | None) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> QueueTable:
            return self.table

    class Opened(Message):
        """The user opened a conversation (Enter, or a double click)."""

        def __init__(self, table: QueueTable, row: QueueRow) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> QueueTable:
            return self.table

    def __init__(
        self,
        view: QueueView | None = None,
        *,
        thresholds: Dashboard | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._view = view if view is not None else QueueView()
        self.thresholds = thresholds if thresholds is not None else Dashboard()
        """The gap warn and critical levels (``config.dashboard``)."""
        self._cursor = 0
        self._cursor_row: QueueRow | None = None
        # Until the user places the cursor, and while channels are still reporting
        # for the first time, the cursor stays on the first row: conversations of a
        # channel read later sort above the one it started on.
        self._chosen = False
        self.arriving = False
        """Channels are still reporting for the first time (the dashboard says)."""
        self.on_highlight: Callable[[QueueRow | None], None] | None = None
        """Called at once, while the key is handled, when the cursor moves to another
        conversation, instead of posting :class:`Highlighted`: what it changes (the
        preview) then reaches the terminal in the cursor's own frame. A message is
        handled after Textual has drawn the moved cursor, a frame later."""
        self._last_state = self._view.state
        self._last_rows = self._view.rows
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(256)
        # What each line of the widget was last painted with (the scroll offset then,
        # the strip): a board repaints only the lines that differ.
        self._painted: dict[int, tuple[int, int, Strip]] = {}
        self._advance: Mapping[str, float] = {}
        self._closed_now: Mapping[str, str] = {}
        self._states: Mapping[int, tuple[str, str]] = {}
        self._extremes = _extremes(self._view.rows)
        self._unknown: str | None = None  # a message when no queue has been read
        self._sync()

    # -- public ----------------------------------------------------------------

    @property
    def view(self) -> QueueView:
        return self._view

    @property
    def cursor_index(self) -> int:
        """The cursor's index in ``view.visible`` (0 when empty)."""
        return self._cursor

    @property
    def selected_row(self) -> QueueRow | None:
        """The row under the cursor, or ``None`` when no row is shown."""
        return self._cursor_row

    def update_rows(self, view: QueueView | None = None) -> None:
        """Show ``view`` (or the current view after it changed), in place.

        The selected conversation stays selected and, when possible, on the
        same screen line; if it left the queue the row that took its place
        is selected, and after a filter that hides it the first row. After a
        change of sort order the first row of the new order is selected, at the
        top: "newest first" shows the newest. While :attr:`arriving` and until the
        user moves the cursor, the first row is selected. Posts :class:`Highlighted`
        when the selected conversation changes.
        """
        if view is not None:
            self._view = view
        view = self._view
        rows = view.visible
        if view.rows is not self._last_rows:
            self._extremes = _extremes(view.rows)
        if view.sort != self._last_state[2]:
            self._last_state = view.state
            self._last_rows = view.rows
            self.virtual_size = Size(0, len(rows))
            self._move(0, scroll_y=0, full_refresh=True)
            return
        old = self._cursor_row
        offset = self._cursor - self.scroll_offset.y
        index: int | None = None
        if old is not None:
            if view.rows is self._last_rows:  # same row objects: compare addresses
                index = view.index_of_row(old)
            else:
                index = view.index_of(old.conversation_id, near=self._cursor)
        if index is None:
            index = 0 if view.state != self._last_state else min(self._cursor, len(rows) - 1)
        if self.arriving and not self._chosen:
            index, offset = 0, 0
        self._last_state = view.state
        self._last_rows = view.rows
        self.virtual_size = Size(0, len(rows))
        self._move(max(index, 0), scroll_y=max(index, 0) - offset, full_refresh=True)

    def set_unknown(self, message: str | None) -> None:
        """Say the queue is not known (``message``) instead of "No one is waiting";
        ``None`` once a queue has been read, even an empty one."""
        if message != self._unknown:
            self._unknown = message
            self._strips.clear()
            self.refresh()

    def set_advance(self, advance: Mapping[str, float]) -> None:
        """Time has passed since the rows were built: per channel, the open-hours
        seconds to add to every wait and gap shown (redraws only the screenful)."""
        if dict(advance) != dict(self._advance):
            self._advance = dict(advance)
            self._refresh_changed()

    def set_closed(self, closed: Mapping[str, str]) -> None:
        """The channels closed now (id -> when they open, ``Wed 09:00``), from each board.

        Their conversations whose wait has not started show ``closed``.
        """
        if dict(closed) != dict(self._closed_now):
            self._closed_now = dict(closed)
            self._strips.clear()
            self._refresh_changed()

    def set_states(self, states: Mapping[int, tuple[str, str]]) -> None:
        """The delivery state of conversations with an action (id -> (words, level);
        level "held", "ok" or "problem"): shown before the subject."""
        if dict(states) != dict(self._states):
            self._states = dict(states)
            self._refresh_changed()

    def state_of(self, conversation_id: int) -> tuple[str, str] | None:
        return self._states.get(conversation_id)

    def next_after(self, conversation_id: int, skip: frozenset[int] = frozenset()) -> int | None:
        """The conversation listed after ``conversation_id`` (else before it) that is
        not in ``skip``: where the cursor goes once it has been dealt with."""
        rows = self._view.visible
        index = self._view.index_of(conversation_id, near=self._cursor)
        if index is None:
            return None
        for row in [*rows[index + 1 :], *reversed(rows[:index])]:
            if row.conversation_id != conversation_id and row.conversation_id not in skip:
                return row.conversation_id
        return None

    @property
    def closed_channels(self) -> Mapping[str, str]:
        """The channels :meth:`set_closed` said are closed now."""
        return self._closed_now

    def refresh_view(self, view: QueueView | None = None) -> None:
        """Redraw after the view changed; the same as :meth:`update_rows`."""
        self.update_rows(view)

    def select(self, conversation_id: int) -> bool:
        """Move the cursor to a conversation; False if it is not listed."""
        index = self._view.index_of(conversation_id)
        if index is None:
            return False
        self._chosen = True
        self._move(index)
        return True

    # -- actions ---------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self._chosen = True
        self._move(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self._chosen = True
        self._move(self._cursor - 1)

    def action_page_down(self) -> None:
        self._chosen = True
        page = self._page()
        self._move(self._cursor + page, scroll_y=self.scroll_offset.y + page)

    def action_page_up(self) -> None:
        self._chosen = True
        page = self._page()
        self._move(self._cursor - page, scroll_y=self.scroll_offset.y - page)

    def action_first(self) -> None:
        self._chosen = True
        self._move(0)

    def action_last(self) -> None:
        self._chosen = True
        self._move(len(self._view.visible) - 1)

    def action_open(self) -> None:
        if self._cursor_row is not None:
            self.post_message(self.Opened(self, self._cursor_row))

    # -- events ----------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_mount(self) -> None:
        self.set_class(sixteen_colours(self.app.console.color_system), FEW_COLOURS)
        ascii_scrollbar(self)
        if self._cursor_row is not None:  # the first row: a message, the screen is still mounting
            self.post_message(self.Highlighted(self, self._cursor_row))

    def on_resize(self, event: events.Resize) -> None:
        self._move(self._cursor)

    def on_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.scroll_offset.y + offset.y
        if 0 <= index < len(self._view.visible):
            self._chosen = True
            self._move(index)
            if event.chain >= 2:
                self.action_open()

    # -- rendering -------------------------------------------------------------

    def column_layout(self, width: int | None = None) -> Layout:
        """The columns at ``width`` (default: the table's), sized for this queue's figures."""
        if width is None:
            width = self.scrollable_content_region.width
        longest, worst = self._extremes
        ahead = max(self._advance.values(), default=0.0)
        marks = MARK_WIDTH if self._marks() else 0
        return layout_columns(
            width,
            wait=len(format_duration(longest + ahead)),
            gap=len(gap_text(worst + ahead)) + marks,
        )

    def _marks(self) -> bool:
        """Show the level's mark after the gap: without colour, nothing else tells it."""
        return self.is_attached and self.app.no_color

    def render_line(self, y: int) -> Strip:
        strip = self._line(y)
        self._painted[y] = (self.scroll_offset.y, strip.cell_length, strip)
        return strip

    def _line(self, y: int) -> Strip:
        """What line ``y`` of the widget shows now."""
        width = self.scrollable_content_region.width
        rows = self._view.visible
        index = self.scroll_offset.y + y
        if not rows:
            return self._render_empty(y, width)
        if index >= len(rows):
            return Strip.blank(width, self.rich_style)
        row = rows[index]
        cursor = index == self._cursor
        advance = self._advance.get(row.channel_id, 0.0)
        layout = self.column_layout(width)
        closed = row.channel_id in self._closed_now and row.wait_s + advance <= 0
        state = self._states.get(row.conversation_id)
        key = (row, layout, cursor, self._view.reveal, self.thresholds, advance, closed, state)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(
                row, width, cursor, advance, layout=layout, closed=closed, state=state
            )
        return strip

    def _render_row(
        self,
        row: QueueRow,
        width: int,
        cursor: bool,
        advance: float = 0.0,
        *,
        layout: Layout | None = None,
        closed: bool = False,
        state: tuple[str, str] | None = None,
    ) -> Strip:
        layout = layout or self.column_layout(width)
        base = self.rich_style
        style = self.get_component_rich_style("queue-table--cursor") if cursor else base
        reveal = self._view.reveal
        head = " ".join(
            (
                (cursor_mark() if cursor else NO_MARK) + fit(row.channel_label, layout.channel),
                fit(row.customer_text(reveal), layout.customer),
                "",
            )
        )
        tail = " " + fit(
            CLOSED if closed else format_duration(row.wait_s + advance), layout.wait, right=True
        )
        subject = row.subject_text(reveal)
        said = ""
        if state is not None and layout.subject > 0:
            words = state[0]
            said = fit(words, min(cell_len(words), layout.subject))
            rest = layout.subject - cell_len(said)
            subject = fit(glyphs().text(" · ") + subject if rest > 3 else "", rest)
        else:
            subject = fit(subject, layout.subject)
        left = head + said + subject + tail
        gap_s = row.gap_s + advance
        level = gap_level(gap_s, row.expect_s, self.thresholds)
        if cursor:
            gap_style = style + _BOLD if level in _LOUD else style
        else:
            gap_style = base + component_style(self, _GAP_CLASSES[level])
        if closed:  # nothing counted yet: no gap to judge, neither "ok" nor a figure
            gap = ""
        elif self._marks():
            gap = f"{gap_text(gap_s)} {level.marker:<2}"
        else:
            gap = gap_text(gap_s)
        segments = [Segment(head, style)]
        if said and state is not None:
            state_class = _STATE_CLASSES.get(state[1], "queue-table--state")
            state_style = style if cursor else base + component_style(self, state_class)
            segments.append(Segment(said, state_style))
        segments += [
            Segment(subject + tail + " ", style),
            Segment(fit(gap, layout.gap, right=True), gap_style),
        ]
        used = cell_len(left) + 1 + layout.gap
        if used < width:
            segments.append(Segment(" " * (width - used), style))
        return Strip(segments, max(used, width)).crop(0, width)

    def _render_empty(self, y: int, width: int) -> Strip:
        if y != self._page() // 2:
            return Strip.blank(width, self.rich_style)
        view = self._view
        if self._unknown is not None:
            message = self._unknown
        elif view.filter_text.strip():
            message = f"No conversation matches {glyphs().quoted(inert(view.filter_text, 40))}"
        elif view.channel is not None and view.rows:
            message = "No one is waiting on this channel"
        else:
            message = "No one is waiting"
        text = fit(message, width) if cell_len(message) > width else message.center(width)
        style = self.rich_style + component_style(self, "queue-table--empty")
        return Strip([Segment(text, style)], width)

    # -- internals -------------------------------------------------------------

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height)

    @property
    def page_size(self) -> int:
        """The rows PgDn and PgUp move by."""
        return self._page()

    def _refresh_changed(self) -> None:
        """Repaint only the lines whose text or style changes (a new board, a wait
        ticking at a resolution the screen does not show): over SSH, bytes in
        proportion to what changes. Everything when the lines painted are not known
        (before the first paint, after a scroll or a resize)."""
        top = self.scroll_offset.y
        page = self._page()
        width = self.scrollable_content_region.width
        painted = self._painted
        if any(painted.get(y, (-1, -1))[:2] != (top, width) for y in range(page)):
            painted.clear()
            self.refresh()
            return
        for y in range(page):
            if self._line(y) != painted[y][2]:
                self.refresh_line(top + y)

    def _sync(self) -> None:
        rows = self._view.visible
        self.virtual_size = Size(0, len(rows))
        self._cursor_row = rows[self._cursor] if rows else None

    def _move(self, index: int, *, scroll_y: int | None = None, full_refresh: bool = False) -> None:
        """Put the cursor on ``index`` (clamped) and scroll so that it shows."""
        rows = self._view.visible
        count = len(rows)
        old_index = self._cursor
        old_row = self._cursor_row
        index = min(max(index, 0), max(count - 1, 0))
        self._cursor = index
        self._cursor_row = rows[index] if count else None
        page = self._page()
        top = self.scroll_offset.y if scroll_y is None else scroll_y
        top = min(max(top, index - page + 1), index)
        top = min(max(top, 0), max(count - page, 0))
        if top != self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, force=True)
            full_refresh = True
        if full_refresh:
            self._refresh_changed()
        elif index != old_index:
            self.refresh_line(old_index)
            self.refresh_line(index)
        new_row = self._cursor_row
        if (old_row is None) != (new_row is None) or (
            old_row is not None
            and new_row is not None
            and old_row.conversation_id != new_row.conversation_id
        ):
            self._highlight(new_row)

    def _highlight(self, row: QueueRow | None) -> None:
        if self.on_highlight is not None:
            self.on_highlight(row)
        else:
            self.post_message(self.Highlighted(self, row))


_BOLD = Style(bold=True)
_STATE_CLASSES = {
    "held": "queue-table--state",
    "ok": "queue-table--state-ok",
    "problem": "queue-table--state-problem",
}
_LOUD = frozenset({GapLevel.WARN, GapLevel.CRITICAL})
_GAP_CLASSES = {
    GapLevel.OK: "queue-table--gap-ok",
    GapLevel.BEHIND: "queue-table--gap-behind",
    GapLevel.WARN: "queue-table--gap-warn",
    GapLevel.CRITICAL: "queue-table--gap-critical",
}
