"""The baseline: a bare Textual app (Header, Static, Footer).

Run as ``python -m bench.bare_app``. Its first complete frame is the one that
shows :data:`READY_TEXT` and the footer's :data:`FOOTER_TEXT`. ``down`` redraws
the Static (a press counter), so that a key press has a frame to time.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

READY_TEXT = "bare Textual app"
FOOTER_TEXT = "Bump"
KEY = "down"  # the key that redraws the Static


def bare_ready(screen_text: str) -> bool:
    """The bare app's first complete frame: the Static's text and the footer."""
    return READY_TEXT in screen_text and FOOTER_TEXT in screen_text


def presses_shown(count: int) -> str:
    return f"presses: {count}"


class BareApp(App[None]):
    TITLE = "bench"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(KEY, "bump", FOOTER_TEXT),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.presses = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"{READY_TEXT} · {presses_shown(0)}", id="body")
        yield Footer()

    def action_bump(self) -> None:
        self.presses += 1
        self.query_one("#body", Static).update(f"{READY_TEXT} · {presses_shown(self.presses)}")


def main() -> None:
    BareApp().run()


if __name__ == "__main__":
    main()
