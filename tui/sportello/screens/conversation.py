"""One conversation on its own screen: read it, reply under the thread, act on it.

The dashboard loads the messages in a worker and pushes this screen with them;
Escape (or q) comes back. ``r`` opens the reply composer under the thread
(:mod:`sportello.widgets.composer`): its draft is kept in the store as it is typed,
and Ctrl+J sends. Before sending, the screen checks whether someone else is
writing or answered meanwhile (and asks before a second answer); once the reply
or action is committed to the outbox, the dashboard opens the next waiting
conversation. The triage keys (assign, snooze, close, undo) are those of the
dashboard (:mod:`sportello.screens.triage`). The screen stays live: with every board the dashboard
calls :meth:`ConversationScreen.live_update`, so the clock, who polls, the wait
and gap tick as on the dashboard, and new messages of the conversation appear
(loaded off the event loop with ``load``) as they arrive.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static, TextArea

from sportello.bindings import bindings
from sportello.core.desk import Collision, Desk, DeskError
from sportello.core.glyphs import glyphs
from sportello.core.inert import inert
from sportello.core.outbox import Action, State, describe
from sportello.core.polling_status import PollingStatus
from sportello.core.records import MessageRecord, QueueItem
from sportello.core.settings import Config
from sportello.late_keys import LateKeys
from sportello.screens.triage import TriageActions, customer_words
from sportello.widgets.cells import ascii_scrollbar
from sportello.widgets.composer import Composer
from sportello.widgets.key_bar import KeyBar
from sportello.widgets.preview import (
    FULL_BODY_LIMIT,
    ConversationHeader,
    header_text,
    lines_before_last,
    message_text,
    messages_text,
)
from sportello.widgets.top_bar import TopBar

Loader = Callable[[], Awaitable[Sequence[MessageRecord]]]

__all__ = ["ConversationScreen"]


class ConversationBody(VerticalScroll):
    """The messages, scrollable; it has the focus on this screen."""

    def on_mount(self) -> None:
        ascii_scrollbar(self)


DRAFT_SAVE_S = 1.0  # a draft is saved this long after the last keystroke
_TRIAGE = frozenset({"reply", "assign", "snooze", "close", "undo", "retry", "discard"})


class ConversationScreen(TriageActions, Screen[None]):
    """Every message the store has for one conversation, oldest first."""

    DEFAULT_CSS = """
    ConversationScreen {
        layout: vertical;
        & > #conversation-header {
            height: auto;
            max-height: 3;
            text-wrap: nowrap;
            text-overflow: ellipsis;
            padding: 0 1;
            background: $boost;
        }
        & > #conversation-state {
            height: 1;
            padding: 0 1;
            color: $text-accent;
            display: none;
            &.-problem { color: $text-error; text-style: bold; }
            &.-ok { color: $text-success; }
        }
        & > ConversationBody {
            height: 1fr;
        }
        & > ConversationBody > #conversation-messages {
            height: auto;
            padding: 0 1;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("triage"), *bindings("conversation")]

    def __init__(
        self,
        header: ConversationHeader,
        messages: Sequence[MessageRecord],
        *,
        reveal: bool,
        tz: ZoneInfo,
        now: float,
        title: str = "",
        load: Loader | None = None,
        item: QueueItem | None = None,
        desk: Desk | None = None,
        config: Config | None = None,
        reply: bool = False,
        on_done: Callable[[Action], None] | None = None,
    ) -> None:
        super().__init__()
        self.item = item
        if desk is not None:
            self.desk = desk
        if config is not None:
            self.config = config
        self._reply_at_start = reply
        self._on_done = on_done
        self._action: Action | None = None  # the conversation's latest action
        self._state_ticker: Timer | None = None
        self._opened_at: float | None = None  # when the composer was opened
        self._draft_timer: Timer | None = None
        self._sending = False
        self.conversation = header
        self.reveal = reveal
        self.tz = tz
        self.now = now
        self._business = title
        self._load = load
        self._messages: list[MessageRecord] = []
        self.parts: list[Text] = []
        self._set_messages(messages)

    def _set_messages(self, messages: Sequence[MessageRecord]) -> None:
        self._messages = sorted(messages, key=lambda m: m.sent_at)
        self.parts = [
            message_text(m, reveal=self.reveal, tz=self.tz, now=self.now, limit=FULL_BODY_LIMIT)
            for m in self._messages
        ]
        if not self.parts:
            self.parts = [Text("No messages stored for this conversation yet.", style="dim")]

    def _title_context(self) -> str:
        count = len(self._messages)
        return f"conversation · {count} message{'s' if count != 1 else ''}"

    def compose(self) -> ComposeResult:
        top = TopBar(self._business, self.tz, id="conversation-top")
        top.context = self._title_context()
        top.set_time(self.now)
        top.revealed = self.reveal
        yield top
        yield Static(header_text(self.conversation, self.reveal), id="conversation-header")
        yield Static(id="conversation-state")
        with ConversationBody(id="conversation-body"):
            yield Static(messages_text(self.parts), id="conversation-messages")
        yield KeyBar()

    # -- the conversation's action ----------------------------------------------------

    @property
    def action(self) -> Action | None:
        """The conversation's latest action, as the board has it (or as made here)."""
        return self._action

    @action.setter
    def action(self, value: Action | None) -> None:
        self._action = value
        if self.is_mounted:
            self._show_action()

    def _show_action(self) -> None:
        """ "sending in 8s (u to undo)", "failed: … — r to retry": under the header,
        ticking once a second while it counts down."""
        line = self.query_one("#conversation-state", Static)
        action = self._action
        shown = action is not None and action.state not in (State.UNDONE, State.DISCARDED)
        line.display = shown
        if action is not None and shown:
            words = describe(action, self.desk.clock(), self.tz)
            line.update(Text(glyphs().text(words), no_wrap=True, overflow="ellipsis"))
            line.set_class(
                action.state in (State.FAILED, State.UNKNOWN, State.ELSEWHERE), "-problem"
            )
            line.set_class(action.state is State.SENT, "-ok")
        ticking = shown and action is not None and action.state in (State.PENDING, State.FAILED)
        if ticking and self._state_ticker is None:
            self._state_ticker = self.set_interval(1.0, self._show_action)
        elif not ticking and self._state_ticker is not None:
            self._state_ticker.stop()
            self._state_ticker = None

    def on_mount(self) -> None:
        self._show_action()
        self.body.focus()
        self.call_after_refresh(self._show_last)
        if self._reply_at_start:
            self.action_reply()

    @property
    def body(self) -> ConversationBody:
        return self.query_one(ConversationBody)

    def _show_last(self) -> None:
        """Start at the newest message, as the preview does."""
        messages = self.query_one("#conversation-messages", Static)
        y = lines_before_last(self.parts, messages.styles, messages.content_region.width)
        self.body.scroll_to(y=y, animate=False)

    # -- live ---------------------------------------------------------------------

    def live_update(
        self,
        header: ConversationHeader | None,
        now: float,
        status: PollingStatus,
        *,
        reload: bool,
    ) -> None:
        """A new board: tick the clock, the status and the wait; ``reload`` the
        messages (off the event loop) when the queue was rebuilt. ``header`` is
        None once the conversation is no longer waiting (answered or closed)."""
        self.now = now
        top = self.query_one("#conversation-top", TopBar)
        top.set_time(now)
        top.set_status(status.text, status.level)
        if header is not None:
            self.conversation = header
        else:
            self.conversation = ConversationHeader(
                channel_label=self.conversation.channel_label,
                customer_name=self.conversation.customer_name,
                customer_email=self.conversation.customer_email,
                customer_phone=self.conversation.customer_phone,
                subject=self.conversation.subject,
                wait_s=None,
                gap_s=None,
                customer_handle=self.conversation.customer_handle,
                waiting=False,
            )
        self.query_one("#conversation-header", Static).update(
            header_text(self.conversation, self.reveal)
        )
        if reload and self._load is not None:
            self._reload()
        if self.composer is not None:
            self._check_collision()

    @work(group="conversation-reload", exclusive=True, exit_on_error=False)
    async def _reload(self) -> None:
        if self._load is None:
            return
        messages = list(await self._load())
        if messages == self._messages or not self.is_attached:
            return
        at_end = self.body.scroll_y >= self.body.max_scroll_y
        self._set_messages(messages)
        self.query_one("#conversation-top", TopBar).context = self._title_context()
        self.query_one("#conversation-messages", Static).update(messages_text(self.parts))
        if at_end:  # following the conversation: show what just arrived
            self.call_after_refresh(self._show_last)

    # -- replying ------------------------------------------------------------------

    @property
    def composer(self) -> Composer | None:
        found = self.query(Composer)
        return found.first() if found else None

    def action_reply(self) -> None:
        if self.composer is not None:
            self.composer.area.focus()
            return
        if not hasattr(self, "desk"):
            return
        item = self._refused("reply")
        if item is None or self._retry_failed(item):
            return
        if isinstance(self.app, LateKeys):  # letters typed meanwhile go in the composer
            self.app.keep_typed()
        self.run_worker(self._open_composer(), group="composer", exit_on_error=False)

    async def _open_composer(self) -> None:
        try:
            await self._mount_composer()
        finally:
            typed = self.app.take_typed() if isinstance(self.app, LateKeys) else ""
            if typed and self.composer is not None:
                self.composer.area.insert(typed, self.composer.area.document.end)

    async def _mount_composer(self) -> None:
        assert self.item is not None
        text = ""
        opened = self.desk.clock()
        try:
            draft = await self.desk.draft(self.item.conversation_id)
        except DeskError:
            draft = None
        if draft is not None:
            text, opened = draft.text, draft.opened_at
        if self.composer is not None or not self.is_attached:
            return
        self._opened_at = opened
        await self.mount(Composer(customer_words(self.item), text), before=self.query_one(KeyBar))
        self._check_collision()
        self.refresh_bindings()

    @on(TextArea.Changed)
    def _typed(self, event: TextArea.Changed) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_SAVE_S, self._save_draft)

    def _save_draft(self) -> None:
        composer = self.composer
        if composer is not None and self.item is not None and self._opened_at is not None:
            self.run_worker(
                self.desk.save_draft(self.item.conversation_id, composer.text, self._opened_at),
                group="draft",
                exclusive=True,
                exit_on_error=False,
            )

    @on(Composer.Keep)
    async def _keep(self, message: Composer.Keep) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._save_draft()
        composer = self.composer
        if composer is not None:
            await composer.remove()
        self.body.focus()
        self.refresh_bindings()
        if message.text.strip():
            self.notify("Draft kept: r to go on writing it.", timeout=3)

    @on(Composer.Send)
    def _send(self, message: Composer.Send) -> None:
        if self._sending:
            return
        if not message.text.strip():
            self.notify("An empty reply is not sent.", severity="warning", timeout=4)
            return
        self._sending = True
        self.run_worker(self._send_checked(message.text), group="send", exit_on_error=False)

    async def _send_checked(self, text: str) -> None:
        from sportello.screens.pick import ConfirmScreen

        try:
            item = self.item
            assert item is not None
            collision = await self._collision()
            if collision is not None and collision.asks_first:
                question = "Send a second answer?"
                yes = await self.app.push_screen_wait(
                    ConfirmScreen(question, self._collision_words(collision))
                )
                if not yes:
                    return
            if self._draft_timer is not None:
                self._draft_timer.stop()
            action = await self._commit(self.desk.reply(item, text), item)
            if action is None:
                return
            composer = self.composer
            if composer is not None:
                await composer.remove()
        finally:
            self._sending = False

    async def _collision(self) -> Collision | None:
        if self.item is None or self._opened_at is None:
            return None
        try:
            return await self.desk.collision(self.item, self._opened_at)
        except DeskError:
            return None

    @work(group="collision", exclusive=True, exit_on_error=False)
    async def _check_collision(self) -> None:
        collision = await self._collision()
        composer = self.composer
        if composer is None or collision is None:
            return
        composer.set_notice(self._collision_words(collision) or None)

    def _collision_words(self, collision: Collision) -> str:
        return _collision_words(collision, self.tz, self.desk.clock(), self.desk.who)

    # -- triage ---------------------------------------------------------------------

    def triage_item(self) -> QueueItem | None:
        return self.item if self.conversation.waiting else None

    def triage_action_of(self, conversation_id: int) -> Action | None:
        return self.action

    def triage_changed(self, action: Action) -> None:
        self.action = action

    def triage_done(self, action: Action) -> None:
        self.action = action
        if self._on_done is not None:
            self._on_done(action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Opened only to read (no desk, no conversation): no triage keys at all.
        reading_only = not hasattr(self, "desk") or self.item is None
        return not (action in _TRIAGE and reading_only)

    def refusal(self, action: str, *, load: bool = False) -> str | None:
        if not hasattr(self, "desk"):
            return "not available here"
        if self.item is not None and not self.conversation.waiting and action != "undo":
            return "no longer waiting: answered, closed or snoozed"
        return super().refusal(action, load=load)

    # -- actions ----------------------------------------------------------------

    def action_back(self) -> None:
        if self.composer is not None:
            self._save_draft()
        self.dismiss()

    def action_read_down(self) -> None:
        self.body.scroll_down(animate=False)

    def action_read_up(self) -> None:
        self.body.scroll_up(animate=False)

    def action_read_page_down(self) -> None:
        self.body.scroll_page_down(animate=False)

    def action_read_page_up(self) -> None:
        self.body.scroll_page_up(animate=False)

    def action_read_top(self) -> None:
        self.body.scroll_home(animate=False)

    def action_read_bottom(self) -> None:
        self.body.scroll_end(animate=False)


def _collision_words(collision: Collision, tz: ZoneInfo, now: float, me: str) -> str:
    """Who else is writing, who answered meanwhile, or that a reply is already on its way."""

    def at(t: float) -> str:
        return datetime.fromtimestamp(t, tz).strftime("%H:%M")

    parts: list[str] = []
    for draft in collision.writing:
        parts.append(
            f"{inert(draft.author, 60)} is writing a reply too (since {at(draft.opened_at)})"
        )
    if collision.answered_at is not None:
        who = inert(collision.answered_by, 60) if collision.answered_by else "someone"
        parts.append(f"{who} answered at {at(collision.answered_at)}, after you opened it")
    elif collision.second_answer is not None:
        other = collision.second_answer
        said = describe(other, now, tz)
        who = "your" if other.made_by == me else f"{inert(other.made_by, 60)}'s"
        parts.append(f"{who} reply is already on its way or sent ({said})")
    return "; ".join(parts)
