"""What a terminal receives: the screen with its colours as a colour system shows them.

Textual draws in true colour and Rich maps every colour to the terminal's system
(256 or 16 colours) as it writes. An SVG snapshot never shows that mapping; this
applies it to the screen's segments, so that a test can read the colour and the
weight a terminal would show.
"""

from __future__ import annotations

from typing import Any

from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.app import App

_SYSTEMS = {
    "standard": ColorSystem.STANDARD,
    "256": ColorSystem.EIGHT_BIT,
    "truecolor": ColorSystem.TRUECOLOR,
}


def _as_written(style: Style | None, system: str | None) -> Style:
    """``style`` with its colours mapped as Rich maps them for ``system`` when it writes.

    Mapped here rather than by writing escape codes and decoding them: Rich caches a
    style's codes on the style for the first colour system it is written with, so a
    style drawn by an earlier 16-colour test would come back with 16 colours.
    """
    if style is None:
        return Style()
    colour_system = _SYSTEMS.get(system or "")
    if colour_system is None:
        return style + Style(color="default", bgcolor="default")
    color = style.color.downgrade(colour_system) if style.color else None
    bgcolor = style.bgcolor.downgrade(colour_system) if style.bgcolor else None
    return style + Style.from_color(color, bgcolor)


def terminal_lines(app: App[Any], color_system: str | None) -> list[Text]:
    """The app's screen as the terminal would show it, one styled line per row."""
    width, height = app.size
    console = Console(width=width, height=height, force_terminal=True, legacy_windows=False)
    lines = [Text()]
    update = app.screen._compositor.render_update(full=True)
    assert update is not None
    for segment in console.render(update):
        if segment.control:
            continue
        for index, part in enumerate(segment.text.split("\n")):
            if index:
                lines.append(Text())
            if part:
                lines[-1].append(part, _as_written(segment.style, color_system))
    return [line for line in lines if line.plain][:height]


def style_of(line: Text, needle: str) -> Style:
    """The style of the first character of ``needle`` in ``line`` (which must hold it)."""
    start = line.plain.index(needle)
    style = Style()
    for span in line.spans:
        if span.start <= start < span.end:
            style += span.style if isinstance(span.style, Style) else Style.parse(span.style)
    return style


def line_with(lines: list[Text], *needles: str) -> Text:
    """The first line that holds every one of ``needles``."""
    for line in lines:
        if all(needle in line.plain for needle in needles):
            return line
    shown = "\n".join(line.plain for line in lines)
    raise AssertionError(f"no line holds {needles!r} in:\n{shown}")


def colour_number(style: Style) -> int | None:
    """The palette index of the foreground (16 or 256 colours); None: default or RGB."""
    return None if style.color is None else style.color.number
