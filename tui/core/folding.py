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
from functools import cache

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
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


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


def _strip_marks(text: str) -> str:
    text = _bmp_marks().sub("", text)
    if _ASTRAL.search(text) is None:
        return text
    return "".join([c for c in text if not _combining(c)])  # marks beyond the BMP: rare


@cache
def _bmp_marks() -> re.Pattern[str]:
    """Every combining mark of the Basic Multilingual Plane, as one character class.

    A class of BMP characters is a bitmap lookup in ``re`` (marks beyond it
    would make it a slow list of ranges). Built on first use: about 10 ms.
    """
    marks = "".join(chr(c) for c in range(0x300, 0x10000) if _combining(chr(c)))
    return re.compile(f"[{re.escape(marks)}]")
