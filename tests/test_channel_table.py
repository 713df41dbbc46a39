"""The channel rows: in-place updates, cursor kept, widths, states, sparkline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from sportello.core.board import Board, ChannelRow
from sportello.core.glyphs import ASCII, UNICODE, set_glyphs
from sportello.core.metrics import ChannelMetrics
from sportello.core.records import ChannelRecord, Health
from sportello.core.report import OFF_HOURS, gap_text
from sportello.core.settings import Channel, Dashboard, GapThreshold, OpenHours
from sportello.widgets.cells import gap_bar, gap_level, sparkline
from sportello.widgets.channel_table import ChannelTable, describe_channel
from sportello_sdk.options import format_duration as dur
from tests.terminal_render import colour_number, line_with, style_of, terminal_lines

NOW = 1_790_000_000.0
THRESHOLDS = Dashboard()  # warn: any gap above 0; critical: above 100% of expectation
ROME = ZoneInfo("Europe/Rome")
SHOP_HOURS = OpenHours(
    weekly=(*(((time(9), time(19)),),) * 6, ()), timezone=ROME, holidays=frozenset()
)


@pytest.fixture(autouse=True)
def unicode_glyphs() -> Iterator[None]:
    """The tests read ``✓ ok``: Unicode glyphs, whatever the locale running them."""
    set_glyphs(UNICODE)
    yield
    set_glyphs(None)


@pytest.fixture
def truecolour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORTERM", "truecolor")


def channel(
    cid: str, label: str | None = None, expect_s: float = 3600, hours: OpenHours | None = None
) -> Channel:
    return Channel(
        id=cid,
        label=label or cid.capitalize(),
        adapter="demo",
        expectation=timedelta(seconds=expect_s),
        hours=hours,
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
    p50_real: float | None = None,
    opens_at: float | None = None,
    hours: OpenHours | None = None,
    **rec: Any,
) -> ChannelRow:
    if gap is None and waiting and oldest is not None:
        gap = oldest - expect_s
    metrics = ChannelMetrics(waiting, oldest, expect_s, gap, p50, p90, p50_real)
    return ChannelRow(
        channel(cid, expect_s=expect_s, hours=hours), record(cid, **rec), metrics, trend, opens_at
    )


def board(*rows: ChannelRow) -> Board:
    return Board(now=NOW, channels=tuple(rows), queue=(), waits=())


class TableApp(App[None]):
    AUTO_FOCUS = None  # as on the dashboard, where the queue has the focus

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
        assert table.cell_text("email", "oldest") == dur(5 * 3600 + 600)
        assert table.cell_text("email", "expect") == dur(4 * 3600)
        assert table.cell_text("email", "gap").startswith(gap_text(4200) + " ")
        assert table.cell_text("email", "frt_p50") == dur(7500)
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
        assert widths <= table.scrollable_content_region.width == 79  # a 1-cell scrollbar


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
        assert table.cell_text("email", "frt_p90") == dur(1200)


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
        assert table.cell_text("phone", "oldest") == dur(240) + " hold"
        assert table.cell_text("phone", "gap").startswith(gap_text(120) + " ")


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
        assert table.cell_text("crit", "gap") == f"{gap_text(9 * 3600):<7} ████ !!"


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
    assert "Failing since:" in text and f"({dur(7200)} ago)" in text
    assert "Last successful poll:" in text and f"({dur(9000)} ago)" in text
    never = replace(r, record=None)
    assert "never" in describe_channel(never).plain


# -- issue 6: figures never cut, severity in every colour mode, ASCII, closed hours ------

H = 3600.0
D = 86400.0


def widest_board() -> Board:
    """The widest figures a board holds: 4-digit queues, days-long waits and gaps."""
    return board(
        row("big", waiting=1234, oldest=12 * D + 3 * H, expect_s=36 * H, p50=12 * D, p90=20 * D),
        row("late", waiting=56, oldest=24 * H + 18 * 60, expect_s=H, p50=H + 8 * 60, p90=9 * H),
        row("calm", waiting=0, oldest=0.0),
    )


def figures_of(r: ChannelRow) -> dict[str, str]:
    m = r.metrics
    figures = {
        "waiting": str(m.waiting),
        "expect": dur(m.expect_s),
        "frt_p50": dur(m.frt_p50_s),
        "frt_p90": dur(m.frt_p90_s),
    }
    if m.waiting:
        figures.update(oldest=dur(m.oldest_wait_s), gap=gap_text(m.gap_s))
    return figures


async def test_no_figure_is_ever_cut_at_any_width() -> None:
    # At 60 columns FRT "1h08m" was cut to "1h": a figure that looks real but is wrong.
    shown_board = widest_board()
    app = TableApp()
    async with app.run_test(size=(200, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(shown_board, THRESHOLDS)
        dropped_at: dict[str, int] = {}
        for width in range(200, 39, -1):
            await pilot.resize_terminal(width, 24)
            await pilot.pause()
            lines = [table.render_line(y).text for y in range(1, 1 + len(shown_board.channels))]
            keys = table.column_keys
            assert {"channel", "gap", "state"} <= set(keys), width
            for r, line in zip(shown_board.channels, lines, strict=True):
                assert len(line) <= width
                for key, figure in figures_of(r).items():
                    if key not in keys:
                        dropped_at.setdefault(key, width)
                        continue
                    cell = table.cell_text(r.channel.id, key)
                    assert figure in cell, (width, key, cell)
                    assert figure in line, (width, key, line)  # whole on screen, not cut
        # Whole columns go, FRT p50 first, then EXPECT, OLDEST, WAITING.
        assert dropped_at["frt_p50"] > dropped_at["expect"] > dropped_at["oldest"]
        assert dropped_at["oldest"] > dropped_at.get("waiting", 0)
        assert dropped_at["frt_p50"] < 80  # 80 columns show every narrow column


async def test_gap_figure_keeps_a_space_before_its_bar() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(widest_board(), THRESHOLDS)
        await pilot.pause()
        gap = table.cell_text("late", "gap")
        figure = gap_text(23 * H + 18 * 60)
        assert gap.startswith(figure + " ")  # was "+23h18m████"
        assert gap.split() == [figure, "████", "!!"]


async def test_worst_channel_stays_in_view_when_rows_do_not_fit() -> None:
    class Short(TableApp):
        CSS = "ChannelTable { max-height: 4; }"  # the header and 3 of 6 channels

    rows = [row(f"c{i}", oldest=600) for i in range(6)]
    rows[4] = row("c4", oldest=9 * H)  # critical: the worst, out of view at first
    app = Short()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(board(*rows), THRESHOLDS)
        await pilot.pause()
        visible = [table.render_line(y).text for y in range(1, table.size.height)]
        assert any("C4" in line for line in visible), visible
        assert table.selected_channel_id == "c0"  # the cursor did not move
        # A channel going down is worse than any gap: it comes into view instead.
        rows[1] = row("c1", health=Health.DOWN, error="auth failed")
        table.update_board(board(*rows), THRESHOLDS)
        await pilot.pause()
        visible = [table.render_line(y).text for y in range(1, table.size.height)]
        assert any("C1" in line for line in visible), visible
        # With the focus the cursor decides what shows.
        table.focus()
        await pilot.pause()
        visible = [table.render_line(y).text for y in range(1, table.size.height)]
        assert any("C0" in line for line in visible), visible


async def test_cursor_shows_only_with_the_focus() -> None:
    # An unfocused cursor row painted over its channel's colours.
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(board(row("email", oldest=9 * H), row("chat")), THRESHOLDS)
        await pilot.pause()
        assert not table.show_cursor
        table.focus()
        await pilot.pause()
        assert table.show_cursor and table.selected_channel_id == "email"


def severity_board() -> Board:
    return board(
        row("calm", oldest=600),  # the first row: where a cursor would be
        row("crit", oldest=10 * H),  # +9h: critical
        row("warn", oldest=H + 1800),  # +30m: warn
        row("down", health=Health.DOWN, error="refused"),
    )


async def table_lines(monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None]) -> list[Text]:
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(severity_board(), THRESHOLDS)
        await pilot.pause()
        system = app.console.color_system
        return terminal_lines(app, system if env.get("NO_COLOR") is None else "truecolor")


SIXTEEN = {"TERM": "xterm", "COLORTERM": None, "NO_COLOR": None}
TWO_FIFTY_SIX = {"TERM": "xterm-256color", "COLORTERM": None, "NO_COLOR": None}


async def test_critical_reads_loudest_with_16_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    # TERM=xterm: the theme's error pink was mapped to grey (7), dimmer than text
    # (15), while warnings were bright yellow.
    lines = await table_lines(monkeypatch, SIXTEEN)
    crit = style_of(line_with(lines, "Crit"), gap_text(9 * H))
    down = style_of(line_with(lines, "Down"), "✗")
    warn = style_of(line_with(lines, "Warn"), gap_text(1800))
    for loud in (crit, down):
        assert colour_number(loud) in (1, 9), loud  # red
        assert loud.bold and not loud.dim
    assert colour_number(warn) in (3, 11), warn  # yellow
    assert not warn.bold  # quieter than critical


def _rgb(number: int | None) -> tuple[int, int, int]:
    from rich._palettes import EIGHT_BIT_PALETTE

    assert number is not None
    red, green, blue = EIGHT_BIT_PALETTE[number]
    return red, green, blue


async def test_critical_reads_loudest_with_256_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = await table_lines(monkeypatch, TWO_FIFTY_SIX)
    crit = style_of(line_with(lines, "Crit"), gap_text(9 * H))
    down = style_of(line_with(lines, "Down"), "✗")
    warn = style_of(line_with(lines, "Warn"), gap_text(1800))
    for loud in (crit, down):
        red, green, blue = _rgb(colour_number(loud))
        assert red > green + 40 and red > blue + 20, loud  # a red, not a grey
        assert loud.bold and not loud.dim
    red, green, blue = _rgb(colour_number(warn))
    assert red > blue + 60 and green > blue + 40, warn  # a yellow
    assert crit.color != warn.color


async def test_levels_read_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = await table_lines(monkeypatch, {"NO_COLOR": "1"})
    crit_line, warn_line = line_with(lines, "Crit"), line_with(lines, "Warn")
    assert " !!" in crit_line.plain and " !!" not in warn_line.plain and " !" in warn_line.plain
    crit = style_of(crit_line, gap_text(9 * H))
    text = style_of(crit_line, "Crit")
    assert crit.bold and not style_of(warn_line, gap_text(1800)).bold
    # Greys only, and critical is not a darker grey than normal text.
    assert crit.color is not None and text.color is not None
    assert crit.color.get_truecolor() >= text.color.get_truecolor()
    assert "✗" in line_with(lines, "Down").plain


async def test_ascii_glyphs_when_the_terminal_cannot_show_unicode() -> None:
    set_glyphs(ASCII)
    app = TableApp()
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(
            board(
                row("crit", oldest=10 * H, trend=(0, 2, 5, None) * 3 + (1, 1)),
                row("deg", health=Health.DEGRADED, error="timed out " * 20),
                row("down", health=Health.DOWN, error="refused"),
                row("new", health=Health.UNKNOWN, last_ok_at=None),
                row("calm", waiting=0, oldest=0.0, p50=None),
                row("longlabelledchannel", oldest=600),
            ),
            THRESHOLDS,
        )
        await pilot.pause()
        lines = [table.render_line(y).text for y in range(table.size.height)]
        text = "\n".join(lines)
        assert all(ord(char) < 128 for char in text), [c for c in text if ord(c) >= 128]
        assert "####" in table.cell_text("crit", "gap")
        assert table.cell_text("crit", "state") == "ok"  # not "ok ok"
        assert table.cell_text("down", "state") == "x down: refused"
        assert table.cell_text("new", "state") == "... waiting for first poll"
        assert table.cell_text("calm", "oldest") == "-"
        assert table.cell_text("deg", "state").startswith("! degraded")
        assert ("DOWN" not in text and "Longlabell~" in text) or "Longlabel" in text


async def test_closed_channel_whose_waits_have_not_started() -> None:
    # A customer who wrote after closing "waited 0s": say closed, not "just arrived".
    opens = NOW + 10 * H
    closed = row("shop", waiting=1, oldest=0.0, opens_at=opens, hours=SHOP_HOURS)
    started = row("mail", waiting=2, oldest=1800, opens_at=opens, hours=SHOP_HOURS)
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(board(closed, started), THRESHOLDS)
        await pilot.pause()
        assert table.cell_text("shop", "oldest") == "closed"
        assert table.cell_text("shop", "gap") == ""  # nothing counted: no gap to judge
        assert table.cell_text("mail", "oldest") == dur(1800)  # counted before closing
    text = describe_channel(closed, now=NOW, tz=ROME).plain
    assert "Closed now, opens" in text and "Waits count open hours only" in text


async def test_frt_answered_while_closed_is_not_shown_as_instant() -> None:
    off = row("shop", p50=0.0, p50_real=9 * H)  # 0s of open time, 9h of real time
    quick = row("chat", p50=20.0, p50_real=20.0)  # really answered at once
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(board(off, quick), THRESHOLDS)
        await pilot.pause()
        assert table.cell_text("shop", "frt_p50") == OFF_HOURS
        assert table.cell_text("chat", "frt_p50") == dur(20.0)
    text = describe_channel(off, now=NOW).plain
    assert "FRT counts open hours; these answers were given while closed" in text
    assert OFF_HOURS not in describe_channel(quick, now=NOW).plain


def test_once_says_closed_and_off_hours_as_the_dashboard_does() -> None:
    from sportello.core.report import as_json, row_cells

    opens = NOW + 10 * H
    closed = row("shop", waiting=1, oldest=0.0, opens_at=opens, hours=SHOP_HOURS)
    off = row("mail", p50=0.0, p50_real=9 * H)
    cells = dict(
        zip(
            ("label", "waiting", "oldest", "expect", "gap", "frt", "state"),
            row_cells(closed, NOW),
            strict=True,
        )
    )
    assert cells["oldest"] == "closed" and cells["gap"] == ""
    assert "0s" not in row_cells(closed, NOW)[:5]
    assert row_cells(off, NOW)[5] == OFF_HOURS
    assert '"oldest_wait_s": 0' in as_json(board(closed)), "the JSON keeps the figure"


async def test_a_channel_the_running_collector_does_not_poll_says_so() -> None:
    from dataclasses import replace

    from sportello.core.polling_status import NOT_POLLED

    # Never polled here, as a channel only this config has: not "waiting for first poll".
    missing = replace(row("shop", health=Health.UNKNOWN), not_polled=NOT_POLLED)
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        table.update_board(board(missing), THRESHOLDS)
        await pilot.pause()
        assert "not polled" in table.cell_text("shop", "state")
    assert NOT_POLLED in describe_channel(missing, now=NOW).plain


async def test_a_long_run_of_boards_keeps_the_render_caches_small() -> None:
    """Each board's changed cells are new cache entries (DataTable keys them by an
    update count): the caches must stay sized for a few channels, not 10,000 cells."""
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ChannelTable)
        for minute in range(300):
            rows = [row(f"ch{i}", waiting=1 + i, oldest=600.0 + 60 * minute) for i in range(5)]
            table.update_board(board(*rows), THRESHOLDS)
            await pilot.pause()
        sizes = [len(table._cell_render_cache), len(table._line_cache)]
    assert sizes[0] <= 400 and sizes[1] <= 100, sizes
