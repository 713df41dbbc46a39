"""Folding for search: every combining mark goes, fast for common text."""

from __future__ import annotations

import random
import unicodedata

from sportello.core import folding
from sportello.core.folding import fold


def slow_fold(text: str) -> str:
    """The definition: NFKD, no combining marks, casefolded, and once more."""

    def strip(value: str) -> str:
        decomposed = unicodedata.normalize("NFKD", value)
        return "".join(c for c in decomposed if not unicodedata.combining(c))

    return strip(strip(text).casefold())


def test_every_combining_mark_is_in_one_of_the_two_classes() -> None:
    """The fast path may skip the per-character look only where no mark can be."""
    missing = [
        hex(code)
        for code in range(0x300, 0x110000)
        if unicodedata.combining(chr(code))
        and not folding._COMMON_MARKS.match(chr(code))
        and not folding._OTHER_MARKS.match(chr(code))
    ]
    assert missing == []


def test_fold_agrees_with_its_definition_on_every_script() -> None:
    rng = random.Random(6)
    samples = [
        "Disponibilità taglia XL?",
        "CITTÀ d’Italia — 20 €",
        "Straße İstanbul ﬁne",
        "שָׁלוֹם",  # Hebrew points
        "مَرْحَبًا",  # Arabic harakat
        "नमस्ते",  # Devanagari
        "が ぱ",  # kana with voiced marks
        "Ёлка",
    ]
    pool = [chr(c) for c in range(0x20, 0x3000) if unicodedata.category(chr(c))[0] != "C"]
    samples += ["".join(rng.choice(pool) for _ in range(30)) for _ in range(300)]
    for text in samples:
        assert fold(text) == slow_fold(text), text
