"""Text folded for searching: case, accents and compatibility forms ignored.

:func:`fold` is applied the same way to what the queue filter searches and to
what the user types, so that ``disponibilita`` finds ``Disponibilità``, ``citta``
finds ``CITTÀ`` and ``strasse`` finds ``Straße``. :func:`search_text` is what the
store keeps of a conversation's last messages for the filter.

No Textual here; safe in any thread.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "SEARCH_MESSAGES",
    "SEARCH_MESSAGE_CHARS",
    "SEARCH_READ_CHARS",
    "fold",
    "search_text",
]

SEARCH_MESSAGES = 3  # the last messages of a conversation that the filter searches
SEARCH_MESSAGE_CHARS = 160  # of each, the first characters (folded, spaces collapsed)
SEARCH_READ_CHARS = 4 * SEARCH_MESSAGE_CHARS  # of each, what is read before folding

_normalize = unicodedata.normalize
_combining = unicodedata.combining


def fold(text: str) -> str:
    """``text`` casefolded, in NFKD, without combining marks.

    ASCII text is only lower-cased (the same as casefolding it). Otherwise the
    text is decomposed, stripped of its marks and casefolded, and decomposed
    and stripped again when casefolding left something to decompose (``İ``).
    It works a character at a time (the marks it drops aside), so a filter
    text that extends another narrows that one's result.
    """
    if text.isascii():
        return text.lower()
    folded = _strip_marks(_normalize("NFKD", text)).casefold()
    if folded.isascii():
        return folded
    return _strip_marks(_normalize("NFKD", folded))


def search_text(texts: Iterable[str]) -> str:
    """What the filter searches of messages' ``texts`` (oldest first).

    Of the last :data:`SEARCH_MESSAGES`, the first :data:`SEARCH_MESSAGE_CHARS`
    characters of each, folded, white space collapsed, one message a line: at
    most about 500 characters in all.
    """
    parts = []
    for text in list(texts)[-SEARCH_MESSAGES:]:
        words = text[:SEARCH_READ_CHARS].split()
        parts.append(fold(" ".join(words))[:SEARCH_MESSAGE_CHARS])
    return "\n".join(parts)


# The combining marks that decomposing Latin, Greek, Cyrillic and kana text gives,
# and the other "combining" blocks: one small character class, built from a few
# hundred characters at import (the whole plane would take tens of milliseconds).
_COMMON_BLOCKS = (
    (0x300, 0x36F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
    (0x3099, 0x309A),
)
_COMMON_MARKS = re.compile(
    "["
    + "".join(
        re.escape(chr(code))
        for first, last in _COMMON_BLOCKS
        for code in range(first, last + 1)
        if _combining(chr(code))
    )
    + "]"
)
# Where every other combining mark lies (the scripts that have them, and beyond
# the Basic Multilingual Plane): text with none of these needs no slower look.
_OTHER_MARKS = re.compile(
    "[\u0483-\u1cf9\u2cef-\u2dff\u302a-\u302f\ua66f-\uabed\ufb1e\U00010000-\U0010ffff]"
)


def _strip_marks(text: str) -> str:
    """``text`` without combining marks: a regex for the common ones, and a look at
    each character only in the scripts that have others (Hebrew, Arabic, Indic…)."""
    text = _COMMON_MARKS.sub("", text)
    if _OTHER_MARKS.search(text) is None:
        return text
    return "".join([c for c in text if not _combining(c)])
