"""The one screen: channel rows, the unified queue, and the preview."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Mapping
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.geometry import Size
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from sportello.bindings import bindings
from sportello.core.board import Board, ChannelRow, opens_label
from sportello.core.desk import Desk, DeskError
from sportello.core.glyphs import glyphs
from sportello.core.inert import inert
from sportello.core.live_update import LiveUpdate, Role
from sportello.core.outbox import ACTIVE, Action, State, describe
from sportello.core.polling_status import PollingStatus
from sportello.core.queue_view import QueueRow, QueueView, build_board_rows, release_later
from sportello.core.records import MessageRecord, QueueItem
from sportello.core.settings import Config
from sportello.late_keys import LateKeys
from sportello.messages import BoardUpdated, LiveStopped, SearchWanted
from sportello.screens.triage import KIND_OF_ACTION, TriageActions, customer_words
from sportello.widgets.channel_table import ChannelTable
from sportello.widgets.key_bar import KeyBar
from sportello.widgets.preview import ConversationHeader, Preview
from sportello.widgets.queue_table import QueueTable
from sportello.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from sportello.screens.conversation import ConversationScreen

PREVIEW_READ = 6  # messages read for the preview
PREVIEW_REPEAT_S = 0.06
"""A cursor move this soon after the previous one is a key repeating: the preview
waits until the cursor rests (as long again) instead of loading each row passed."""


class QueueFilter(Input):
    """The ``/`` filter line; Escape clears it, Enter keeps it.

    Each change of the text is handed to ``on_text`` at once, while the key is
    being handled, rather than through ``Input.Changed``: a message reaches the
    screen after Textual has drawn the echoed letter, and the filtered queue would
    then wait for the next frame but one (17–33 ms later, at 60 frames a second).
    Called this way, the letter and the queue it filters arrive in one frame.
    """

    # Input resets its virtual size on every keystroke; this line never changes
    # size, so that needs a repaint, not a layout of the whole screen.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("filter")]

    def __init__(self, on_text: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_text = on_text

    def watch_value(self, value: str) -> None:
        self._on_text(value)

    def on_mount(self) -> None:
        # A blinking cursor redraws twice a second: bandwidth over SSH for nothing.
        self.cursor_blink = False

    def action_cancel(self) -> None:
        self.value = ""
        self.post_message(self.Submitted(self, "", None))

    def action_accept(self) -> None:
        self.post_message(self.Submitted(self, self.value, None))


class DashboardScreen(TriageActions, Screen[None]):
    """Channel rows, the unified queue ordered by urgency, the preview."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("triage"), *bindings("dashboard")]
    AUTO_FOCUS = "#queue"  # focus lands once, where the user works

    def __init__(self, config: Config, desk: Desk, opening: Board | None = None) -> None:
        super().__init__()
        self.config = config
        self.desk = desk
        self.opening = opening
        self.view = QueueView(reveal=not config.dashboard.mask_personal_data)
        self.board: Board | None = None
        self.role = Role.STARTING
        self.paused = False
        self.reveal = not config.dashboard.mask_personal_data
        self.channel_filter: str | None = None
        self._preview_for: int | None = None
        self._preview_timer: Timer | None = None  # set while a repeating key runs
        self._moved_at = float("-inf")  # when the cursor last moved (monotonic)
        # The messages of the conversation shown and of the rows beside it, read
        # ahead: a ↓ or ↑ then shows the preview in the cursor's own frame.
        # Emptied when a board brings new rows (a poll may have brought messages).
        self._read_ahead: dict[int, list[MessageRecord]] = {}
        self._channel_shown: str | None = None  # the preview describes this channel
        self._advance: Mapping[str, float] = {}
        self._stopped = False
        self._frozen = False  # frozen at a complete board: never again
        self._froze_head = False  # frozen at a first, partial board
        self._reading: tuple[ConversationScreen, int] | None = None  # open, and its id
        self._last_status: PollingStatus | None = None
        self._ticker: Timer | None = None  # while an action counts down
        # Actions made here that the next board has not brought yet: shown at once.
        self._just_made: dict[int, Action] = {}
        self._dimmed: tuple[bool, ...] | None = None  # what the key bar dims now
        self._applying = False  # a board is being applied (see _highlighted)

    # -- layout -------------------------------------------------------------

    def compose(self) -> ComposeResult:
        business = self.config.business
        yield TopBar(business.name, business.timezone, id="top")
        yield ChannelTable(id="channels")
        yield Static(id="queue-title", classes="section")
        yield QueueFilter(
            self._filter_to,
            placeholder=glyphs().text("filter: customer, subject, message, channel…"),
            id="filter",
        )
        queue = QueueTable(self.view, thresholds=self.config.dashboard, id="queue")
        queue.on_highlight = self._highlighted
        yield queue
        yield Static(Text(" Preview"), id="preview-title", classes="section")
        yield Preview(id="preview")
        yield KeyBar()

    def on_mount(self) -> None:
        # What each channel's adapter can do, for the key bar: loaded off the event
        # loop once the first frame is out (importing the adapters takes ~0.2 s).
        self.set_timer(1.0, self._load_capabilities)
        if self.desk.read_only:  # a glance says that nothing can be done from here
            self.query_one("#top", TopBar).context = "read-only"
        self.query_one("#filter", QueueFilter).display = False
        self._update_title()
        self.query_one("#preview", Preview).show_placeholder("Reading the store…")
        self.query_one("#queue", QueueTable).set_unknown(glyphs().text("Reading the store…"))
        if self.opening is not None:  # read before start: the first frame has data
            board = self.opening
            self.apply(LiveUpdate(board, Role.STARTING, False, build_board_rows(board)))

    # -- live updates -------------------------------------------------------

    def apply(self, update: LiveUpdate[list[QueueRow]]) -> None:
        """Apply a board in place: tables keep their selection and scroll."""
        self._applying = True
        try:
            self._apply(update)
        finally:
            self._applying = False

    def _apply(self, update: LiveUpdate[list[QueueRow]]) -> None:
        board = update.board
        self.board = board
        self.role = update.role
        self.paused = update.paused
        self.query_one("#channels", ChannelTable).update_board(board, self.config.dashboard)
        queue = self.query_one("#queue", QueueTable)
        unknown = self._unknown_queue(board)
        queue.set_unknown(None if unknown is None else glyphs().text(unknown))
        queue.set_closed(
            {
                row.channel.id: opens_label(row, board.now) or ""
                for row in board.channels
                if row.opens_at is not None
            }
        )
        rebuilt = update.prepared is not self.view.rows
        if rebuilt:
            old = self.view.rows
            self.view.set_rows(update.prepared)
            # Rows of channels that did not change were kept as they were: their
            # waits are still those of when they were made, plus the advance.
            self._advance = dict(update.advance)
            queue.set_advance(update.advance)
            queue.refresh_view(self.view)
            self._freeze(board.complete)
            # Nothing shows the old rows now: free them off the screen's thread.
            release_later(old)
            del old
        else:
            self._advance = dict(update.advance)
            queue.set_advance(update.advance)
        # Set after the rows: the board on which the last channel first reports
        # brings its conversations, and they too sort around the first row.
        queue.arriving = any(
            row.record is None or row.record.last_poll_at is None for row in board.channels
        )
        top = self.query_one("#top", TopBar)
        top.set_time(board.now)
        top.set_status(update.status.text, update.status.level)
        self._update_title()
        self._show_states()
        self._refresh_key_bar()  # the selected row's channel may be another now
        self._refresh_preview(rebuilt)
        self._refresh_conversation_screen(update, rebuilt)

    # -- delivery states ------------------------------------------------------

    def _show_states(self) -> None:
        """Each conversation's action in the queue ("sending in 8s (u to undo)"),
        ticking once a second while one counts down."""
        actions = dict(self.board.actions) if self.board is not None else {}
        for cid, mine in list(self._just_made.items()):
            known = actions.get(cid)
            if known is not None and (known.made_at, known.key) >= (mine.made_at, mine.key):
                del self._just_made[cid]  # the board has caught up with it
            else:
                actions[cid] = mine
        now = self.desk.clock()
        tz = self.config.business.timezone
        states = {
            cid: (glyphs().text(describe(action, now, tz)), _level(action))
            for cid, action in actions.items()
            if action.state not in (State.UNDONE, State.DISCARDED)
        }
        self.query_one("#queue", QueueTable).set_states(states)
        ticking = any(a.state in (State.PENDING, State.FAILED) for a in actions.values())
        if ticking and self._ticker is None:
            self._ticker = self.set_interval(1.0, self._show_states)
        elif not ticking and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _unknown_queue(self, board: Board) -> str | None:
        """Why the queue is not known yet, or None once any channel has been read.

        Before the first poll an empty queue is not "No one is waiting".
        """
        if board.queue or any(_was_read(row) for row in board.channels):
            return None
        if any(row.record is not None and row.record.last_error for row in board.channels):
            return "No channel could be read yet: see the channel rows."
        return "Reading the channels (first poll)…"

    def _freeze(self, complete: bool) -> None:
        """Keep the garbage collector off what start-up left alive: the modules,
        the widgets and the first queue; 100,000 rows make every full collection a
        visible stall.

        At the first board (at once: a full collection during start-up is tens
        of milliseconds before the first frame), and again at the first complete
        one when the first was only the head of a big queue; never after. Frozen
        objects are never collected, so freezing at every board kept whatever
        cyclic garbage was alive at each freeze for as long as the dashboard ran.
        What is frozen is still freed by reference counting once nothing refers
        to it: the queue's rows and boards hold no reference cycle
        (tests/test_memory.py), so those frozen here go when a poll replaces them.
        """
        if self._frozen or (self._froze_head and not complete):
            return
        gc.freeze()
        self._frozen = complete
        self._froze_head = True

    def on_board_updated(self, message: BoardUpdated) -> None:
        self.apply(message.update)

    def on_live_stopped(self, message: LiveStopped) -> None:
        self.query_one("#top", TopBar).set_status("○ stopped", "error")
        self._stopped = True
        self._update_title()
        if self.board is None:  # nothing to show: say why, where the data would be
            self.query_one("#queue", QueueTable).set_unknown("The queue cannot be read.")
            self.query_one("#preview", Preview).show_placeholder(
                f"Live updates stopped: {message.reason}"
            )
        self.notify(message.reason, title="Live updates stopped", severity="error", timeout=30)

    def _update_title(self) -> None:
        visible = len(self.view.visible)
        total = len(self.view.rows)
        parts = [" Queue"]
        if self.board is None:
            parts.append("not available" if self._stopped else "reading the store…")
        elif self._unknown_queue(self.board) is not None:
            parts.append("not read yet")
        elif not self.board.complete:
            parts.append(f"{self.board.waiting:,} waiting")
            parts.append("reading the whole queue…")
        elif self.view.search_pending:
            parts.append(f"{total:,} waiting")
            parts.append("preparing the search…")
        elif visible == total:
            parts.append(f"{total:,} waiting")
        else:
            parts.append(f"{visible:,} of {total:,} waiting")
        if self.channel_filter is not None:
            parts.append(f"channel {self._label(self.channel_filter)}")
        if self.view.filter_text:
            parts.append(glyphs().quoted(inert(self.view.filter_text, 30)))
        parts.append(self.view.sort.label)
        title = Text(glyphs().text(" · ".join(parts)), no_wrap=True, overflow="ellipsis")
        self.query_one("#queue-title", Static).update(title, layout=False)

    def _label(self, channel_id: str) -> str:
        for channel in self.config.channels:
            if channel.id == channel_id:
                return channel.label
        return channel_id

    # -- preview ------------------------------------------------------------

    def _highlighted(self, row: QueueRow | None) -> None:
        """The queue's cursor reached another conversation: called by the table while
        the key is handled, so the preview is drawn in the cursor's frame. While a
        board is applied, the board's own refresh of the preview does it."""
        if self._applying:
            return
        self._refresh_key_bar()
        moved_at, self._moved_at = self._moved_at, monotonic()
        if self._channel_shown is None:
            self._show_row(row, repeating=self._moved_at - moved_at < PREVIEW_REPEAT_S)

    def on_descendant_focus(self, event: object) -> None:
        # Back in the queue from the channel rows: the preview follows the queue again.
        if self.focused is self.query_one("#queue") and self._channel_shown is not None:
            self._channel_shown = None
            self._preview_for = None
            self._show_selected()

    def _show_selected(self) -> None:
        row = self.query_one("#queue", QueueTable).selected_row
        self._show_row(row)

    def _refresh_preview(self, rebuilt: bool) -> None:
        """After a board: the preview ticks with the queue and keeps what it shows."""
        if self._channel_shown is not None:
            self._describe(self._channel_shown)  # its error and times stay, ticking
            return
        row = self.query_one("#queue", QueueTable).selected_row
        if rebuilt:
            self._read_ahead = {}
        if row is not None and row.conversation_id == self._preview_for and not rebuilt:
            self.query_one("#preview", Preview).update_header(self._header(row), self.reveal)
        else:
            self._show_row(row)  # a new poll may have brought messages: load again

    def _show_row(self, row: QueueRow | None, *, repeating: bool = False) -> None:
        """Show the row's conversation: read at once, or, while a key repeats (or a
        repeat is still being waited out), once the cursor rests, so that holding
        a key costs a read and a frame for the row it stops on, not for each."""
        if self._preview_timer is not None:
            self._preview_timer.stop()
            self._preview_timer = None
            repeating = True
        preview = self.query_one("#preview", Preview)
        if row is None:
            self._preview_for = None
            if self.board is None:
                text = "Reading the store…"
            elif self._unknown_queue(self.board) is not None:
                text = self._unknown_queue(self.board) or ""
            elif self.view.is_filtered and self.view.rows:
                text = "No conversation matches the filter."
            else:
                text = "No one is waiting."
            preview.show_placeholder(text)
            return
        self._preview_for = row.item.conversation_id
        if not repeating:
            read = self._read_ahead.get(row.conversation_id)
            if read is None:
                self._load_preview(row)
            else:
                self._present(row, read)
            return

        def rested() -> None:
            self._preview_timer = None
            self._load_preview(row)

        self._preview_timer = self.set_timer(PREVIEW_REPEAT_S, rested)

    def _channel_row(self, channel_id: str) -> ChannelRow | None:
        if self.board is None:
            return None
        for row in self.board.channels:
            if row.channel.id == channel_id:
                return row
        return None

    def _header(self, row: QueueRow) -> ConversationHeader:
        """The conversation's header now: its wait as the queue shows it (the rows'
        wait plus the open time since they were built), and the real time since
        the customer wrote."""
        item = row.item
        advance = self._advance.get(row.channel_id, 0.0)
        wait = row.wait_s + advance
        now = self.board.now if self.board is not None else item.waiting_since
        counts_from = None
        channel = self._channel_row(row.channel_id)
        if channel is not None and channel.opens_at is not None and wait <= 0:
            counts_from = opens_label(channel, now)
        return ConversationHeader(
            channel_label=row.channel_label,
            customer_name=item.customer_name,
            customer_email=item.customer_email,
            customer_phone=item.customer_phone,
            subject=item.subject,
            wait_s=wait,
            gap_s=row.gap_s + advance,
            wrote_s=max(now - item.waiting_since, 0.0),
            counts_from=counts_from,
            customer_handle=item.customer_handle,
        )

    @work(group="preview", exclusive=True, exit_on_error=False)
    async def _load_preview(self, row: QueueRow) -> None:
        try:
            messages = await self.desk.messages(row.item.conversation_id, limit=PREVIEW_READ)
        except DeskError:  # not open yet: the next board loads it
            self._preview_for = None
            return
        if self._preview_for != row.item.conversation_id or self._channel_shown is not None:
            return
        self._read_ahead[row.conversation_id] = messages
        self._present(row, messages)

    def _present(self, row: QueueRow, messages: list[MessageRecord]) -> None:
        self.query_one("#preview", Preview).show_conversation(
            self._header(row),
            messages,
            reveal=self.reveal,
            tz=self.config.business.timezone,
            now=self.board.now if self.board else row.item.waiting_since,
        )
        self._read_beside(row)

    def _read_beside(self, row: QueueRow) -> None:
        """Read the rows a ↓, ↑, PgDn and PgUp would land on, unless already read."""
        queue = self.query_one("#queue", QueueTable)
        visible = queue.view.visible
        index = queue.cursor_index
        if not 0 <= index < len(visible) or visible[index].conversation_id != row.conversation_id:
            return  # the cursor has moved on
        page = queue.page_size
        landings = dict.fromkeys((index + 1, index - 1, index + page, index - page))
        beside = [visible[i] for i in landings if 0 <= i < len(visible) and i != index]
        keep = {row.conversation_id, *(r.conversation_id for r in beside)}
        self._read_ahead = {k: v for k, v in self._read_ahead.items() if k in keep}
        wanted = [r.conversation_id for r in beside if r.conversation_id not in self._read_ahead]
        if wanted:
            self._read_rows(wanted, self._read_ahead)

    @work(group="read-ahead", exclusive=True, exit_on_error=False)
    async def _read_rows(self, ids: list[int], into: dict[int, list[MessageRecord]]) -> None:
        for conversation_id in ids:
            try:
                messages = await self.desk.messages(conversation_id, limit=PREVIEW_READ)
            except DeskError:
                return
            if into is not self._read_ahead:  # a board emptied it meanwhile
                return
            into[conversation_id] = messages

    @on(QueueTable.Opened)
    def _opened(self, message: QueueTable.Opened) -> None:
        self._open_conversation(message.row)

    @work(group="open", exclusive=True, exit_on_error=False)
    async def _open_conversation(
        self, row: QueueRow, *, reply: bool = False, replace: bool = False
    ) -> None:
        from sportello.screens.conversation import ConversationScreen

        conversation_id = row.item.conversation_id
        desk = self.desk

        async def load() -> list[MessageRecord]:
            try:
                return await desk.messages(conversation_id, limit=500)
            except DeskError:
                return []

        messages = await load()
        screen = ConversationScreen(
            self._header(row),
            messages,
            reveal=self.reveal,
            tz=self.config.business.timezone,
            now=self.board.now if self.board else row.item.waiting_since,
            title=self.config.business.name,
            load=load,
            item=row.item,
            desk=desk,
            config=self.config,
            reply=reply,
            on_done=self._done_in_conversation,
        )
        screen.action = self.triage_action_of(conversation_id)
        self._reading = (screen, conversation_id)

        def closed(_result: None) -> None:
            if self._reading is not None and self._reading[0] is screen:
                self._reading = None

        if replace and isinstance(self.app.screen, ConversationScreen):
            self.app.pop_screen()  # the next conversation takes its place
        await self.app.push_screen(screen, closed)
        if self._last_status is not None and self.board is not None:
            screen.live_update(self._header(row), self.board.now, self._last_status, reload=False)

    def _refresh_conversation_screen(
        self, update: LiveUpdate[list[QueueRow]], rebuilt: bool
    ) -> None:
        """The open conversation ticks with the dashboard and gets its new messages."""
        self._last_status = update.status
        if self._reading is None:
            return
        screen, conversation_id = self._reading
        if not screen.is_attached:
            return
        row = self._row_for(conversation_id)
        header = None if row is None else self._header(row)
        screen.action = self.triage_action_of(conversation_id)
        screen.live_update(header, update.board.now, update.status, reload=rebuilt)

    def _row_for(self, conversation_id: int) -> QueueRow | None:
        """The conversation's row in the queue (filtered out or not), or None."""
        selected = self.query_one("#queue", QueueTable).selected_row
        if selected is not None and selected.conversation_id == conversation_id:
            return selected
        for row in self.view.rows:
            if row.conversation_id == conversation_id:
                return row
        return None

    @on(ChannelTable.ChannelHighlighted)
    def _channel_highlighted(self, message: ChannelTable.ChannelHighlighted) -> None:
        if self.focused is not self.query_one("#channels"):
            return
        self._preview_for = None
        self._channel_shown = message.channel_id
        self._describe(message.channel_id)

    def _describe(self, channel_id: str) -> None:
        from sportello.widgets.channel_table import describe_channel

        row = self._channel_row(channel_id)
        if row is None or self.board is None:
            return
        text = describe_channel(row, now=self.board.now, tz=self.config.business.timezone)
        preview = self.query_one("#preview", Preview)
        if preview.header is not None or preview.body.plain != text.plain:
            preview.show_text(text)

    @on(ChannelTable.ChannelSelected)
    def _channel_selected(self, message: ChannelTable.ChannelSelected) -> None:
        self._set_channel(message.channel_id)
        self.query_one("#queue", QueueTable).focus()

    # -- actions ------------------------------------------------------------

    def _apply_view(self) -> None:
        self.query_one("#queue", QueueTable).refresh_view(self.view)
        self._update_title()
        self._show_selected()

    def _set_channel(self, channel_id: str | None) -> None:
        self.channel_filter = channel_id
        self.view.set_channel(channel_id)
        self._apply_view()

    def action_filter(self) -> None:
        box = self.query_one("#filter", QueueFilter)
        box.display = True
        # At once, not by Widget.focus's call_later: the letters typed after "/" in
        # the same read find the filter focused (sportello.late_keys sends them on).
        self.set_focus(box)
        if not self.view.searchable:  # a big queue: its search texts are read now
            self.app.post_message(SearchWanted())

    def _filter_to(self, text: str) -> None:
        self.view.set_filter(text)
        self.query_one("#queue", QueueTable).refresh_view(self.view)
        self._update_title()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", QueueFilter)
        if not event.value:  # the view already has the empty text (see QueueFilter)
            box.display = False
            self._apply_view()
        else:
            self._show_selected()
        self.query_one("#queue", QueueTable).focus()

    def action_cycle_channel(self) -> None:
        ids = [c.id for c in self.config.channels]
        if self.channel_filter is None:
            nxt: str | None = ids[0] if ids else None
        else:
            index = ids.index(self.channel_filter) if self.channel_filter in ids else -1
            nxt = ids[index + 1] if index + 1 < len(ids) else None
        self._set_channel(nxt)

    def action_cycle_sort(self) -> None:
        self.view.set_sort(self.view.sort.next())
        self._apply_view()

    def action_toggle_reveal(self) -> None:
        self.reveal = not self.reveal
        self.view.set_reveal(self.reveal)
        self.query_one("#top", TopBar).revealed = self.reveal
        self._preview_for = None  # the preview is drawn again, masked or not
        self._apply_view()
        self.notify(
            "Customers' e-mail addresses and phone numbers are shown."
            if self.reveal
            else "Customers' e-mail addresses and phone numbers are masked.",
            timeout=3,
        )

    # -- triage (sportello.screens.triage) -------------------------------------------

    def _refresh_key_bar(self) -> None:
        """What the key bar dims depends on the selected channel: redraw it when that
        changes, not on every move of the cursor (each redraw is a frame more)."""
        dimmed = tuple(self.refusal(action) is not None for action in KIND_OF_ACTION)
        if dimmed != self._dimmed:
            self._dimmed = dimmed
            self.refresh_bindings()

    def _load_capabilities(self) -> None:
        self.run_worker(self._capabilities_loaded(), group="capabilities", exit_on_error=False)

    async def _capabilities_loaded(self) -> None:
        await asyncio.to_thread(self.desk.load_capabilities)
        self._refresh_key_bar()  # the key bar dims what a channel cannot do

    def triage_item(self) -> QueueItem | None:
        row = self.query_one("#queue", QueueTable).selected_row
        return None if row is None else row.item

    def triage_action_of(self, conversation_id: int) -> Action | None:
        return self.board.actions.get(conversation_id) if self.board is not None else None

    def triage_done(self, action: Action) -> None:
        """The cursor moves on to the next waiting conversation with nothing under way."""
        self._just_made[action.conversation_id] = action
        self._show_states()
        queue = self.query_one("#queue", QueueTable)
        nxt = queue.next_after(action.conversation_id, self._busy(action))
        if nxt is not None:
            queue.select(nxt)

    def customer_of(self, conversation_id: int) -> str:
        row = self._row_for(conversation_id)
        return customer_words(row.item) if row is not None else "the customer"

    def triage_changed(self, action: Action) -> None:
        self._just_made[action.conversation_id] = action
        self._show_states()

    def _busy(self, action: Action) -> frozenset[int]:
        actions = dict(self.board.actions) if self.board is not None else {}
        actions.update(self._just_made)
        busy = {cid for cid, a in actions.items() if a.state in ACTIVE}
        return frozenset(busy | {action.conversation_id})

    def action_reply(self) -> None:
        item = self._refused("reply")
        if item is None:
            return
        if self._retry_failed(item):  # "failed: … — r to retry"
            return
        row = self.query_one("#queue", QueueTable).selected_row
        if row is not None:
            if isinstance(self.app, LateKeys):  # letters typed meanwhile: for the composer
                self.app.keep_typed()
            self._open_conversation(row, reply=True)

    def _done_in_conversation(self, action: Action) -> None:
        """Sent (or acted on) from the conversation screen: open the next one."""
        self.triage_done(action)
        queue = self.query_one("#queue", QueueTable)
        row = queue.selected_row
        if row is None or row.conversation_id in self._busy(action):
            if self._reading is not None and self._reading[0].is_current:
                self.app.pop_screen()
            self.notify("No one else is waiting.", timeout=4)
            return
        self._open_conversation(row, replace=True)

    def action_clear_filters(self) -> None:
        box = self.query_one("#filter", QueueFilter)
        box.value = ""  # clears the view's text too (see QueueFilter)
        box.display = False
        self._set_channel(None)


def _level(action: Action) -> str:
    if action.state in (State.FAILED, State.UNKNOWN, State.ELSEWHERE):
        return "problem"
    if action.state is State.SENT:
        return "ok"
    return "held"


def _was_read(row: ChannelRow) -> bool:
    return row.record is not None and row.record.last_ok_at is not None
