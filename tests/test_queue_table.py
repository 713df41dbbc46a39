"""The queue widget: navigation, messages, in-place updates, inert text, layout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.app import App, ComposeResult

from sportello.core.glyphs import ASCII, UNICODE, set_glyphs
from sportello.core.queue_view import PreparedRows, QueueRow, QueueView, SortOrder, build_rows
from sportello.core.records import QueueItem
from sportello.widgets import QueueTable
from sportello.widgets.queue_table import (
    GAP_WIDTH,
    closed_now,
    cursor_mark,
    fit,
    gap_text,
    layout_columns,
)
from sportello_sdk.options import format_duration as dur
from tests.terminal_render import colour_number, line_with, style_of, terminal_lines

NOW = 1_790_000_000.0
LABELS = {"mail": "Email", "chat": "Chat", "fb": "Facebook"}
EXPECT = {"mail": 3600.0, "chat": 300.0, "fb": 3600.0}
SIZE = (80, 24)


@pytest.fixture(autouse=True)
def unicode_glyphs() -> Iterator[None]:
    """The tests read ``▶``: Unicode glyphs, whatever the locale running them."""
    set_glyphs(UNICODE)
    yield
    set_glyphs(None)


def item(
    cid: int,
    channel: str = "mail",
    age_s: float = 600.0,
    name: str | None = None,
    email: str | None = None,
    subject: str | None = None,
) -> QueueItem:
    since = NOW - age_s
    return QueueItem.of(
        cid, channel, f"x{cid}", name, email, None, subject or f"Subject {cid}", since
    )


def rows_of(items: list[QueueItem]) -> PreparedRows:
    return build_rows(items, LABELS, [NOW - i.waiting_since for i in items], EXPECT)


def numbered(count: int, first: int = 1) -> list[QueueItem]:
    """Conversation ``first`` has the worst gap, then ``first + 1``, …"""
    return [item(cid, age_s=100_000 - cid) for cid in range(first, first + count)]


class QueueApp(App[None]):
    def __init__(self, view: QueueView) -> None:
        super().__init__()
        self.view = view
        self.highlighted: list[int | None] = []
        self.opened: list[int] = []

    def compose(self) -> ComposeResult:
        yield QueueTable(self.view, id="queue")

    def on_mount(self) -> None:
        self.query_one(QueueTable).focus()

    def on_queue_table_highlighted(self, message: QueueTable.Highlighted) -> None:
        self.highlighted.append(message.row.conversation_id if message.row else None)

    def on_queue_table_opened(self, message: QueueTable.Opened) -> None:
        self.opened.append(message.row.conversation_id)


def screen_lines(table: QueueTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


def selected_id(table: QueueTable) -> int | None:
    row = table.selected_row
    return row.conversation_id if row is not None else None


def on_screen_offset(table: QueueTable) -> int:
    return table.cursor_index - table.scroll_offset.y


# -- layout ------------------------------------------------------------------------


def test_layout_at_80_columns() -> None:
    layout = layout_columns(79)  # 80 minus the scrollbar
    assert (layout.channel, layout.customer, layout.wait, layout.gap) == (9, 14, 6, 7)
    assert layout.mark + layout.channel + layout.customer + layout.subject + 4 + 13 == 79
    assert layout.subject == 37


def test_wider_terminals_give_more_room() -> None:
    assert layout_columns(120).customer > layout_columns(79).customer
    assert layout_columns(120).subject > layout_columns(79).subject


def test_narrow_terminals_keep_a_subject() -> None:
    layout = layout_columns(45)
    assert layout.subject >= 8
    assert layout.customer < 14


def test_fit_and_gap_text() -> None:
    assert fit("abc", 5) == "abc  "
    assert fit("abc", 5, right=True) == "  abc"
    assert fit("abcdef", 4) == "abc…"
    assert fit("日本語です", 5) == "日本…"
    assert fit("x", 0) == ""
    assert gap_text(0) == "ok"
    assert gap_text(-50) == "ok"
    assert gap_text(4200) == "+1h10m"


# -- navigation and messages ---------------------------------------------------------


async def test_navigation_keys_and_highlighted() -> None:
    app = QueueApp(QueueView(rows_of(numbered(100))))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        assert app.highlighted == [1]  # the first row, at mount
        await pilot.press("down")
        assert selected_id(table) == 2
        await pilot.press("j", "j")
        assert selected_id(table) == 4
        await pilot.press("k")
        assert selected_id(table) == 3
        page = table.size.height
        await pilot.press("pagedown")
        assert table.cursor_index == 2 + page
        assert table.scroll_offset.y == page  # the cursor keeps its place on screen
        await pilot.press("pageup")
        assert table.cursor_index == 2 and table.scroll_offset.y == 0
        await pilot.press("G")
        assert selected_id(table) == 100
        assert table.scroll_offset.y == 100 - page
        await pilot.press("down")
        assert selected_id(table) == 100  # stays at the end
        await pilot.press("g")
        assert selected_id(table) == 1 and table.scroll_offset.y == 0
        await pilot.press("up")
        assert selected_id(table) == 1
        await pilot.press("end", "home")
        await pilot.pause()
        assert app.highlighted == [1, 2, 3, 4, 3, 3 + page, 3, 100, 1, 100, 1]


async def test_enter_opens_the_selected_conversation() -> None:
    app = QueueApp(QueueView(rows_of(numbered(5))))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.opened == [3]


async def test_click_selects_and_double_click_opens() -> None:
    app = QueueApp(QueueView(rows_of(numbered(5))))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.click(QueueTable, offset=(30, 3))
        assert selected_id(table) == 4
        assert app.opened == []
        await pilot.click(QueueTable, offset=(30, 1), times=2)
        await pilot.pause()
        assert app.opened == [2]


async def test_cursor_is_visible_without_colour() -> None:
    app = QueueApp(QueueView(rows_of(numbered(5))))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.press("down")
        lines = screen_lines(table)
        assert lines[1].startswith(cursor_mark())
        assert not any(line.startswith(cursor_mark()) for i, line in enumerate(lines) if i != 1)


# -- rendering -------------------------------------------------------------------------


async def test_row_columns_at_80x24() -> None:
    rows = rows_of(
        [
            item(1, "fb", age_s=9 * 3600, name="Maria R.", subject="Ordine non arrivato"),
            item(2, "chat", age_s=60, email="luca.bianchi@example.it", subject="Fattura"),
        ]
    )
    app = QueueApp(QueueView(rows))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        first, second = screen_lines(table)[:2]
        assert len(first) == table.scrollable_content_region.width == 80  # no scrollbar
        assert first.startswith("▶ Facebook  Maria R.       Ordine non arrivato")
        assert first.endswith(f" {dur(9 * 3600):>6} {gap_text(8 * 3600):>7}")
        assert second.startswith("  Chat      l•••@e•••.it   Fattura")
        assert second.endswith(f" {dur(60):>6}      ok")
        assert "luca.bianchi" not in second


async def test_reveal_shows_addresses() -> None:
    rows = rows_of([item(1, email="luca.bianchi@example.it", subject="chiamami 347 1234567")])
    view = QueueView(rows)
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        assert "347 1234567" not in screen_lines(table)[0]
        view.set_reveal(True)
        table.refresh_view()
        await pilot.pause()
        line = screen_lines(table)[0]
        assert "luca.bianchi@…" in line
        assert "chiamami 347 1234567" in line


async def test_hostile_text_is_rendered_inert() -> None:
    hostile = [
        item(1, name="\x1b]0;pwned\x07Maria", subject="[@click=app.quit]x[/] [b]bold[/b]"),
        item(2, name="Luca\u202e", subject="\x1b]52;c;cm0gLXJm\x07copia\x1b[2J qui"),
        item(3, subject="a\x9b31mb\x9d0;t\x9cc\nd\te\u2066f"),
        item(4, subject="Ordine " + "x" * 1_000_000),
    ]
    app = QueueApp(QueueView(rows_of(hostile)))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        lines = screen_lines(table)
        text = "\n".join(lines)
        for bad in ("\x1b", "\x9b", "\x9d", "\u202e", "\u2066", "\x07", "\t"):
            assert bad not in text
        assert "[@click=app.quit]x[/] [b]bold[/b]" in lines[0]
        assert "Maria" in lines[0] and "pwned" not in lines[0]
        assert "copia qui" in lines[1]
        assert "abc d ef" in lines[2]
        assert all(len(line) == 80 for line in lines)
        assert lines[3].rstrip().endswith("+9m") or "…" in lines[3]
        # The subject's markup is inert: clicking on it does nothing.
        await pilot.click(QueueTable, offset=(30, 0))
        await pilot.pause()
        assert app.is_running
        assert app.return_code is None


async def test_empty_states() -> None:
    view = QueueView()
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        lines = screen_lines(table)
        middle = table.size.height // 2
        assert lines[middle].strip() == "No one is waiting"
        assert all(not line.strip() for i, line in enumerate(lines) if i != middle)
        view.set_rows(rows_of(numbered(3)))
        table.refresh_view()
        await pilot.pause()
        assert app.highlighted == [1]
        view.set_filter("zzz\x1b[31m")
        table.refresh_view()
        await pilot.pause()
        assert screen_lines(table)[middle].strip() == "No conversation matches “zzz”"
        assert table.selected_row is None
        assert app.highlighted == [1, None]
        await pilot.press("down", "enter")
        assert app.opened == []


# -- updates in place ----------------------------------------------------------------------


async def test_update_keeps_selection_when_rows_arrive_above() -> None:
    view = QueueView(rows_of(numbered(50, first=100)))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.press("pagedown", "down", "down")
        chosen = selected_id(table)
        offset = on_screen_offset(table)
        top = table.scroll_offset.y
        highlighted = list(app.highlighted)
        # Five conversations with a worse gap arrive: they sort above the selection.
        view.set_rows(rows_of(numbered(5, first=1) + numbered(50, first=100)))
        table.refresh_view(view)
        await pilot.pause()
        assert selected_id(table) == chosen
        assert on_screen_offset(table) == offset  # no jump on screen
        assert table.scroll_offset.y == top + 5
        assert app.highlighted == highlighted  # same conversation: no new preview


async def test_while_channels_arrive_the_first_row_stays_selected() -> None:
    # At start-up a channel read later has conversations with worse gaps: the
    # cursor stays on the top row until the user moves it, then it follows.
    view = QueueView(rows_of(numbered(10, first=100)))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        table.arriving = True
        view.set_rows(rows_of(numbered(5, first=1) + numbered(10, first=100)))
        table.refresh_view(view)
        await pilot.pause()
        assert selected_id(table) == 1
        assert table.scroll_offset.y == 0
        assert app.highlighted[-1] == 1
        await pilot.press("down")
        assert selected_id(table) == 2
        view.set_rows(rows_of(numbered(1, first=0) + numbered(5, first=1)))
        table.refresh_view(view)
        await pilot.pause()
        assert selected_id(table) == 2  # chosen: it follows its conversation


async def test_once_every_channel_reported_the_cursor_follows_its_conversation() -> None:
    view = QueueView(rows_of(numbered(10, first=100)))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        table.arriving = False
        view.set_rows(rows_of(numbered(5, first=1) + numbered(10, first=100)))
        table.refresh_view(view)
        await pilot.pause()
        assert selected_id(table) == 100


async def test_update_when_the_selected_conversation_leaves() -> None:
    view = QueueView(rows_of(numbered(10)))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.press("down", "down")
        assert selected_id(table) == 3
        view.set_rows(rows_of([i for i in numbered(10) if i.conversation_id != 3]))
        table.refresh_view()
        await pilot.pause()
        assert selected_id(table) == 4  # the row that took its place
        assert table.cursor_index == 2
        assert app.highlighted[-1] == 4


async def test_changed_row_is_redrawn() -> None:
    view = QueueView(rows_of([item(1, age_s=60)]))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        assert screen_lines(table)[0].endswith(f" {dur(60):>6}      ok")
        view.set_rows(rows_of([item(1, age_s=4 * 3600)]))
        table.refresh_view()
        await pilot.pause()
        assert screen_lines(table)[0].endswith(f" {dur(4 * 3600):>6} {gap_text(3 * 3600):>7}")


async def test_filter_keeps_the_selection() -> None:
    items = [item(i, "chat" if i % 2 else "mail", age_s=5000 - i * 10) for i in range(1, 301)]
    view = QueueView(rows_of(items))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.press("pagedown", "pagedown", "pagedown", "down", "down")
        chosen = selected_id(table)
        assert chosen is not None
        # A filter that still shows it: still selected.
        view.set_filter(f"subject {chosen}")
        table.refresh_view()
        assert selected_id(table) == chosen
        # Filtered out: the cursor goes to the first row.
        row = table.selected_row
        assert row is not None
        view.set_filter("email" if row.channel_id == "chat" else "chat")
        table.refresh_view()
        assert table.cursor_index == 0
        assert table.scroll_offset.y == 0


async def test_the_scroll_bar_follows_the_rows_without_a_layout() -> None:
    """The row count changes without a layout of the screen: the scroll bar must be
    told, or its thumb stays as the last layout left it (seen: a queue of 15 drawn
    with the thumb of a queue of 1, in one start out of three)."""
    items = [item(i, "chat" if i % 2 else "mail", age_s=5000 - i * 10) for i in range(1, 301)]
    view = QueueView(rows_of(items))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        bar = table.vertical_scrollbar
        await pilot.pause()
        assert bar.window_virtual_size == 300
        counts = []
        for text in ("chat", "subject 7", ""):
            view.set_filter(text)
            table.refresh_view()
            await pilot.pause()
            counts.append(len(view.visible))
            assert bar.window_virtual_size == counts[-1]
            assert bar.window_size == table.size.height
        assert counts == [150, 57, 300]


async def test_a_new_sort_order_shows_its_first_row() -> None:
    # `o` "newest first" must show the newest, not keep the old selection with the
    # newest rows scrolled away above it.
    items = [item(i, "chat" if i % 2 else "mail", age_s=5000 - i * 10) for i in range(1, 301)]
    view = QueueView(rows_of(items))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.press("pagedown", "pagedown", "pagedown", "down", "down")
        assert table.cursor_index > table.size.height
        view.set_sort(SortOrder.NEWEST)
        table.refresh_view()
        await pilot.pause()
        newest = max(items, key=lambda i: (i.waiting_since, i.conversation_id))
        assert selected_id(table) == newest.conversation_id
        assert table.cursor_index == 0 and table.scroll_offset.y == 0
        assert screen_lines(table)[0].startswith(cursor_mark())
        assert app.highlighted[-1] == newest.conversation_id  # the preview follows
        # A new board in the same order keeps the selection.
        await pilot.press("down", "down")
        chosen = selected_id(table)
        view.set_rows(rows_of([*items, item(999, age_s=1.0)]))
        table.refresh_view()
        assert selected_id(table) == chosen


async def test_select_by_conversation_id() -> None:
    app = QueueApp(QueueView(rows_of(numbered(100))))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        assert table.select(80)
        await pilot.pause()
        assert selected_id(table) == 80
        assert table.scroll_offset.y <= 79 < table.scroll_offset.y + table.size.height
        assert not table.select(12345)


async def test_hundred_thousand_rows_render_only_the_screen() -> None:
    items = [item(i, ("mail", "chat", "fb")[i % 3], age_s=float(i)) for i in range(100_000)]
    app = QueueApp(QueueView(rows_of(items)))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.press("end")
        assert table.cursor_index == 99_999
        assert table.virtual_size.height == 100_000
        lines = screen_lines(table)
        assert lines[-1].startswith(cursor_mark())
        await pilot.press("pageup", "up")
        assert table.cursor_index == 99_999 - table.size.height - 1


def test_rows_are_plain_tuples() -> None:
    (row,) = rows_of([item(1)])
    assert isinstance(row, QueueRow) and isinstance(row, tuple)


# -- issue 6: figures never cut, marks without colour, closed channels, ASCII ------------

H = 3600.0
D = 86400.0


def wide_rows() -> PreparedRows:
    return rows_of(
        [
            item(1, "fb", age_s=12 * D + 3 * H, name="Maria Rossi", subject="Ordine non arrivato"),
            item(2, "mail", age_s=24 * H + 18 * 60, name="Luca Bianchi", subject="Fattura"),
            item(3, "chat", age_s=90, name="Anna", subject="Reso"),
        ]
    )


def line_of(table: QueueTable, name: str) -> str:
    return next(line for line in screen_lines(table) if f" {name} " in line)


def figures(row: QueueRow) -> tuple[str, str]:
    return dur(row.wait_s), gap_text(row.gap_s)


async def test_wait_and_gap_are_never_cut_at_any_width() -> None:
    rows = wide_rows()
    app = QueueApp(QueueView(rows))
    async with app.run_test(size=(200, 12)) as pilot:
        table = app.query_one(QueueTable)
        for width in range(200, 29, -1):
            await pilot.resize_terminal(width, 12)
            await pilot.pause()
            lines = screen_lines(table)
            for row, line in zip(table.view.visible, lines, strict=False):
                wait, gap = figures(row)
                assert line.rstrip().endswith(f" {wait:>6} {gap:>7}"), (width, line)
                assert len(line) <= width


def test_narrow_layouts_take_room_from_the_text_not_the_figures() -> None:
    for width in range(20, 200):
        layout = layout_columns(width, wait=7, gap=10)
        assert (layout.wait, layout.gap) == (7, 10)
        used = layout.mark + layout.channel + layout.customer + layout.subject + 4 + 17
        assert used == width or (used > width and layout.customer == layout.subject == 0)
    narrow = layout_columns(40, gap=10)  # the NO_COLOR gap, 3 wider: from the customer
    assert (narrow.customer, narrow.gap) == (8, 10)


async def test_without_colour_warning_and_critical_rows_differ_by_a_mark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    rows = rows_of(
        [
            item(1, "mail", age_s=10 * H, name="Crit"),  # +9h, expectation 1h: critical
            item(2, "mail", age_s=H + 600, name="Warn"),  # +10m: warn
            item(3, "mail", age_s=600, name="Calm"),  # not behind
            item(4, "mail", age_s=11 * H, name="Cursor"),  # the selected row: no colour at all
        ]
    )
    app = QueueApp(QueueView(rows))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        lines = {name: line_of(table, name) for name in ("Crit", "Warn", "Calm", "Cursor")}
        assert lines["Crit"].endswith(f"{gap_text(9 * H)} !!")
        assert lines["Warn"].endswith(f"{gap_text(600)} ! ")
        assert lines["Calm"].endswith("ok   ")
        assert lines["Cursor"].endswith(f"{gap_text(10 * H)} !!")
        crit_end = lines["Crit"].index(gap_text(9 * H)) + len(gap_text(9 * H))
        assert crit_end == lines["Warn"].index(gap_text(600)) + len(gap_text(600))  # aligned


async def test_marks_only_without_colour() -> None:
    app = QueueApp(QueueView(rows_of([item(1, age_s=10 * H)])))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        assert not app.no_color
        assert screen_lines(table)[0].endswith(gap_text(9 * H))
        assert table.column_layout() == layout_columns(80)


async def test_closed_channel_says_closed_instead_of_0s() -> None:
    rows = rows_of(
        [
            item(1, "mail", age_s=0.0, name="After"),  # wrote after closing
            item(2, "mail", age_s=1800, name="Before"),
            item(3, "chat", age_s=0.0, name="Open"),  # a channel that is open
        ]
    )
    # The board's open-hours waits: the mail customer who wrote after closing has 0.
    app = QueueApp(QueueView(rows))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        table.set_closed({"mail": "Wed 09:00"})
        await pilot.pause()
        after = line_of(table, "After")
        assert after.rstrip().endswith(" closed"), after  # not "0s", and no gap
        assert after.endswith(" " * GAP_WIDTH)
        assert line_of(table, "Before").endswith(f"{dur(1800):>6} {gap_text(1800 - 3600):>7}")
        assert line_of(table, "Open").endswith(f"{dur(0):>6} {gap_text(-300):>7}")
        assert table.closed_channels == {"mail": "Wed 09:00"}
        table.set_closed({})  # opened: the wait counts again
        await pilot.pause()
        assert line_of(table, "After").endswith(f"{dur(0):>6} {gap_text(-3600):>7}")


async def test_ascii_glyphs_when_the_terminal_cannot_show_unicode() -> None:
    set_glyphs(ASCII)
    rows = rows_of(
        [
            item(1, "fb", age_s=10 * H, name="Maria Rossi-Bianchi", subject="Ordine " * 20),
            item(2, "mail", age_s=60, name="Luca", subject="Fattura"),
        ]
    )
    view = QueueView(rows)
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        lines = screen_lines(table)
        assert lines[0].startswith("> Facebook")
        assert "~" in lines[0]  # the long subject is cut with an ASCII mark
        view.set_filter("nobody")
        table.refresh_view()
        await pilot.pause()
        lines += screen_lines(table)
        assert any('No conversation matches "nobody"' in line for line in lines)
        text = "".join(lines)
        assert all(ord(char) < 128 for char in text), [c for c in text if ord(c) >= 128]


async def test_critical_gap_reads_loudest_with_16_colours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    rows = rows_of(
        [
            item(9, "mail", age_s=20 * H, name="Cursor"),
            item(1, "mail", age_s=10 * H, name="Crit"),
            item(2, "mail", age_s=H + 600, name="Warn"),
        ]
    )
    app = QueueApp(QueueView(rows))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.console.color_system == "standard"
        lines = terminal_lines(app, "standard")
        crit = style_of(line_with(lines, "Crit"), gap_text(9 * H))
        warn = style_of(line_with(lines, "Warn"), gap_text(600))
        assert colour_number(crit) in (1, 9) and crit.bold and not crit.dim  # red
        assert colour_number(warn) in (3, 11)  # yellow


def test_closed_now_names_the_closed_channels_of_a_board() -> None:
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from sportello.core.board import Board, ChannelRow
    from sportello.core.metrics import ChannelMetrics
    from sportello.core.settings import Channel, OpenHours

    rome = ZoneInfo("Europe/Rome")
    hours = OpenHours(weekly=(((time(9), time(19)),),) * 7, timezone=rome, holidays=frozenset())
    now = datetime(2026, 11, 24, 21, 0, tzinfo=rome).timestamp()  # a Tuesday, closed
    opens = datetime(2026, 11, 25, 9, 0, tzinfo=rome).timestamp()

    def channel_row(cid: str, opens_at: float | None) -> ChannelRow:
        channel = Channel(
            id=cid,
            label=cid,
            adapter="demo",
            expectation=timedelta(hours=1),
            hours=hours,
            poll_interval=timedelta(seconds=60),
            timeout=timedelta(seconds=10),
        )
        return ChannelRow(
            channel, None, ChannelMetrics(1, 0.0, 3600, -3600, None, None), None, opens_at
        )

    board = Board(now, (channel_row("mail", opens), channel_row("chat", None)), (), ())
    assert closed_now(board) == {"mail": "Wed 09:00"}


class Repaints:
    """Records which lines a table asks to repaint (whole: None)."""

    def __init__(self, table: QueueTable, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lines: list[int | None] = []
        refresh_line = table.refresh_line
        refresh = table.refresh

        def line(y: int) -> None:
            self.lines.append(y)
            refresh_line(y)

        def whole(*regions: object, **kw: object) -> object:
            if not regions:
                self.lines.append(None)
            return refresh(*regions, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(table, "refresh_line", line)
        monkeypatch.setattr(table, "refresh", whole)


async def test_a_board_repaints_only_the_lines_that_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over SSH every repainted line is bytes: a new board where one conversation
    changed (its subject: the order stays) repaints that line, not the screenful."""
    items = numbered(10)
    view = QueueView(rows_of(items))
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        repaints = Repaints(table, monkeypatch)
        changed = [*items[:3], item(4, age_s=100_000 - 4, subject="Changed"), *items[4:]]
        view.set_rows(rows_of(changed))
        table.refresh_view()
        await pilot.pause()
        assert repaints.lines == [3], repaints.lines
        assert "Changed" in screen_lines(table)[3]
        # The same board again: nothing to repaint.
        repaints.lines.clear()
        view.set_rows(rows_of(changed))
        table.refresh_view()
        await pilot.pause()
        assert repaints.lines == []


