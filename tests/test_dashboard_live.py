"""The dashboard while it works: what ticks, what stays, what it says before it knows."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sportello.core.live_update import LiveUpdate
from sportello.screens.conversation import ConversationScreen
from sportello.widgets.channel_table import ChannelTable
from sportello.widgets.preview import Preview
from sportello.widgets.top_bar import TopBar
from tests.dashboard_fixtures import dashboard, demo_app, until_loaded


def _last_update(pilot_app: object) -> LiveUpdate[Any]:
    live = pilot_app.live  # type: ignore[attr-defined]
    update = live._last_update
    assert update is not None
    return update  # type: ignore[no-any-return]


async def _settle(pilot: object) -> None:
    for _ in range(3):
        await pilot.pause()  # type: ignore[attr-defined]
    await asyncio.sleep(0.2)  # the preview loads once the cursor rests
    await pilot.pause()  # type: ignore[attr-defined]


async def _open_conversation(pilot: Any) -> None:
    """The dashboard loaded, Enter on the selected conversation, its screen shown."""
    await until_loaded(pilot)
    await _settle(pilot)
    await pilot.press("enter")
    for _ in range(40):
        if isinstance(pilot.app.screen, ConversationScreen):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the conversation screen did not open")


async def test_the_preview_header_ticks_with_the_queue(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        await _settle(pilot)
        screen = dashboard(pilot)
        row = screen.query_one("#queue").selected_row  # type: ignore[attr-defined]
        assert row is not None
        before = screen.query_one("#preview", Preview).header
        assert before is not None
        # Ten minutes of open time later, nothing else changed: a light update.
        update = _last_update(app)
        light = replace(update, advance={row.channel_id: 3 * 3600.0})
        screen.apply(light)
        await pilot.pause()
        after = screen.query_one("#preview", Preview).header
        assert after is not None and after.plain != before.plain
        header = screen._header(row)
        assert header.wait_s == pytest.approx(row.wait_s + 3 * 3600.0)


async def test_a_selected_channel_keeps_its_details_across_boards(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        await pilot.press("shift+tab", "down")
        await pilot.pause()
        screen = dashboard(pilot)
        assert screen.query_one("#channels", ChannelTable).has_focus
        second = screen.config.channels[1]
        update = _last_update(app)
        screen.apply(update)  # the next poll's board
        await _settle(pilot)
        body = screen.query_one("#preview", Preview).body.plain
        assert second.label in body and "adapter demo" in body, body[:200]
        # Back in the queue, the preview follows the queue again.
        await pilot.press("tab")
        await _settle(pilot)
        assert screen.query_one("#preview", Preview).header is not None


async def test_before_the_first_poll_it_says_it_is_reading(tmp_path: Path) -> None:
    app = demo_app(tmp_path, collect=False)  # a viewer of an empty store: nothing is read
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(40):
            if dashboard(pilot).board is not None:
                break
            await asyncio.sleep(0.05)
        await _settle(pilot)
        screen = dashboard(pilot)
        assert screen.board is not None
        preview = screen.query_one("#preview", Preview).body.plain
        assert "No one is waiting" not in preview
        assert "first poll" in preview
        title = str(screen.query_one("#queue-title").render())
        assert "0 waiting" not in title and "not read yet" in title


async def test_gc_is_frozen_once_however_many_boards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    freezes: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        update = _last_update(app)
        for _ in range(5):  # five rebuilt queues
            rebuilt = replace(update, prepared=list(update.prepared))
            screen.apply(rebuilt)
            await pilot.pause()
        await _settle(pilot)
    assert len(freezes) == 1, f"gc.freeze() ran {len(freezes)} times"


async def test_revealing_says_so_in_the_header_until_masked_again(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        top = dashboard(pilot).query_one("#top", TopBar)
        assert "unmasked" not in top.render().plain
        await pilot.press("v")
        await _settle(pilot)
        assert "unmasked" in top.render().plain
        await pilot.press("v")
        await pilot.pause()
        assert "unmasked" not in top.render().plain


async def test_the_open_conversation_ticks_and_says_who_polls(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_conversation(pilot)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        await pilot.pause()
        top = screen.query_one("#conversation-top", TopBar)
        assert "● live" in top.render().plain
        row = dashboard(pilot).query_one("#queue").selected_row  # type: ignore[attr-defined]
        update = _last_update(app)
        dashboard(pilot).apply(replace(update, advance={row.channel_id: 600.0}))
        await pilot.pause()
        assert screen.conversation.wait_s == pytest.approx(row.wait_s + 600.0)


async def test_help_on_the_conversation_screen_lists_its_keys_not_tab(tmp_path: Path) -> None:
    from sportello.screens.help import HelpScreen

    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_conversation(pilot)
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        keys = {keys for keys, _ in help_screen.rows}
        whats = [what for _, what in help_screen.rows]
        assert not any("Tab" in k for k in keys), keys
        rows = {what: keys for keys, what in help_screen.rows}
        assert rows["Scroll down"].split() == ["j", "↓"], rows
        assert "PgDn" in rows["Scroll a page down"] and "G" in rows["The newest message"]
        assert len(whats) == len(set(whats))


async def test_the_key_bar_says_resume_while_paused(tmp_path: Path) -> None:
    from sportello.widgets.key_bar import KeyBar

    app = demo_app(tmp_path)
    async with app.run_test(size=(100, 24)) as pilot:
        await until_loaded(pilot)
        bar = dashboard(pilot).query_one(KeyBar)
        assert " p " not in bar.render().plain  # the bar leaves p to the help screen
        await pilot.press("p")
        await pilot.pause()
        assert "p resume" in bar.render().plain  # … but says how to resume
        await pilot.press("p")
        await pilot.pause()
        assert " p " not in bar.render().plain


async def test_our_words_are_ascii_where_the_terminal_cannot_show_unicode(
    tmp_path: Path,
) -> None:
    from sportello.core.glyphs import ASCII, set_glyphs
    from sportello.screens.help import HelpScreen

    set_glyphs(ASCII)  # the conftest fixture puts Unicode back
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        await _settle(pilot)
        screen = dashboard(pilot)
        ours = [
            screen.query_one("#top", TopBar).render().plain,
            str(screen.query_one("#queue-title").render()),
            str(screen.query_one("#filter").placeholder),  # type: ignore[attr-defined]
        ]
        header = screen.query_one("#preview", Preview).header
        assert header is not None
        ours.append(header.plain.replace(header.plain.split("\n")[1], ""))  # not the subject
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ours.extend(f"{keys} {what}" for keys, what in app.screen.rows)
    for line in ours:
        assert line.isascii(), line


def test_a_big_queue_freezes_at_its_head_and_at_its_whole_then_never(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sportello.core.desk import Desk
    from sportello.screens.dashboard import DashboardScreen
    from tests.dashboard_fixtures import demo_config

    freezes: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    config = demo_config(tmp_path / "store.db")
    screen = DashboardScreen(config, Desk(config, lambda: None, clock=lambda: 0.0))
    for complete in (False, False, True, True, False, True):  # head, head, whole, …
        screen._freeze(complete)
    assert len(freezes) == 2


def _count_trend_reads(monkeypatch: pytest.MonkeyPatch, app: Any) -> list[bool]:
    """Each read of the trends, as whether a board was on screen by then."""
    import sportello.core.live as live_module

    reads: list[bool] = []
    real = live_module.read_trends  # type: ignore[attr-defined]

    async def counting(*args: Any) -> dict[str, tuple[int | None, ...]]:
        reads.append(app.dashboard.board is not None)
        return await real(*args)

    monkeypatch.setattr(live_module, "read_trends", counting)
    return reads


async def test_at_80_columns_the_trends_are_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo_app(tmp_path)
    reads = _count_trend_reads(monkeypatch, app)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        await _settle(pilot)
        screen = dashboard(pilot)
        assert "trend" not in screen.query_one("#channels", ChannelTable).column_keys
        app.live.refresh_now()
        await _settle(pilot)
        board = screen.board
        assert board is not None
    assert reads == []
    assert all(row.trend is None for row in board.channels)


async def test_wide_the_trends_are_read_after_the_first_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo_app(tmp_path)
    reads = _count_trend_reads(monkeypatch, app)
    async with app.run_test(size=(160, 40)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        assert "trend" in screen.query_one("#channels", ChannelTable).column_keys
        for _ in range(40):
            board = screen.board
            if board is not None and all(row.trend is not None for row in board.channels):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no board brought the trends")
    assert reads and all(reads), reads  # each once a board was on screen


async def test_boards_in_a_row_do_not_grow_the_frozen_generation(tmp_path: Path) -> None:
    """The rows each poll replaces are freed (reference counting: they hold no
    cycle), and the screen freezes no more of them: the permanent generation,
    which only a freeze adds to, does not grow board after board."""
    from sportello.core.queue_view import build_board_rows

    app = demo_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until_loaded(pilot)
            await _settle(pilot)
            screen = dashboard(pilot)
            update = _last_update(app)
            frozen = gc.get_freeze_count()
            for _ in range(10):  # ten polls, each a rebuilt queue
                screen.apply(replace(update, prepared=build_board_rows(update.board)))
                await pilot.pause()
            grown = gc.get_freeze_count() - frozen
    finally:
        gc.unfreeze()  # the next tests start as the process did
    assert grown <= 0, f"the frozen generation grew by {grown} objects in 10 boards"


async def test_a_rebuilt_board_with_kept_rows_shows_them_older(tmp_path: Path) -> None:
    """Rows of a channel that did not change are kept by a rebuild (issue 14): the
    advance of a rebuilt update is shown on them as on a light update's."""
    from sportello.core.queue_view import PreparedRows

    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        await _settle(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue")
        row = queue.selected_row  # type: ignore[attr-defined]
        assert row is not None
        update = _last_update(app)
        rebuilt = replace(
            update,
            prepared=PreparedRows(list(update.prepared)),
            advance={row.channel_id: 3 * 3600.0},
        )
        screen.apply(rebuilt)
        await pilot.pause()
        assert screen.view.rows is rebuilt.prepared
        header = screen._header(row)
        assert header.wait_s == pytest.approx(row.wait_s + 3 * 3600.0)
        assert queue._advance == {row.channel_id: 3 * 3600.0}  # type: ignore[attr-defined]
