"""The bottom line of keys: what the active bindings of this screen do.

Textual's Footer builds a widget per key and rebuilds them whenever the bindings
change; at start that alone cost about 90 ms here. This is one widget that draws
one line of text from the same source (``screen.active_bindings``) and redraws
when the screen's bindings change. An action the screen refuses (its
``refusal(action)`` gives a reason: read-only, a channel that cannot) is drawn
dimmed and struck through; pressing it says why. Keys are bold and coloured, so they stand out
with 16 colours and, by weight alone, with NO_COLOR. Keys Textual shows as
arrows (``⏎``, ``↓``) are named in words where the terminal cannot show them
(:mod:`sportello.core.glyphs`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget

from sportello.core.glyphs import glyphs


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    KeyBar > .key-bar--disabled {
        color: $text-disabled;
        text-style: strike;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--disabled"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        # An action that cannot be done here (read-only, a channel that cannot):
        # dimmed, and struck through where dim may not show (NO_COLOR keeps it).
        disabled_style = self.get_component_rich_style("key-bar--disabled")
        marks = glyphs()
        line = Text(no_wrap=True, overflow="crop", end="")
        seen: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        palette_key = ""
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.key == palette and palette:
                palette_key = marks.key(self.app.get_key_display(binding))
                continue
            if not enabled or binding.action in seen:
                continue
            # A word that depends on the state ("p resume" while paused) shows even
            # a key the bar otherwise leaves to the help screen.
            describe = getattr(self.app, "describe_binding", None)
            word = describe(binding.action) if callable(describe) else None
            if not binding.show and word is None:
                continue
            seen.add(binding.action)
            refusal = getattr(self.screen, "refusal", None)
            refused = callable(refusal) and refusal(binding.action) is not None
            line.append(" ")
            line.append(
                marks.key(self.app.get_key_display(binding)),
                style=disabled_style if refused else key_style,
            )
            line.append(f" {word or binding.description} ", style=disabled_style if refused else "")
        if palette_key:
            tail = Text.assemble((palette_key, key_style), " palette ")
            room = self.size.width - line.cell_len - tail.cell_len
            if room > 0:
                line.append(" " * room)
                line.append_text(tail)
        width = self.size.width
        if width > 0 and line.cell_len > width:  # cut with our mark (ASCII "~")
            line.truncate(max(width - len(marks.cut), 0))
            line.append(marks.cut)
        return line
