"""Glyphs: Unicode where the terminal shows it, ASCII under ``LANG=C`` and friends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from sportello.core.glyphs import ASCII, UNICODE, Glyphs, glyphs, set_glyphs, unicode_ok
from sportello.widgets.channel_table import ChannelTable
from sportello.widgets.key_bar import KeyBar
from tests.dashboard_fixtures import dashboard, demo_app, until_loaded


@pytest.fixture(autouse=True)
def decide_again() -> Iterator[None]:
    yield
    set_glyphs(None)


@pytest.mark.parametrize(
    ("environ", "utf8_mode", "expected"),
    [
        ({"LANG": "C.UTF-8"}, False, True),
        ({"LANG": "it_IT.UTF-8"}, False, True),
        ({"LANG": "en_US.utf8"}, False, True),
        ({"LC_ALL": "C", "LANG": "it_IT.UTF-8"}, False, False),
        ({"LC_CTYPE": "it_IT.UTF-8", "LANG": "C"}, False, True),
        ({"LANG": "it_IT.ISO-8859-1"}, False, False),
        ({"LANG": "it_IT"}, False, False),  # no codeset: the legacy one
        ({"LANG": "POSIX"}, False, False),
        ({}, False, False),  # no locale at all is the C locale
        # Python under LANG=C sets LC_CTYPE=C.UTF-8 and UTF-8 mode itself (PEP 538/540):
        ({"LANG": "C", "LC_CTYPE": "C.UTF-8"}, True, False),
        ({"LC_CTYPE": "C.UTF-8"}, True, False),
        # … and under a UTF-8 locale the server lacks: the terminal is still UTF-8.
        ({"LANG": "en_GB.UTF-8", "LC_CTYPE": "C.UTF-8"}, True, True),
    ],
)
def test_the_locale_decides(environ: dict[str, str], utf8_mode: bool, expected: bool) -> None:
    assert unicode_ok(environ, "utf-8", utf8_mode) is expected


@pytest.mark.parametrize("encoding", ["ascii", "ANSI_X3.4-1968", "latin-1", "cp1252"])
def test_an_output_encoding_that_cannot_encode_them(encoding: str) -> None:
    assert not unicode_ok({"LANG": "C.UTF-8"}, encoding, False)


@pytest.mark.parametrize(
    ("lang", "expected"), [("C", "ascii"), ("C.UTF-8", "unicode"), ("POSIX", "ascii")]
)
def test_a_real_process_under_a_locale(lang: str, expected: str) -> None:
    # The trap: under LANG=C Python's own stdout says utf-8.
    code = (
        "from sportello.core.glyphs import unicode_ok; "
        "print('unicode' if unicode_ok() else 'ascii')"
    )
    env = {"PATH": os.environ.get("PATH", ""), "LANG": lang}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip() == expected


def test_decided_once_and_forced() -> None:
    set_glyphs(None)
    first = glyphs()
    assert glyphs() is first
    set_glyphs(ASCII)
    assert glyphs() is ASCII


def test_every_ascii_glyph_is_ascii_and_every_unicode_one_is_given() -> None:
    for field in fields(Glyphs):
        ascii_value, unicode_value = getattr(ASCII, field.name), getattr(UNICODE, field.name)
        if isinstance(ascii_value, str):
            assert ascii_value.isascii(), field.name
            assert unicode_value, field.name
    assert len(ASCII.spark) == len(UNICODE.spark)
    assert ASCII.mark(ASCII.ok, "ok") == "ok"  # the word says it: not "ok ok"
    assert UNICODE.mark(UNICODE.ok, "ok") == "✓ ok"
    assert ASCII.key("⏎") == "enter" and ASCII.key("↓") == "down" and UNICODE.key("⏎") == "⏎"


def test_dashboard_key_bar_and_channel_rows_in_ascii(tmp_path: Path) -> None:
    set_glyphs(ASCII)

    async def run() -> tuple[str, list[str]]:
        app = demo_app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await until_loaded(pilot)
            screen = dashboard(pilot)
            keys = screen.query_one(KeyBar).render().plain
            table = screen.query_one("#channels", ChannelTable)
            rows = [table.render_line(y).text for y in range(table.size.height)]
            return keys, rows

    keys, rows = asyncio.run(run())
    assert "enter open" in keys
    for line in [keys, *rows]:
        assert all(ord(char) < 128 for char in line), line
    assert any("ok" in row for row in rows)
