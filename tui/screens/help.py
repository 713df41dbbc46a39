"""``?``: every key of the screen underneath, from the bindings actually active."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.core.keymap import BY_ID


def key_label(keys: str) -> str:
    names = {
        "question_mark": "?",
        "slash": "/",
        "escape": "Esc",
        "pagedown": "PgDn",
        "pageup": "PgUp",
        "enter": "Enter",
        "down": "↓",
        "up": "↑",
        "tab": "Tab",
    }
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """A list of (keys, what they do), closed with Escape, q or ?."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "close", id="help.close"),
    ]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, what in self.rows:
            table.add_row(Text(keys), Text(what))
        with VerticalScroll():
            yield Static(Text("Keys", style="bold"))
            yield Static(table)
            yield Static(Text("Esc closes this list", style="dim"))


def rows_for(bindings: list[tuple[str, str, str | None]]) -> list[tuple[str, str]]:
    """(keys, help) rows from (key display, description, binding id), deduplicated."""
    seen: set[str] = set()
    rows = []
    for keys, description, binding_id in bindings:
        spec = BY_ID.get(binding_id or "")
        what = spec.help if spec is not None else description
        if what in seen or not what:
            continue
        seen.add(what)
        rows.append((key_label(keys), what))
    return rows
