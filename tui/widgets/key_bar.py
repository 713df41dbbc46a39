"""The bottom line of keys: what the active bindings of this screen do.

Textual's Footer builds a widget per key and rebuilds them whenever the bindings
change; at start that alone cost about 90 ms here. This is one widget that draws
one line of text from the same source (``screen.active_bindings``) and redraws
when the screen's bindings change. Keys are bold and coloured, so they stand out
with 16 colours and, by weight alone, with NO_COLOR. Keys Textual shows as
arrows (``⏎``, ``↓``) are named in words where the terminal cannot show them
(:mod:`tui.core.glyphs`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget

from tui.core.glyphs import glyphs


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
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        marks = glyphs()
        line = Text(no_wrap=True, overflow="crop", end="")
        seen: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        palette_key = ""
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.key == palette and palette:
                palette_key = marks.key(self.app.get_key_display(binding))
                continue
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            line.append(" ")
            line.append(marks.key(self.app.get_key_display(binding)), style=key_style)
            describe = getattr(self.app, "describe_binding", None)
            word = describe(binding.action) if callable(describe) else None
            line.append(f" {word or binding.description} ")
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
