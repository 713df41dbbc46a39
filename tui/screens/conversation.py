"""One conversation on its own screen, for reading (replying comes with triage).

The dashboard loads the messages in a worker and pushes this screen with them;
Escape (or q) comes back. The screen stays live: with every board the dashboard
calls :meth:`ConversationScreen.live_update`, so the clock, who polls, the wait
and gap tick as on the dashboard, and new messages of the conversation appear
(loaded off the event loop with ``load``) as they arrive.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.bindings import bindings
from tui.core.polling_status import PollingStatus
from tui.core.records import MessageRecord
from tui.widgets.cells import ascii_scrollbar
from tui.widgets.key_bar import KeyBar
from tui.widgets.preview import (
    FULL_BODY_LIMIT,
    ConversationHeader,
    header_text,
    lines_before_last,
    message_text,
    messages_text,
)
from tui.widgets.top_bar import TopBar

Loader = Callable[[], Awaitable[Sequence[MessageRecord]]]

__all__ = ["ConversationScreen"]


class ConversationBody(VerticalScroll):
    """The messages, scrollable; it has the focus on this screen."""

    def on_mount(self) -> None:
        ascii_scrollbar(self)


class ConversationScreen(Screen[None]):
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
        & > ConversationBody {
            height: 1fr;
        }
        & > ConversationBody > #conversation-messages {
            height: auto;
            padding: 0 1;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("conversation")]

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
    ) -> None:
        super().__init__()
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
        with ConversationBody(id="conversation-body"):
            yield Static(messages_text(self.parts), id="conversation-messages")
        yield KeyBar()

    def on_mount(self) -> None:
        self.body.focus()
        self.call_after_refresh(self._show_last)

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

    # -- actions ----------------------------------------------------------------

    def action_back(self) -> None:
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
