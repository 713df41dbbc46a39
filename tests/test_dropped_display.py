"""What the sense checks dropped shows with the channel's state: the dashboard's
state cell and detail, and ``--once`` (table and JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from sportello.core.board import Board, ChannelRow
from sportello.core.glyphs import UNICODE, set_glyphs
from sportello.core.metrics import ChannelMetrics
from sportello.core.records import ChannelRecord, DropReport, Health
from sportello.core.report import as_json, table
from sportello.core.settings import Channel
from sportello.widgets.channel_table import _state_plain, describe_channel

NOW = 1_790_000_000.0
FAR = "conversation 'a': waiting since 9999-01-01, in the future (clock skew or a time-zone bug?)"
TWICE = "conversation 'd': its id appears twice in this fetch (kept the waiting one)"
REPORT = DropReport(2, (FAR, TWICE), 0)


@pytest.fixture(autouse=True)
def unicode_glyphs() -> Iterator[None]:
    set_glyphs(UNICODE)
    yield
    set_glyphs(None)


def row(
    dropped: DropReport | None = REPORT, health: Health = Health.OK, error: str | None = None
) -> ChannelRow:
    channel = Channel(
        id="chat",
        label="Chat",
        adapter="demo",
        expectation=timedelta(minutes=5),
        hours=None,
        poll_interval=timedelta(seconds=30),
        timeout=timedelta(seconds=10),
    )
    record = ChannelRecord(
        "chat", "Chat", "demo", "chat", health, error, None, NOW - 5, NOW - 5, None, None, dropped
    )
    return ChannelRow(channel, record, ChannelMetrics(1, 60.0, 300.0, -240.0, None, None))


def board(*rows: ChannelRow) -> Board:
    return Board(now=NOW, channels=rows, queue=(), waits=())


def test_the_state_cell_says_how_many_were_dropped() -> None:
    assert _state_plain(row(), 40, NOW) == "✓ ok · 2 dropped"
    assert _state_plain(row(), 12, NOW) == "✓ 2 dropped"  # narrow: the count over "ok"
    assert _state_plain(row(None), 40, NOW) == "✓ ok"
    fixed_only = DropReport(0, ("conversation 'e': customer name is an int",), 3)
    assert _state_plain(row(fixed_only), 40, NOW) == "✓ ok · 3 fixed"
    both = DropReport(1, (FAR,), 2)
    assert _state_plain(row(both), 40, NOW) == "✓ ok · 1 dropped, 2 fixed"


def test_a_failing_channel_shows_its_error_not_the_drops() -> None:
    failing = row(health=Health.DEGRADED, error="timed out")
    assert _state_plain(failing, 40, NOW) == "⚠ degraded: timed out"


def test_the_detail_gives_the_reasons_inert() -> None:
    hostile = DropReport(1, ("conversation 'x': \x1b[2Jwaiting since 9999-01-01",), 0)
    text = describe_channel(row(hostile), now=NOW).plain
    assert "The last good poll dropped 1 conversation (not stored" in text
    assert "waiting since 9999-01-01" in text and "\x1b" not in text
    full = describe_channel(row(), now=NOW).plain
    assert FAR in full and TWICE in full
    many = DropReport(7, (FAR, TWICE), 1)
    assert "and 6 more" in describe_channel(row(many), now=NOW).plain
    assert "dropped" not in describe_channel(row(None), now=NOW).plain


def test_once_says_it_in_the_table() -> None:
    (line,) = table(board(row())).splitlines()[1:]
    assert line.endswith(f"ok · 2 dropped: {FAR} (and 1 more)")
    (clean,) = table(board(row(None))).splitlines()[1:]
    assert clean.endswith("ok")


def test_once_says_it_in_the_json() -> None:
    (item,) = json.loads(as_json(board(row())))
    assert item["dropped"] == {"count": 2, "fixed": 0, "reasons": [FAR, TWICE]}
    (none,) = json.loads(as_json(board(row(None))))
    assert none["dropped"] is None


def test_a_report_survives_the_store_and_garbage_does_not_pass_as_one() -> None:
    assert DropReport.from_json(REPORT.to_json()) == REPORT
    for text in (None, "", "not json", "[1, 2]", '{"count": "2"}', '{"count": 1, "reasons": 3}'):
        assert DropReport.from_json(text) is None
    assert replace(REPORT, fixed=4).to_json().startswith('{"count":2,')