async def test_time_passing_below_the_resolution_shown_repaints_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = QueueView(rows_of(numbered(5)))  # waits of about a day: shown as 1d03h
    app = QueueApp(view)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        before = screen_lines(table)
        repaints = Repaints(table, monkeypatch)
        table.set_advance({"mail": 10.0})  # ten seconds later
        await pilot.pause()
        assert screen_lines(table) == before
        assert repaints.lines == []
        table.set_advance({"mail": 2 * 3600.0})  # two hours later: every wait moves
        await pilot.pause()
        assert repaints.lines and None not in repaints.lines
        assert screen_lines(table) != before


async def test_the_scroll_bar_is_repainted_only_when_its_thumb_changes() -> None:
    """A poll that adds one conversation to 300 draws the same thumb: no bytes for it."""
    from textual.geometry import Size

    from sportello.widgets.cells import sync_scrollbar

    items = [item(i, "mail", age_s=5000 - i * 10) for i in range(1, 301)]
    app = QueueApp(QueueView(rows_of(items)))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        bar = table.vertical_scrollbar
        repaints: list[int] = []
        real = bar.refresh

        def counted(*args: object, **kwargs: object) -> object:
            repaints.append(1)
            return real()

        bar.refresh = counted  # type: ignore[method-assign,assignment]
        sync_scrollbar(table, Size(0, 301))
        assert bar.window_virtual_size == 301 and repaints == []
        sync_scrollbar(table, Size(0, 30))
        assert bar.window_virtual_size == 30 and repaints == [1]
