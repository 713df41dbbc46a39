"""The reply composer, under the thread: a multi-line text area and one line above it.

Ctrl+J sends (Ctrl+S too): Ctrl+Enter does not reach a program over SSH in most
terminals, Ctrl+J does in every one (it is the newline character). Enter makes a
new line. Escape closes the composer and keeps the draft; the screen saves the
draft in the store as it is typed, so it survives a restart and others on the
server see that someone is writing.

The line above says to whom, the keys, and — set by the screen — who else is
writing or whether the customer was answered meanwhile (:meth:`Composer.set_notice`).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from sportello.bindings import bindings
from sportello.core.glyphs import glyphs

__all__ = ["Composer"]

REPLY_LIMIT = 20_000  # the store keeps a message's first 20,000 characters


class ReplyArea(TextArea):
    """The text; its own keys (send, keep) come first."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("composer")]

    def on_mount(self) -> None:
        self.cursor_blink = False  # a blinking cursor redraws twice a second over SSH

    def action_send(self) -> None:
        self.post_message(Composer.Send(self.text))

    def action_keep(self) -> None:
        self.post_message(Composer.Keep(self.text))


class Composer(Vertical):
    DEFAULT_CSS = """
    Composer {
        height: auto;
        max-height: 50%;
        border-top: solid $primary;
        & > #composer-line {
            height: auto;
            max-height: 3;
            padding: 0 1;
            color: $text-muted;
        }
        & > ReplyArea, & > ReplyArea:focus {
            height: 7;
            border: none;
            padding: 0 1;
        }
        & > #composer-line.-warning { color: $text-warning; text-style: bold; }
    }
    """

    class Send(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Keep(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, to: str, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.to = to
        self._initial = text
        self._notice: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._line(), id="composer-line")
        area = ReplyArea(
            self._initial[:REPLY_LIMIT],
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            id="composer-text",
        )
        yield area

    def on_mount(self) -> None:
        area = self.area
        area.move_cursor(area.document.end)
        area.focus()

    @property
    def area(self) -> ReplyArea:
        return self.query_one(ReplyArea)

    @property
    def text(self) -> str:
        return self.area.text

    def set_notice(self, notice: str | None) -> None:
        """Who else is writing, or that the customer was answered meanwhile."""
        if notice != self._notice:
            self._notice = notice
            line = self.query_one("#composer-line", Static)
            line.set_class(notice is not None, "-warning")
            line.update(self._line())

    def _line(self) -> Text:
        marks = glyphs()
        if self._notice is not None:
            return Text(marks.text(f"⚠ {self._notice}"), no_wrap=False)
        return Text(
            marks.text(f"Reply to {self.to} · ctrl+j send · esc keep the draft"),
            no_wrap=True,
            overflow="ellipsis",
        )
