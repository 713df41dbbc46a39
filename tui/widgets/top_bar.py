"""The top line: business name, the time, and whether polling is live."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.inert import inert


class TopBar(Widget):
    """`` sportello · Bottega Rossi                     14:32  ● live``.

    The clock shows minutes and is redrawn once a minute, not every second: over
    SSH every redraw costs bandwidth.
    """

    DEFAULT_CSS = """
    TopBar { height: 1; background: $primary; color: $text; }
    """

    status: reactive[str] = reactive("starting…")
    clock: reactive[str] = reactive("")

    def __init__(self, business: str, timezone: ZoneInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.business = inert(business, limit=60)
        self.timezone = timezone

    def set_time(self, now: float) -> None:
        self.clock = datetime.fromtimestamp(now, self.timezone).strftime("%H:%M")

    def render(self) -> Text:
        left = Text.assemble((" sportello", "bold"), " · ", self.business)
        right = Text.assemble(self.clock, "  ", self.status, " ")
        gap = max(1, self.size.width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right, no_wrap=True, overflow="ellipsis")
