"""Customer text made inert: no escape sequences, controls, bidi tricks; bounded."""

from __future__ import annotations

import time

import pytest

from sportello.core.inert import ELLIPSIS, inert, inert_block

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

HOSTILE = {
    "csi colour": "\x1b[31mred\x1b[0m text",
    "csi clear screen": "before\x1b[2J\x1b[Hafter",
    "csi private": "a\x1b[?1049hb\x1b[?25lc",
    "osc title bel": "\x1b]0;pwned title\x07visible",
    "osc title st": "\x1b]2;pwned\x1b\\visible",
    "osc 52 clipboard": "copy \x1b]52;c;cm0gLXJmIH4=\x07me",
    "osc 8 hyperlink": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "dcs": "\x1bP1$qm\x1b\\ok",
    "apc": "\x1b_Gf=100;AAAA\x1b\\ok",
    "pm and sos": "\x1b^private\x1b\\\x1bXsos\x1b\\ok",
    "two-char escapes": "\x1b7\x1bc\x1b(B\x1bMok",
    "c1 csi": "x\x9b31my",
    "c1 osc": "x\x9d0;title\x07y",
    "c1 osc st": "x\x9d0;title\x9cy",
    "c1 lone": "x\x85\x90\x9b\x9c\x9d\x9fy",
    "c0 and del": "a\x00b\x07c\x08d\x7fe\x1bf",
    "bidi": f"invoice{BIDI}fdp.exe",
    "unterminated osc": "safe \x1b]0;swallow everything",
    "bare esc at end": "end\x1b",
}


def _assert_inert(out: str) -> None:
    assert "\x1b" not in out
    assert not any(0x80 <= ord(c) <= 0x9F for c in out)
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in out)
    assert not set(out) & set(BIDI)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in out)
    out.encode("utf-8")  # a terminal's encoder must not raise


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_samples_become_inert(name: str) -> None:
    out = inert(HOSTILE[name])
    _assert_inert(out)
    block = inert_block(HOSTILE[name])
    _assert_inert(block.replace("\n", ""))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("before\x1b[2J\x1b[Hafter", "beforeafter"),
        ("\x1b]0;pwned title\x07visible", "visible"),
        ("copy \x1b]52;c;cm0gLXJmIH4=\x07me", "copy me"),
        ("x\x9b31my", "xy"),
        ("x\x9d0;title\x07y", "xy"),
        ("x\x9d0;title\x9cy", "xy"),
        ("\x1b7\x1bc\x1b(B\x1bMok", "ok"),
        ("safe \x1b]0;swallow everything", "safe"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ],
)
def test_sequences_are_removed_whole(raw: str, expected: str) -> None:
    assert inert(raw) == expected


def test_markup_is_kept_literally() -> None:
    assert inert("[@click=app.quit]x[/]") == "[@click=app.quit]x[/]"
    assert inert("[b]bold[/b] and [red]red[/]") == "[b]bold[/b] and [red]red[/]"
    assert inert_block("[b]bold[/b]\n[@click=app.quit]x[/]") == "[b]bold[/b]\n[@click=app.quit]x[/]"


def test_one_line_white_space() -> None:
    assert inert("  Ordine\n\nnon\tarrivato\r\n  ") == "Ordine non arrivato"
    assert inert("a\u2028b\u2029c\x85d\x0be\x0cf") == "a b c d e f"
    assert inert("a\u00a0\u00a0b") == "a b"


def test_spaces_collapse_even_in_printable_text() -> None:
    assert inert("Ordine  non   arrivato") == "Ordine non arrivato"
    assert inert(" Ordine ") == "Ordine"


def test_clean_text_is_returned_as_is() -> None:
    text = "Ordine non arrivato — è già il terzo giorno"
    assert inert(text) is text


def test_zero_width_joiner_and_emoji_kept() -> None:
    family = "👩\u200d👩\u200d👧 ok"
    assert inert(family) == family


def test_zalgo_stacks_are_cut() -> None:
    out = inert("e" + "\u0301" * 50 + "x")
    assert out == "e\u0301\u0301\u0301x"


def test_surrogates_replaced() -> None:
    out = inert("bad\ud800half\udfff")
    assert out == "bad\ufffdhalf\ufffd"
    out.encode("utf-8")


@pytest.mark.parametrize("limit", [1, 2, 10, 200])
def test_length_is_bounded(limit: int) -> None:
    out = inert("x" * 1000, limit)
    assert len(out) == limit
    assert out.endswith(ELLIPSIS)
    assert inert("short", limit=10) == "short"
    assert inert("anything", limit=0) == ""


def test_truncation_drops_trailing_space_before_ellipsis() -> None:
    assert inert("abcd efgh", limit=6) == "abcd…"


def test_megabyte_subject_is_cheap_and_bounded() -> None:
    huge = "Ordine " + "\x1b[31mX" * 150_000 + "y" * 100_000
    assert len(huge) > 1_000_000
    start = time.perf_counter()
    out = inert(huge)
    block = inert_block(huge)
    elapsed = time.perf_counter() - start
    assert len(out) <= 200 and out.endswith(ELLIPSIS)
    assert len(block) <= 4000 and block.endswith(ELLIPSIS)
    _assert_inert(out)
    assert elapsed < 0.05


def test_window_cut_is_marked_even_when_little_is_left() -> None:
    out = inert("\x1b[0m" * 10_000 + "tail", limit=20)
    assert out == ELLIPSIS  # everything read was escape codes; the rest is not shown


@pytest.mark.parametrize("raw", ["\x9d" * 20_000, "\x9da" * 10_000, "\x1b]" * 10_000])
def test_many_unterminated_introducers_stay_fast(raw: str) -> None:
    start = time.perf_counter()
    inert_block(raw, limit=4000)
    assert time.perf_counter() - start < 0.2


def test_block_keeps_lines_and_collapses_blank_runs() -> None:
    raw = (
        "Buongiorno,\r\n\r\n\r\n\r\n  l'ordine\t123\x1b[2J non è arrivato.   \n\nGrazie\u2028Maria"
    )
    assert inert_block(raw) == ("Buongiorno,\n\n  l'ordine    123 non è arrivato.\n\nGrazie\nMaria")


def test_block_is_bounded() -> None:
    out = inert_block("riga\n" * 5000, limit=100)
    assert len(out) <= 100
    assert out.endswith(ELLIPSIS)
