"""``?``: every key of the screen underneath, from the bindings actually active."""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from sportello.bindings import bindings
from sportello.core.glyphs import glyphs
from sportello.core.keymap import BY_ID


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
    return glyphs().text(" ".join(names.get(k.strip(), k.strip()) for k in keys.split(",")))


OPEN_HOURS_NOTE = (
    "\nWaits, gaps and response times count a channel's open hours only: a customer "
    "who writes after closing shows “closed · counts from” the next opening, and the "
    "preview also says how long ago they wrote."
)


class HelpScreen(ModalScreen[None]):
    """A list of (keys, what they do), closed with Escape, q or ?."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [*bindings("help")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, what in self.rows:
            table.add_row(Text(keys), Text(glyphs().text(what)))
        with VerticalScroll():
            yield Static(Text("Keys", style="bold"))
            yield Static(table)
            yield Static(Text(glyphs().text(OPEN_HOURS_NOTE), style="italic"))
            yield Static(Text("Esc closes this list", style="dim"))


# Textual's own keys that a shop owner has a use for, in our words. Its other
# keys (horizontal scrolling, copying a selection…) do nothing useful on these
# screens and would only lengthen the list.
BUILT_IN_HELP = {
    "app.focus_next": "Move between the channel rows and the queue",
    "app.focus_previous": "Move between the channel rows and the queue",
    "command_palette": "Find any action by name (the command palette)",
    "quit": BY_ID["app.quit"].help,
    # The scrolling keys of the conversation's message list (its own bindings take
    # the arrows, Page and Home/End keys before the screen's): listed with ours.
    "scroll_down": BY_ID["conversation.down"].help,
    "scroll_up": BY_ID["conversation.up"].help,
    "page_down": BY_ID["conversation.page_down"].help,
    "page_up": BY_ID["conversation.page_up"].help,
    "scroll_home": BY_ID["conversation.top"].help,
    "scroll_end": BY_ID["conversation.bottom"].help,
}


def rows_for(bindings: Iterable[tuple[str, str, str | None]]) -> list[tuple[str, str]]:
    """(keys, what they do) rows from the active (key, action, binding id) triples.

    Keys of our table (:mod:`sportello.core.keymap`) are listed with its help text, and
    the few of Textual's own in :data:`BUILT_IN_HELP`; the keys that do the same
    thing share a row, in the order they first come.
    """
    rows: dict[str, list[tuple[bool, str]]] = {}
    for key, action, binding_id in bindings:
        spec = BY_ID.get(binding_id or "")
        what = spec.help if spec is not None else BUILT_IN_HELP.get(action)
        if what is None:
            continue
        keys = rows.setdefault(what, [])
        label = (spec is None, key_label(key))  # our keys before Textual's
        if label not in keys:
            keys.append(label)
    return [
        (" ".join(label for _, label in sorted(keys, key=itemgetter(0))), what)
        for what, keys in rows.items()
    ]
