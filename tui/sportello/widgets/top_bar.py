"""The top line: business name, what is shown, the time, and who polls."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from sportello.core.glyphs import glyphs
from sportello.core.inert import inert

__all__ = ["TopBar"]

_LEVELS = {
    "ok": Style(),
    "warn": Style(bold=True, color="bright_yellow"),
    "error": Style(bold=True, color="bright_red", reverse=True),
    "muted": Style(italic=True),
}


class TopBar(Widget):
    """`` sportello · Bottega Rossi                     14:32  ● live``.

    ``context`` names the screen (`` · conversation · 12 messages``); ``status``
    says who polls and how fresh the data is, drawn by ``level`` (ok, warn,
    error, muted); ``revealed`` adds a mark while customers' contact details
    are shown unmasked. The clock shows minutes and is redrawn once a minute,
    not every second: over SSH every redraw costs bandwidth.
    """

    DEFAULT_CSS = """
    TopBar { height: 1; background: $primary; color: $text; }
    """

    status: reactive[str] = reactive("starting…")
    level: reactive[str] = reactive("ok")
    clock: reactive[str] = reactive("")
    context: reactive[str] = reactive("")
    revealed: reactive[bool] = reactive(False)

    def __init__(self, business: str, timezone: ZoneInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.business = inert(business, limit=60)
        self.timezone = timezone

    def set_time(self, now: float) -> None:
        self.clock = datetime.fromtimestamp(now, self.timezone).strftime("%H:%M")

    def set_status(self, text: str, level: str = "ok") -> None:
        self.status = text
        self.level = level if level in _LEVELS else "ok"

    def render(self) -> Text:
        words = glyphs().text
        dot = words(" · ")
        left = Text.assemble((" sportello", "bold"))
        if self.business:
            left.append(dot + self.business)
        if self.context:
            left.append(dot + words(self.context))
        right = Text()
        if self.revealed:
            right.append("unmasked", style=Style(bold=True, reverse=True))
            right.append("  ")
        right.append(self.clock)
        right.append("  ")
        right.append(words(self.status), style=_LEVELS.get(self.level, Style()))
        right.append(" ")
        room = self.size.width - right.cell_len - 1
        if left.cell_len > room:  # the status matters more than the name
            left.truncate(max(room, 0), overflow="ellipsis")
        gap = max(1, self.size.width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right, no_wrap=True, overflow="ellipsis")
