"""The board's channel rows: a channel closed now says when it opens."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sportello.core.board import compute_board, opens_label
from sportello.core.config import load_config
from sportello.core.records import ChannelRecord, Health
from sportello.core.report import table

ROOT = Path(__file__).resolve().parent.parent
ROME = ZoneInfo("Europe/Rome")


def board_at(when: datetime):  # type: ignore[no-untyped-def]
    config = load_config(ROOT / "config.yaml")
    return compute_board(config, [], [], [], when.timestamp())


def labels(when: datetime) -> dict[str, str | None]:
    board = board_at(when)
    return {row.channel.id: opens_label(row, board.now) for row in board.channels}


def test_open_hours_give_no_label() -> None:
    assert set(labels(datetime(2026, 11, 24, 11, 0, tzinfo=ROME)).values()) == {None}


def test_at_night_business_channels_open_in_the_morning() -> None:
    got = labels(datetime(2026, 11, 24, 2, 30, tzinfo=ROME))  # a Tuesday
    assert got["email"] == "09:00"
    assert got["facebook"] is None  # 24/7 in the shipped config


def test_on_saturday_evening_they_open_on_monday() -> None:
    got = labels(datetime(2026, 11, 28, 20, 0, tzinfo=ROME))  # Saturday, closed Sunday
    assert got["email"] == "Mon 09:00"


def test_between_the_two_spans_of_a_day() -> None:
    got = labels(datetime(2026, 11, 24, 14, 0, tzinfo=ROME))
    assert got["chat"] == "15:30"


def test_the_once_table_says_closed() -> None:
    text = table(board_at(datetime(2026, 11, 24, 2, 30, tzinfo=ROME)))
    email = next(line for line in text.splitlines() if line.startswith("Email"))
    assert email.endswith("(closed, opens 09:00)")


def test_the_dashboard_state_cell_fits_what_it_can() -> None:
    from sportello.widgets.channel_table import _state_plain

    board = board_at(datetime(2026, 11, 24, 2, 30, tzinfo=ROME))
    record = ChannelRecord("email", "Email", "demo", "email", Health.OK, *[None] * 6)
    email = replace(board.channels[0], record=record)
    assert _state_plain(email, 40, board.now).endswith("ok · opens 09:00")
    assert _state_plain(email, 14, board.now).endswith("opens 09:00")
    assert _state_plain(email, 9, board.now).endswith("closed")
    assert "opens" not in _state_plain(email, 40, None)
