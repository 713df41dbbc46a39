"""The glyphs the dashboard draws, in Unicode and in plain ASCII.

A terminal whose encoding is not UTF-8 (``LANG=C``, ``POSIX``, a Latin-1 locale)
cannot show ``▶ █ ▁▂▃ ✓ ⚠ ✗ …``: it prints ``_`` or mojibake where the cursor,
the bars and the states should be. :func:`glyphs` decides once, on its first
call, whether the terminal can show ours, and gives every glyph we draw in the
form that it can (:data:`UNICODE` or :data:`ASCII`).

Python hides a C locale: under ``LANG=C`` it switches itself to UTF-8 (PEP 538
coerces ``LC_CTYPE`` to ``C.UTF-8``, PEP 540 turns on UTF-8 mode), so
``sys.stdout.encoding`` says ``utf-8`` while the terminal is still ASCII. The
locale the user set is read from the environment instead (``LC_ALL``, then
``LC_CTYPE`` unless Python put it there, then ``LANG``), and the output stream's
encoding must also be able to encode every glyph.

Customer text is not ours: it is shown as written (made inert elsewhere).
No Textual here.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Mapping
from dataclasses import astuple, dataclass

__all__ = ["ASCII", "UNICODE", "Glyphs", "glyphs", "set_glyphs", "unicode_ok"]


@dataclass(frozen=True, slots=True)
class Glyphs:
    """Every glyph the dashboard draws. A field may be ``""`` (the word says it)."""

    cursor: str  # the queue's cursor mark, one cell
    bar: str  # one block of a gap bar
    spark: str  # the sparkline's levels, lowest first (8 of them)
    ok: str  # state glyphs, each followed by a word ("✓ ok")
    degraded: str
    down: str
    pending: str
    dash: str  # unknown / nothing: "—"
    ellipsis: str  # text that goes on: "starting…", "waiting for first poll"
    cut: str  # one cell that ends a cut text
    dot: str  # a separator between parts: "Email · Maria"
    open_quote: str
    close_quote: str
    rule: str  # a thin vertical rule: "▏^p palette"
    live: str  # the top bar: "● live", "❚❚ paused", "○ stopped"
    paused: str
    stopped: str
    masked: str  # what stands for the hidden part of an address: "m•••@e•••.it"
    arrows: Mapping[str, str]  # key names shown in the key bar: "⏎" -> "enter"

    @property
    def plain(self) -> bool:
        """True for the ASCII set (other drawings, such as scrollbars, follow it)."""
        return self.bar.isascii()

    def mark(self, glyph: str, words: str) -> str:
        """``✓ ok``; just the words when the glyph is empty (ASCII ``ok``)."""
        return f"{glyph} {words}" if glyph else words

    def key(self, display: str) -> str:
        """A key as Textual displays it (``⏎``, ``↓``), in characters we can show."""
        for glyph, name in self.arrows.items():
            display = display.replace(glyph, name)
        return display

    def quoted(self, text: str) -> str:
        return f"{self.open_quote}{text}{self.close_quote}"

    def text(self, words: str) -> str:
        """Our own words as this set draws them: in ASCII every glyph of ours in
        ``words`` ("● live · anna@shop", "Reading the store…") becomes its ASCII
        form. Not for customer text: pass only what we wrote."""
        if not self.plain:
            return words
        for glyph, ascii_form in _TO_ASCII:
            if glyph in words:
                words = words.replace(glyph, ascii_form)
        return words


_KEY_NAMES = {
    "⏎": "enter",
    "↑": "up",
    "↓": "down",
    "←": "left",
    "→": "right",
    "⌫": "backspace",
}

UNICODE = Glyphs(
    cursor="▶",
    bar="█",
    spark="▁▂▃▄▅▆▇█",
    ok="✓",
    degraded="⚠",
    down="✗",
    pending="…",
    dash="—",
    ellipsis="…",
    cut="…",
    dot="·",
    open_quote="“",
    close_quote="”",
    rule="▏",
    live="●",
    paused="❚❚",
    stopped="○",
    masked="•••",
    arrows={},
)

ASCII = Glyphs(
    cursor=">",
    bar="#",
    spark="_.-~=+*#",
    ok="",  # "ok" says it; "ok ok" would not
    degraded="!",
    down="x",
    pending="...",
    dash="-",
    ellipsis="...",
    cut="~",
    dot="-",
    open_quote='"',
    close_quote='"',
    rule="|",
    live="*",
    paused="||",
    stopped="o",
    masked="***",
    arrows=_KEY_NAMES,
)

# Our glyphs in words, longest first, and their ASCII forms (for Glyphs.text).
_TO_ASCII: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            **{
                u: a
                for u, a in zip(astuple(UNICODE), astuple(ASCII), strict=True)
                if isinstance(u, str)
                and isinstance(a, str)
                and u
                and not u.isascii()
                and len(u) <= 3
            },
            "…": "...",  # in words it is an ellipsis (a cut mark is drawn by the tables)
            "✓": "ok",
            "⚠": "!",
            "•": "*",
            **_KEY_NAMES,
        }.items(),
        key=lambda pair: -len(pair[0]),
    )
)

# Everything UNICODE draws, to check that the output encoding can encode it.
_ALL_UNICODE = "".join(
    part if isinstance(part, str) else "" for part in astuple(UNICODE)
) + "".join(_KEY_NAMES)
# What Python puts in LC_CTYPE when it coerces a C locale (PEP 538).
_COERCED = frozenset({"C.UTF-8", "C.utf8", "UTF-8"})


def _codeset(locale_name: str) -> str:
    """``en_US.UTF-8@euro`` -> ``utf-8``; ``C``, ``POSIX`` -> ``ascii``; ``""`` unknown."""
    name = locale_name.split("@", 1)[0]
    if name in ("C", "POSIX"):
        return "ascii"
    if "." not in name:
        return ""  # a language without a codeset (``it_IT``): its legacy encoding
    return name.split(".", 1)[1]


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return encoding.replace("-", "").replace("_", "").lower() == "utf8"


def unicode_ok(
    environ: Mapping[str, str] | None = None,
    stream_encoding: str | None = None,
    utf8_mode: bool | None = None,
) -> bool:
    """Can the terminal show our glyphs? (Arguments are for tests; see the module.)"""
    env = os.environ if environ is None else environ
    if stream_encoding is None:
        stream = sys.__stdout__
        stream_encoding = getattr(stream, "encoding", None) or "ascii"
    if utf8_mode is None:
        utf8_mode = bool(sys.flags.utf8_mode)
    try:
        _ALL_UNICODE.encode(stream_encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    name = env.get("LC_ALL") or ""
    if not name:
        ctype = env.get("LC_CTYPE") or ""
        coerced = utf8_mode and ctype in _COERCED and not env.get("PYTHONUTF8")
        name = "" if coerced else ctype
    name = name or env.get("LANG") or "C"  # no locale at all is the C locale
    return _is_utf8(_codeset(name))


_current: Glyphs | None = None


def glyphs() -> Glyphs:
    """The glyphs to draw, decided on the first call (:func:`unicode_ok`)."""
    global _current
    if _current is None:
        _current = UNICODE if unicode_ok() else ASCII
    return _current


def set_glyphs(chosen: Glyphs | None) -> None:
    """Force a set (tests); ``None`` decides again on the next :func:`glyphs` call."""
    global _current
    _current = chosen
