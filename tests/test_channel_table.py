"""The channel rows: in-place updates, cursor kept, widths, states, sparkline."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from tui.core.board import Board, ChannelRow
from tui.core.metrics import ChannelMetrics
from tui.core.records import ChannelRecord, Health
from tui.core.settings import Channel, Dashboard, GapThreshold
from tui.widgets.cells import gap_bar, gap_level, sparkline
from tui.widgets.channel_table import ChannelTable, describe_channel

NOW = 1_790_000_000.0
THRESHOLDS = Dashboard()  # warn: any gap above 0; critical: above 100% of expectation


def channel(cid: str, label: str | None = None, expect_s: float = 3600) -> Channel:
    return Channel(
        id=cid,
        label=label or cid.capitalize(),
        adapter="demo",
        expectation=timedelta(seconds=expect_s),
        hours=None,
        poll_interval=timedelta(seconds=30),
        timeout=timedelta(seconds=10),
    )


def record(
    cid: str,
    health: Health = Health.OK,
    error: str | None = None,
    on_hold: int | None = None,
    last_ok_at: float | None = NOW - 30,
    failing_since: float | None = None,
) -> ChannelRecord:
    return ChannelRecord(
        id=cid,
        label=cid.capitalize(),
        adapter="demo",
        kind="email",
        health=health,
        last_error=error,
        failing_since=failing_since,
        last_poll_at=NOW - 10,
        last_ok_at=last_ok_at,
        on_hold=on_hold,
        longest_hold_s=None,
    )


def row(
    cid: str,
    waiting: int = 2,
    oldest: float | None = 1800,
    expect_s: float = 3600,
    gap: float | None = None,
    p50: float | None = 600,
    p90: float | None = 1200,
    trend: tuple[int | None, ...] | None = None,
    **rec: Any,
) -> ChannelRow:
    if gap is None and waiting and oldest is not None:
        gap = oldest - expect_s
    metrics = ChannelMetrics(waiting, oldest, expect_s, gap, p50, p90)
    return ChannelRow(channel(cid, expect_s=expect_s), record(cid, **rec), metrics, trend)


def board(*rows: ChannelRow) -> Board:
    return Board(now=NOW, channels=tuple(rows), queue=(), waits=())


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[str] = []
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield ChannelTable(id="channels")

    def on_channel_table_channel_highlighted(self, m: ChannelTable.ChannelHighlighted) -> None:
        self.highlighted.append(m.channel_id)

    def on_channel_table_channel_selected(self, m: ChannelTable.ChannelSelected) -> None:
        self.selected.append(m.channel_id)


def row_keys(table: ChannelTable) -> list[str]:
    return [str(r.key.value) for r in table.ordered_rows]


async def test_rows_appear_with_their_figures() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(
            board(
                row("email", waiting=12, oldest=5 * 3600 + 600, expect_s=4 * 3600, p50=7500),
                row("chat", waiting=3, oldest=120, expect_s=300, p50=100),
            ),
            THRESHOLDS,
        )
        await pilot.pause()
        assert row_keys(table) == ["email", "chat"]
        assert table.column_keys == [
            "channel",
            "waiting",
            "oldest",
            "expect",
            "gap",
            "frt_p50",
            "state",
        ]
        assert table.cell_text("email", "channel").strip() == "Email"
        assert table.cell_text("email", "waiting") == "12"
        assert table.cell_text("email", "oldest") == "5h10m"
        assert table.cell_text("email", "expect") == "4h"
        assert table.cell_text("email", "gap").startswith("+1h10m")
        assert table.cell_text("email", "frt_p50") == "2h05m"
        assert table.cell_text("email", "state") == "✓ ok"
        assert table.cell_text("chat", "gap") == "ok"
        # Numbers are right-aligned.
        assert table.get_cell("email", "waiting").justify == "right"


async def test_update_touches_only_changed_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(board(row("email"), row("chat")), THRESHOLDS)
        await pilot.pause()
        calls: list[tuple[str, str]] = []
        original = table.update_cell

        def spy(row_key: Any, column_key: Any, value: Text, **kw: Any) -> None:
            calls.append((str(row_key), str(column_key)))
            original(row_key, column_key, value, **kw)

        table.update_cell = spy  # type: ignore[method-assign]
        table.update_board(board(row("email", waiting=5), row("chat")), THRESHOLDS)
        await pilot.pause()
        assert calls == [("email", "waiting")]
        assert table.cell_text("email", "waiting") == "5"
        # The same board again: nothing to do.
        calls.clear()
        table.update_board(board(row("email", waiting=5), row("chat")), THRESHOLDS)
        assert calls == []


async def test_cursor_stays_on_its_channel_when_one_is_inserted_above() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.focus()
        table.update_board(board(row("email"), row("chat"), row("phone")), THRESHOLDS)
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        assert table.selected_channel_id == "chat"
        app.highlighted.clear()
        table.update_board(
            board(row("telegram"), row("email"), row("chat"), row("phone")), THRESHOLDS
        )
        await pilot.pause()
        assert row_keys(table) == ["telegram", "email", "chat", "phone"]
        assert table.selected_channel_id == "chat"
        assert table.cursor_row == 2
        assert app.highlighted == []  # still the same channel: nothing to announce
        # A channel removed above: still on chat.
        table.update_board(board(row("email"), row("chat"), row("phone")), THRESHOLDS)
        await pilot.pause()
        assert row_keys(table) == ["email", "chat", "phone"]
        assert table.selected_channel_id == "chat"


async def test_highlight_and_select_messages() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.focus()
        table.update_board(board(row("email"), row("chat")), THRESHOLDS)
        await pilot.pause()
        await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert app.highlighted == ["email", "chat"]
        assert app.selected == ["chat"]
        # Leaving and coming back announces the channel again (for the preview).
        table.blur()
        await pilot.pause()
        table.focus()
        await pilot.pause()
        assert app.highlighted == ["email", "chat", "chat"]


async def test_degraded_channel_shows_its_error() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(
            board(
                row("email"),
                row("chat", health=Health.DEGRADED, error="timed out after 10s"),
                row("phone", health=Health.DOWN, error="authentication failed"),
                row("tg", health=Health.UNKNOWN, last_ok_at=None),
            ),
            THRESHOLDS,
        )
        await pilot.pause()
        assert table.cell_text("chat", "state") == "⚠ degraded: timed out after 10s"
        assert table.cell_text("phone", "state") == "✗ down: authentication failed"
        assert table.cell_text("tg", "state") == "… waiting for first poll"
        assert table.cell_text("tg", "waiting") == "…"  # not known yet, not 0


async def test_degraded_error_fits_at_80_columns() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        error = "connection refused by imap.example.com:993 " * 5
        table.update_board(
            board(row("email", health=Health.DEGRADED, error=error), row("chat")),
            THRESHOLDS,
        )
        await pilot.pause()
        state = table.cell_text("email", "state")
        assert state.startswith("⚠ connection")
        assert state.endswith("…")
        # The whole table fits the screen: the state is not cut off at the edge.
        widths = sum(c.get_render_width(table) for c in table.columns.values())
        assert widths <= 80


async def test_table_fits_beside_its_scrollbar() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 8)) as pilot:
        table = app.query_one(ChannelTable)
        rows = [row(f"c{i}", health=Health.DOWN, error="e" * 80) for i in range(12)]
        table.update_board(board(*rows[:7]), THRESHOLDS)  # fills the 8 lines exactly
        await pilot.pause()
        assert not table.show_vertical_scrollbar
        table.update_board(board(*rows), THRESHOLDS)  # same height, now a scrollbar
        await pilot.pause()
        await pilot.pause()
        assert table.show_vertical_scrollbar
        widths = sum(c.get_render_width(table) for c in table.columns.values())
        assert widths <= table.scrollable_content_region.width == 78


async def test_error_text_is_inert() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(
            board(row("email", health=Health.DOWN, error="\x1b[2Jbad [b]x[/b]\x07")),
            THRESHOLDS,
        )
        await pilot.pause()
        state = table.cell_text("email", "state")
        assert "\x1b" not in state and "\x07" not in state
        assert "[b]x[/b]" in state


async def test_wide_columns_only_when_wide() -> None:
    rows = (row("email", trend=(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14)), row("chat"))
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(board(*rows), THRESHOLDS)
        await pilot.pause()
        assert "trend" not in table.column_keys
        assert "frt_p90" not in table.column_keys
    app = TableApp()
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(board(*rows), THRESHOLDS)
        await pilot.pause()
        assert table.column_keys[-3:] == ["frt_p90", "trend", "state"]
        assert table.cell_text("email", "trend") == "▂▃▄▅▅▆█"
        assert table.cell_text("chat", "trend") == "—"  # no history: no invented line
        assert table.cell_text("email", "frt_p90") == "20m"


async def test_resizing_adds_and_removes_wide_columns_in_place() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.focus()
        table.update_board(board(row("email"), row("chat")), THRESHOLDS)
        await pilot.pause()
        await pilot.press("down")
        await pilot.resize_terminal(120, 24)
        await pilot.pause()
        assert "trend" in table.column_keys
        assert table.cell_text("chat", "trend") == "—"
        assert table.cell_text("chat", "state") == "✓ ok"
        assert table.selected_channel_id == "chat"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "trend" not in table.column_keys
        assert table.selected_channel_id == "chat"


async def test_phone_oldest_is_a_hold() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(
            board(row("phone", waiting=2, oldest=240, expect_s=120, on_hold=2)), THRESHOLDS
        )
        await pilot.pause()
        assert table.cell_text("phone", "oldest") == "4m hold"
        assert table.cell_text("phone", "gap").startswith("+2m")


async def test_gap_levels_readable_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    thresholds = Dashboard(
        gap_warn=GapThreshold(seconds=600), gap_critical=GapThreshold(fraction=1.0)
    )
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        table = app.query_one(ChannelTable)
        table.update_board(
            board(
                row("small", oldest=3600 + 300),  # +5m: behind, under warn
                row("warn", oldest=3600 + 1800),  # +30m: warn
                row("crit", oldest=3600 * 10),  # +9h: critical
                row("none", waiting=0, oldest=0.0),
            ),
            thresholds,
        )
        await pilot.pause()
        assert "!" not in table.cell_text("small", "gap")
        assert table.cell_text("warn", "gap").endswith(" !")
        assert table.cell_text("crit", "gap").endswith(" !!")
        assert table.cell_text("none", "gap") == "ok"
        assert table.cell_text("crit", "gap") == "+9h    ████ !!"


def test_gap_helpers() -> None:
    assert gap_bar(None, 60) == "" and gap_bar(-5, 60) == ""
    assert gap_bar(10, 60) == "█"
    assert gap_bar(40, 60) == "██"
    assert gap_bar(100, 60) == "███"
    assert gap_bar(600, 60) == "████"
    assert gap_level(None, 60, THRESHOLDS).value == "ok"
    assert gap_level(30, 60, THRESHOLDS).value == "warn"
    assert gap_level(61, 60, THRESHOLDS).value == "critical"
    assert sparkline(None) == "—"
    assert sparkline((None,) * 14) == "—"
    assert sparkline((0,) * 14) == "▁" * 7
    assert sparkline((None, None, 4, 2) + (None,) * 10) == " █     "
    assert sparkline((0, 0, 1, 0, 0, 0, 8, 8, 0, 0, 0, 0, 0, 0)) == "▁▂▁█▁▁▁"


def test_describe_channel_gives_the_whole_story() -> None:
    error = "login failed: " + "x" * 500
    r = row(
        "email",
        health=Health.DOWN,
        error=error,
        failing_since=NOW - 7200,
        last_ok_at=NOW - 9000,
    )
    text = describe_channel(r, now=NOW).plain
    assert "Email" in text and "demo" in text
    assert "✗ down" in text
    assert error in text  # in full
    assert "Failing since:" in text and "(2h ago)" in text
    assert "Last successful poll:" in text and "(2h30m ago)" in text
    never = replace(r, record=None)
    assert "never" in describe_channel(never).plain
