"""The dashboard as a user drives it, with Pilot, on the demo shop at a frozen time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from sportello.app import SportelloApp
from sportello.core.queue_view import SortOrder
from sportello.screens.conversation import ConversationScreen
from sportello.screens.help import HelpScreen
from sportello.widgets.channel_table import ChannelTable
from sportello.widgets.queue_table import QueueTable
from tests.dashboard_fixtures import dashboard, demo_app, until_loaded


def title(pilot_app: object) -> str:
    from textual.widgets import Static

    screen = pilot_app.dashboard  # type: ignore[attr-defined]
    return str(screen.query_one("#queue-title", Static).render())


async def test_channels_and_queue_appear(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        channels = screen.query_one("#channels", ChannelTable)
        assert channels.row_count == 5
        queue = screen.query_one("#queue", QueueTable)
        assert screen.board is not None
        assert len(queue.view.visible) == screen.board.waiting - _on_hold(screen) > 0
        assert "waiting" in title(app) and "worst gap first" in title(app)
        gaps = [row.gap_s for row in queue.view.visible]
        assert gaps == sorted(gaps, reverse=True), "the queue is not worst gap first"


def _on_hold(screen: object) -> int:
    """Callers on hold count as waiting on the phone row but are not queue rows."""
    board = screen.board  # type: ignore[attr-defined]
    extra = 0
    for row in board.channels:
        if row.record is not None and row.record.on_hold is not None:
            conversations = sum(1 for item in board.queue if item.channel_id == row.channel.id)
            extra += row.metrics.waiting - conversations
    return extra


async def test_navigation_moves_the_selection_and_the_preview(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        queue = dashboard(pilot).query_one("#queue", QueueTable)
        assert queue.cursor_index == 0
        await pilot.press("down", "j")
        assert queue.cursor_index == 2
        await pilot.press("k")
        assert queue.cursor_index == 1
        await pilot.press("G")
        assert queue.cursor_index == len(queue.view.visible) - 1
        await pilot.press("g")
        assert queue.cursor_index == 0
        await pilot.press("pagedown")
        assert queue.cursor_index > 1 or len(queue.view.visible) <= 2
        selected = queue.selected_row
        assert selected is not None
        await pilot.pause(0.3)
        preview = dashboard(pilot).query_one("#preview")
        assert selected.item.subject[:20] in str(preview.header)  # type: ignore[attr-defined]


async def test_filter_narrows_and_escape_clears(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        queue = dashboard(pilot).query_one("#queue", QueueTable)
        everyone = len(queue.view.visible)
        word = queue.view.visible[0].item.subject.split()[0].lower()
        await pilot.press("slash", *word)
        narrowed = queue.view.visible
        assert 0 < len(narrowed) <= everyone
        assert all(word in row.haystack for row in narrowed)
        assert word in title(app)
        await pilot.press("enter")
        assert queue.has_focus
        assert len(queue.view.visible) == len(narrowed), "Enter must keep the filter"
        await pilot.press("escape")
        assert len(queue.view.visible) == everyone
        await pilot.press("slash", *"zzqx")  # matches nobody
        assert queue.view.visible == []
        preview = dashboard(pilot).query_one("#preview")
        assert "No conversation matches the filter." in str(preview.body)  # type: ignore[attr-defined]


async def test_a_filter_letter_narrows_the_queue_while_it_is_typed(tmp_path: Path) -> None:
    """The queue is filtered while the key is handled, not by a later message:
    the echoed letter and the filtered queue then reach the terminal in one frame."""
    from sportello.screens.dashboard import QueueFilter

    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue", QueueTable)
        generation = queue.view.generation
        word = queue.view.visible[0].item.subject.split()[0].lower()
        await pilot.press("slash")
        box = screen.query_one("#filter", QueueFilter)
        box.insert_text_at_cursor(word)  # as a key press does, with no await after it
        assert screen.view.filter_text == word
        assert queue.view.generation > generation
        assert word in title(app)


async def test_channel_key_and_sort_key(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue", QueueTable)
        await pilot.press("f")
        first = screen.config.channels[0]
        assert {row.item.channel_id for row in queue.view.visible} <= {first.id}
        assert f"channel {first.label}" in title(app)
        await pilot.press("escape")
        assert screen.view.channel is None
        await pilot.press("o")
        assert screen.view.sort is SortOrder.WAIT
        assert "longest wait first" in title(app)
        waits = [row.wait_s for row in queue.view.visible]
        assert waits == sorted(waits, reverse=True)


async def test_enter_opens_the_conversation_and_escape_comes_back(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        queue = dashboard(pilot).query_one("#queue", QueueTable)
        row = queue.selected_row
        assert row is not None
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("escape")
        assert dashboard(pilot).is_current
        assert queue.selected_row is not None
        assert queue.selected_row.item.conversation_id == row.item.conversation_id


async def test_question_mark_lists_the_keys(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        helps = [what for _, what in app.screen.rows]
        expected_helps = (
            "Filter the queue by text",
            "Change the order of the queue",
            "Quit sportello",
        )
        for expected in expected_helps:
            assert expected in helps
        rows = dict((what, keys) for keys, what in app.screen.rows)
        assert rows["Quit sportello"].split() == ["q", "ctrl+q"]
        assert rows["Next conversation"].split() == ["↓", "j"]
        assert "Tab" in rows["Move between the channel rows and the queue"]
        assert len(helps) == len(set(helps))
        shown = "\n".join(str(static.render()) for static in app.screen.query("Static"))
        assert "count a channel's open hours only" in shown
        for noise in ("Scroll Left", "Page Right", "Copy selected text", "Focus Next"):
            assert noise not in helps, noise
        await pilot.press("escape")
        assert dashboard(pilot).is_current
        await pilot.press("tab")  # to the channel rows: their keys are listed
        await pilot.press("question_mark")
        rows = dict((what, keys) for keys, what in app.screen.rows)
        assert rows["Next channel"].split() == ["↓", "j"]
        assert rows["Show only this channel's queue"] == "Enter"
        assert "Next conversation" not in rows
        await pilot.press("escape")


async def test_j_and_k_move_between_channel_rows(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        channels = dashboard(pilot).query_one("#channels", ChannelTable)
        await pilot.press("tab")
        assert channels.has_focus
        start = channels.cursor_row
        await pilot.press("j")
        assert channels.cursor_row == start + 1
        await pilot.press("k")
        assert channels.cursor_row == start


async def test_a_live_update_keeps_the_selection(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue", QueueTable)
        await pilot.press("down", "down", "down")
        chosen = queue.selected_row
        assert chosen is not None
        # Republish the board: the same conversations, as a new poll would.
        app.live.refresh_now()
        before = screen.board
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.board is not before:
                break
        assert screen.board is not before, "no new board arrived"
        assert queue.selected_row is not None
        assert queue.selected_row.item.conversation_id == chosen.item.conversation_id


async def test_keys_can_be_remapped_from_config(tmp_path: Path) -> None:
    from dataclasses import replace

    from sportello.app import SportelloApp
    from tests.dashboard_fixtures import demo_config, frozen_clock

    config = demo_config(tmp_path / "store.db")
    config = replace(config, keys={"dashboard.sort": "s", "dashboard.bogus": "x"})
    app = SportelloApp(config, clock=frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        await pilot.press("s")
        assert app.dashboard.view.sort is SortOrder.WAIT
        await pilot.press("o")
        assert app.dashboard.view.sort is SortOrder.WAIT, "the old key still works"


async def test_quitting_closes_the_store(tmp_path: Path) -> None:
    before = {t.ident for t in threading.enumerate()}
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot, polled=False)
        await pilot.press("q")
    assert app.live.store is None, "the store was left open"
    leftover = [
        t for t in threading.enumerate() if t.ident not in before and "connection" in t.name
    ]
    for thread in leftover:  # a closed connection's thread ends right after close()
        thread.join(timeout=3)
    assert not [t for t in leftover if t.is_alive()], "store threads still running"


async def _palette(app: SportelloApp, query: str) -> list[str]:
    from sportello.commands import SportelloCommands

    provider = SportelloCommands(app.screen)
    return [hit.text or "" async for hit in provider.search(query)]


async def test_the_command_palette_finds_our_actions_by_the_words_on_screen(
    tmp_path: Path,
) -> None:
    from sportello.commands import palette_commands

    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot, polled=False)
        for word, wanted in (
            ("sort", "Change the order of the queue"),
            ("help", "Show every key of this screen"),
            ("refresh", "Poll every channel now"),
            ("search", "Filter the queue by text"),
            ("pause", "Pause or resume live updates"),
        ):
            assert wanted in await _palette(app, word), word
        titles = [command.title for command in palette_commands(app, app.screen)]
        assert len(titles) == len(set(titles)), "a title is listed twice"
        for textual_only in ("Keys", "Screenshot", "Maximize"):
            assert textual_only not in titles
        sort = next(c for c in palette_commands(app, app.screen) if "order" in c.title)
        sort.callback()
        await pilot.pause()
        assert app.dashboard.view.sort is SortOrder.WAIT


async def test_a_highlighted_channel_row_is_described_in_the_preview(tmp_path: Path) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        await pilot.press("shift+tab")
        channels = dashboard(pilot).query_one("#channels", ChannelTable)
        assert channels.has_focus
        await pilot.press("down")
        await pilot.pause()
        preview = dashboard(pilot).query_one("#preview")
        body = str(preview.body)  # type: ignore[attr-defined]
        second = dashboard(pilot).config.channels[1]
        assert second.label in body and "adapter demo" in body
        assert "ago" in body, "times in the description should say how long ago"
        await pilot.press("enter")  # Enter on a channel shows only its queue
        screen = dashboard(pilot)
        assert screen.view.channel == second.id
        assert screen.query_one("#queue", QueueTable).has_focus


async def test_a_store_that_cannot_be_read_is_said_not_shown_as_empty(tmp_path: Path) -> None:
    (tmp_path / "store.db").write_bytes(b"not a database")
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.dashboard._stopped:
                break
        from tests.test_hostile_text import screen_text

        text = screen_text(app)
        assert "No one is waiting" not in text
        assert "cannot be read" in text and "not a database" in text
        assert "not available" in title(app)
        assert app.is_running


async def test_the_first_frame_shows_the_board_read_before_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sportello.app import SportelloApp
    from sportello.core.live import opening_board
    from sportello.core.store import Store
    from sportello.screens.dashboard import DashboardScreen
    from tests.dashboard_fixtures import demo_config, frozen_clock
    from tests.test_hostile_text import hostile_state

    config = demo_config(tmp_path / "store.db")
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        await store.apply_fetch("email", hostile_state(), frozen_clock().timestamp())
    opening = await opening_board(config, frozen_clock)
    assert opening is not None and len(opening.queue) == 2
    applied: list[object] = []
    original = DashboardScreen.apply

    def apply(self: DashboardScreen, update: object) -> None:
        applied.append(update.board)  # type: ignore[attr-defined]
        original(self, update)  # type: ignore[arg-type]

    monkeypatch.setattr(DashboardScreen, "apply", apply)
    app = SportelloApp(config, clock=frozen_clock, collect=False, opening=opening)
    async with app.run_test(size=(80, 24)):
        assert applied and applied[0] is opening, "the first frame waited for the live worker"
        assert len(app.dashboard.query_one("#queue", QueueTable).view.visible) == 2


async def test_no_opening_board_from_a_store_that_cannot_be_read(tmp_path: Path) -> None:
    from sportello.core.live import opening_board
    from tests.dashboard_fixtures import demo_config

    (tmp_path / "store.db").write_bytes(b"not a database")
    assert await opening_board(demo_config(tmp_path / "store.db")) is None


async def test_the_first_slash_makes_a_big_queue_searchable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: a big queue is read without its search texts; the first / reads
    them, and what was typed meanwhile is applied once the rows can be searched."""
    from sportello.core import live as live_module

    monkeypatch.setattr(live_module, "SEARCH_AT_ONCE_UP_TO", 1)  # the demo counts as big
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue", QueueTable)
        assert not screen.view.searchable
        everyone = len(queue.view.visible)
        word = "ordine"  # in many subjects and messages of the demo, not in all
        await pilot.press("slash", *word)
        if not screen.view.searchable:
            assert len(queue.view.visible) == everyone, "nothing is hidden while it prepares"
            assert "preparing the search" in title(app)
        for _ in range(200):
            if screen.view.searchable:
                break
            await pilot.pause(0.05)
        assert screen.view.searchable
        await pilot.pause()
        narrowed = queue.view.visible
        assert 0 < len(narrowed) < everyone
        assert all(row.holds(word) for row in narrowed)
        assert "preparing the search" not in title(app)
