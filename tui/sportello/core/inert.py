"""Make customer text safe to put on a terminal.

Customer text is hostile input: a subject may carry terminal escape sequences
(colours, screen clears, a window title, OSC 52 that writes the clipboard),
C1 controls, bidi overrides that reorder what the owner reads, lone
surrogates that make the terminal's encoder raise, or a megabyte of text.
:func:`inert` turns any of it into one short printable line, and
:func:`inert_block` into bounded multi-line text for a message body.

What these functions return is still plain text: widgets must show it as a
``Text``/``Content``/``Segment`` value, never parse it as markup. Markup
characters such as ``[b]`` are kept on purpose so that they show literally.

Pure and Textual-free; the fast path (already clean short text) returns its
argument unchanged, so 100,000 subjects cost a few tens of milliseconds.
"""

from __future__ import annotations

import re

__all__ = ["ELLIPSIS", "inert", "inert_block"]

ELLIPSIS = "…"

# Escape sequences, removed whole. String sequences (OSC, DCS, SOS, PM, APC)
# run to BEL or ST; an unterminated one is swallowed to the end, as a terminal
# would. 8-bit forms (CSI U+009B, OSC U+009D, DCS U+0090, …) are removed too;
# an unterminated 8-bit one loses only its introducer (it may be mis-decoded
# Windows-1252 text), and its body cannot span another introducer, so that a
# run of them costs linear time.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: parameters, intermediates, final
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|\Z)"  # strings, to BEL/ST or the end
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x90\x98\x9c-\x9f]*(?:\x07|\x1b\\|\x9c)"  # 8-bit
    r"|\x1b[ -/]*[0-~]?",  # other escapes: ESC 7, ESC c, ESC ( B, …
    re.DOTALL,
)
# Controls (C0, DEL, C1), bidi controls and lone surrogates, removed.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u206f"
_STRIP = re.compile(f"[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f{_BIDI}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Long stacks of combining marks ("zalgo") are cut to three.
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_ZALGO = re.compile(f"([{_COMBINING}]{{3}})[{_COMBINING}]+")
_SPACES = re.compile(r"\s+")
_LINE_SPLIT = re.compile("\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")
_BLANK_LINES = re.compile(r"\n{3,}")
# White space other than a line break or an ordinary space (NBSP, ideographic
# space, …) is shown as one space; runs of ordinary spaces are kept in a body
# (indentation in quoted mail).
_SPACES_NOT_NEWLINE = re.compile(r"[^\S\n ]")

# Scan at most this many characters per output character: a megabyte subject
# costs the same as a short one, and escape sequences removed from the start
# rarely leave less than ``limit`` characters to show.
_SCAN_FACTOR = 4
_SCAN_EXTRA = 64


def _clean(text: str) -> str:
    """Remove sequences, controls, bidi controls, surrogates and zalgo."""
    if _STRIP.search(text):  # every sequence starts with a stripped character
        text = _SEQUENCE.sub("", text)
        text = _STRIP.sub("", text)
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
        text = _ZALGO.sub(r"\1", text)
    return text


def _window(text: str, limit: int) -> tuple[str, bool]:
    scan = limit * _SCAN_FACTOR + _SCAN_EXTRA
    if len(text) > scan:
        return text[:scan], True
    return text, False


def _truncate(text: str, limit: int, cut: bool) -> str:
    if len(text) > limit:
        return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    if cut:
        if len(text) >= limit:
            text = text[: max(limit - 1, 0)].rstrip()
        return text + ELLIPSIS
    return text


def inert(text: str, limit: int = 200) -> str:
    """One printable line of at most ``limit`` characters.

    Escape sequences and control characters are removed, line breaks and tabs
    become spaces, runs of white space collapse to one space, and a longer
    text ends with "…". Markup characters are kept: show the result as plain
    text, never as markup.
    """
    if limit < 1:
        return ""
    if (
        len(text) <= limit
        and text.isprintable()
        and "  " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
        and (text.isascii() or not _ZALGO.search(text))
    ):
        return text  # the common case: nothing to do
    window, cut = _window(text, limit)
    window = _clean(window)
    window = _SPACES.sub(" ", window).strip()
    return _truncate(window, limit, cut)


def inert_block(text: str, limit: int = 4000) -> str:
    """Multi-line text of at most ``limit`` characters, for a message body.

    Like :func:`inert`, but line breaks are kept (every kind normalised to
    ``\\n``), tabs become four spaces, trailing spaces are dropped and more
    than one blank line in a row collapses to one.
    """
    if limit < 1:
        return ""
    window, cut = _window(text, limit)
    window = _LINE_SPLIT.sub("\n", window)
    window = _clean(window.replace("\t", "    "))
    lines = [_SPACES_NOT_NEWLINE.sub(" ", line).rstrip() for line in window.split("\n")]
    window = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
    return _truncate(window, limit, cut)
