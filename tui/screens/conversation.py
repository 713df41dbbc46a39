"""One conversation on its own screen, for reading (replying comes with triage).

The dashboard loads the messages in a worker and pushes this screen with them;
Escape (or q) comes back.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.bindings import bindings
from tui.core.inert import inert
from tui.core.records import MessageRecord
from tui.widgets.key_bar import KeyBar
from tui.widgets.preview import (
    FULL_BODY_LIMIT,
    ConversationHeader,
    header_text,
    lines_before_last,
    message_text,
    messages_text,
)

__all__ = ["SCROLL_BINDINGS", "ConversationScreen"]

SCROLL_BINDINGS: tuple[Binding, ...] = (
    Binding("down,j", "read_down", "down", show=False, id="conversation.down"),
    Binding("up,k", "read_up", "up", show=False, id="conversation.up"),
    Binding(
        "pagedown,space", "read_page_down", "page down", show=False, id="conversation.page_down"
    ),
    Binding("pageup", "read_page_up", "page up", show=False, id="conversation.page_up"),
    Binding("home,g", "read_top", "first", id="conversation.top"),
    Binding("end,G", "read_bottom", "last", id="conversation.bottom"),
)
"""Scrolling keys; the key table (``tui.core.keymap``) may declare the same ids."""


def _bindings() -> list[BindingType]:
    declared = bindings("conversation")  # conversation.back, from the key table
    ids = {binding.id for binding in declared}
    return [*declared, *(b for b in SCROLL_BINDINGS if b.id not in ids)]


class ConversationBody(VerticalScroll):
    """The messages, scrollable; it has the focus on this screen."""


class ConversationScreen(Screen[None]):
    """Every message the store has for one conversation, oldest first."""

    DEFAULT_CSS = """
    ConversationScreen {
        layout: vertical;
        & > #conversation-title {
            height: 1;
            background: $primary;
            color: $text;
        }
        & > #conversation-header {
            height: auto;
            max-height: 2;
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

    BINDINGS = _bindings()

    def __init__(
        self,
        header: ConversationHeader,
        messages: Sequence[MessageRecord],
        *,
        reveal: bool,
        tz: ZoneInfo,
        now: float,
        title: str = "sportello",
    ) -> None:
        super().__init__()
        self.conversation = header
        self.reveal = reveal
        self.parts = [
            message_text(m, reveal=reveal, tz=tz, now=now, limit=FULL_BODY_LIMIT)
            for m in sorted(messages, key=lambda m: m.sent_at)
        ]
        if not self.parts:
            self.parts = [Text("No messages stored for this conversation yet.", style="dim")]
        self._app_name = title

    def compose(self) -> ComposeResult:
        count = len(self.parts)
        title = Text(end="", no_wrap=True, overflow="ellipsis")
        title.append(f" {inert(self._app_name, 40)}", style="bold")
        title.append(f" · conversation · {count} message{'s' if count != 1 else ''}")
        yield Static(title, id="conversation-title")
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
