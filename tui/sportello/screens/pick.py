"""Small modal choices: whom to assign, how long to snooze, and "send anyway?".

Each is one list, driven by the arrows (or j/k) and Enter, or by the number in
front of a choice; Escape cancels and returns None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from sportello.core.glyphs import glyphs

__all__ = ["ConfirmScreen", "PickScreen"]

T = TypeVar("T")

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 60; max-width: 100%; height: auto; max-height: 100%;
    border: round $accent; background: $surface; padding: 0 1;
}}
{name} OptionList, {name} OptionList:focus {{
    height: auto; max-height: 12; border: none; padding: 0;
}}
{name} .pick--title {{ text-style: bold; }}
{name} .pick--hint {{ color: $text-muted; }}
"""


class PickScreen(ModalScreen[T | None], Generic[T]):
    """Choose one of ``choices`` (label, value); None when cancelled."""

    DEFAULT_CSS = _CSS.format(name="PickScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        Binding("j", "down", show=False),
        Binding("k", "up", show=False),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[str, T]], hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.hint = hint

    def compose(self) -> ComposeResult:
        marks = glyphs()
        with Vertical():
            yield Static(Text(marks.text(self.title_text)), classes="pick--title")
            yield OptionList(
                *(
                    Option(Text(f"{n}  {marks.text(label)}"), id=str(n - 1))
                    for n, (label, _value) in enumerate(self.choices, start=1)
                )
            )
            hint = self.hint or "Enter chooses · a number chooses · Esc cancels"
            yield Static(Text(marks.text(hint)), classes="pick--hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(int(event.option.id or 0))

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character) - 1
            if 0 <= index < len(self.choices):
                event.stop()
                self._choose(index)

    def _choose(self, index: int) -> None:
        self.dismiss(self.choices[index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()


class ConfirmScreen(ModalScreen[bool]):
    """A question answered y (or Enter) / n (or Escape)."""

    DEFAULT_CSS = _CSS.format(name="ConfirmScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "yes"),
        Binding("n,escape", "answer(False)", "no"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        marks = glyphs()
        with Vertical():
            yield Static(Text(marks.text(self.question)), classes="pick--title")
            if self.detail:
                yield Static(Text(marks.text(self.detail)))
            yield Static(Text("y send anyway · n go back"), classes="pick--hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
