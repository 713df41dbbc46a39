"""The triage loop driven from the keyboard, with Pilot, on the demo shop.

read → r → type → Ctrl+J → the next conversation; a (assign), s (snooze), c (close),
u (undo inside the window), a draft that survives a restart, collisions, and the
read-only mode. The clock is the test's: the undo window passes when the test
moves it on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from sportello.app import SportelloApp
from sportello.core.desk import Desk
from sportello.core.outbox import Action, Kind, State
from sportello.core.settings import Config
from sportello.screens.conversation import ConversationScreen
from sportello.screens.pick import ConfirmScreen, PickScreen
from sportello.widgets.composer import Composer
from sportello.widgets.key_bar import KeyBar
from sportello.widgets.queue_table import QueueTable
from sportello_demo.record import deliveries_by_key, record_path
from tests.dashboard_fixtures import FROZEN, demo_config, until_loaded


class Clock:
    def __init__(self, start: datetime = FROZEN) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_app(store: Path, clock: Clock, **config_changes: Any) -> SportelloApp:
    config = replace(demo_config(store), **config_changes)
    return SportelloApp(config, clock=clock)


async def until(pilot: Pilot[int], check: Callable[[], object], limit_s: float = 15.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        await pilot.pause()
        found = check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


def composer_of(app: SportelloApp) -> Composer | None:
    return next(iter(app.screen.query(Composer)), None)


async def outbox(app: SportelloApp) -> list[Action]:
    return await app.desk.outbox()


def selected_id(app: SportelloApp) -> int:
    item = app.dashboard.triage_item()
    assert item is not None
    return item.conversation_id


def records(config: Config, channel_id: str) -> dict[str, int]:
    """Deliveries per idempotency key in the demo channel's durable record."""
    channel = config.channel(channel_id)
    return dict(deliveries_by_key(record_path(channel.id, channel.options.get("record", ""))))


async def test_read_reply_send_next_then_delivered_once(tmp_path: Path) -> None:
    clock = Clock()
    app = make_app(tmp_path / "store.db", clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        first = app.dashboard.triage_item()
        assert first is not None
        queue_order = [row.conversation_id for row in app.dashboard.view.visible]
        await pilot.press("r")
        composer = await until(pilot, lambda: composer_of(app))
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press(*"Grazie, arriva domani.")
        assert composer.text == "Grazie, arriva domani."
        await pilot.press("ctrl+j")
        # The next waiting conversation opens, ready to read.
        screen = await until(
            pilot,
            lambda: (
                isinstance(app.screen, ConversationScreen)
                and app.screen.item is not None
                and app.screen.item.conversation_id != first.conversation_id
                and app.screen
            ),
        )
        assert screen.item.conversation_id == queue_order[1]
        assert not screen.query(Composer)
        (action,) = await outbox(app)
        assert (action.kind, action.state, action.text) == (
            Kind.REPLY,
            State.PENDING,
            "Grazie, arriva domani.",
        )
        assert action.conversation_id == first.conversation_id
        assert records(app.config, first.channel_id) == {}  # held: the undo window
        clock.advance(11)  # past the e-mail's 10 s
        app.live.wake_delivery()
        sent = await until(
            pilot,
            lambda: records(app.config, first.channel_id).get(action.key) == 1,
        )
        assert sent
        await until(
            pilot,
            lambda: (
                first.conversation_id
                not in {row.conversation_id for row in app.dashboard.view.rows}
            ),
        )
        (done,) = await outbox(app)
        assert done.state is State.SENT
        assert records(app.config, first.channel_id) == {action.key: 1}


async def test_close_then_undo_inside_the_window_sends_nothing(tmp_path: Path) -> None:
    clock = Clock()
    app = make_app(tmp_path / "store.db", clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        target = selected_id(app)
        channel = app.dashboard.triage_item().channel_id  # type: ignore[union-attr]
        await pilot.press("c")
        (held,) = await until(
            pilot,
            lambda: (
                app.dashboard.board
                and [a for a in app.dashboard.board.actions.values() if a.conversation_id == target]
            ),
        )
        assert held.kind is Kind.CLOSE and held.state is State.PENDING
        assert selected_id(app) != target  # the cursor moved on
        words = app.dashboard.query_one("#queue").state_of(target)  # type: ignore[attr-defined]
        assert words is not None and "closing in" in words[0] and "u to undo" in words[0]
        await pilot.press("up")  # back on it: u takes back the action on the selection
        await pilot.press("u")
        (undone,) = await until_async(
            pilot, lambda: outbox(app), lambda a: a and a[0].state is State.UNDONE
        )
        assert undone.key == held.key
        clock.advance(60)
        app.live.wake_delivery()
        await asyncio.sleep(1.0)
        await pilot.pause()
        assert records(app.config, channel) == {}
        assert target in {row.conversation_id for row in app.dashboard.view.rows}


async def until_async(
    pilot: Pilot[int],
    read: Callable[[], Any],
    check: Callable[[Any], object],
    limit_s: float = 15.0,
) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        await pilot.pause()
        value = await read()
        if check(value):
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


async def test_assign_and_snooze_from_their_lists(tmp_path: Path) -> None:
    clock = Clock()
    app = make_app(tmp_path / "store.db", clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        first = selected_id(app)
        await pilot.press("a")
        picker = await until(pilot, lambda: isinstance(app.screen, PickScreen) and app.screen)
        names = [label for label, _ in picker.choices]
        assert names == [p.name for p in app.config.team]
        await pilot.press("2")
        (assign,) = await until_async(pilot, lambda: outbox(app), lambda a: len(a) == 1)
        assert assign.kind is Kind.ASSIGN and assign.payload["assignee"] == names[1]
        assert assign.conversation_id == first
        second = selected_id(app)
        assert second != first
        await pilot.press("s")
        picker = await until(pilot, lambda: isinstance(app.screen, PickScreen) and app.screen)
        labels = [label for label, _ in picker.choices]
        assert labels[0] == "1 hour" and labels[-1] == "until the customer writes again"
        await pilot.press("1")
        actions = await until_async(pilot, lambda: outbox(app), lambda a: len(a) == 2)
        (snooze,) = [a for a in actions if a.kind is Kind.SNOOZE]  # made at the same instant
        assert snooze.kind is Kind.SNOOZE and snooze.conversation_id == second
        assert snooze.snooze_until() == FROZEN.timestamp() + 3600
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("escape")  # cancelled: nothing more
        await pilot.pause()
        assert len(await outbox(app)) == 2


async def test_a_draft_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    store = tmp_path / "store.db"
    app = make_app(store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        target = selected_id(app)
        await pilot.press("r")
        await until(pilot, lambda: composer_of(app))
        await pilot.press(*"Buongiorno, ")
        await pilot.press("escape")  # keeps the draft
        await until(pilot, lambda: not app.screen.query(Composer))
        drafts = await until_async(pilot, lambda: app.desk.draft(target), lambda d: d is not None)
        assert drafts.text == "Buongiorno, "
    again = make_app(store, clock)
    async with again.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        # Which row the cursor starts on depends on which boards came first (the
        # channels poll at once); the draft belongs to the conversation.
        assert again.query_one(QueueTable).select(target)
        await pilot.pause()
        assert selected_id(again) == target
        await pilot.press("r")
        composer = await until(pilot, lambda: composer_of(again))
        assert composer.text == "Buongiorno, "


async def test_someone_else_writing_is_shown_and_a_second_answer_asks_first(
    tmp_path: Path,
) -> None:
    clock = Clock()
    app = make_app(tmp_path / "store.db", clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        item = app.dashboard.triage_item()
        assert item is not None
        marco = Desk(
            app.config, lambda: app.live.store, clock=lambda: clock().timestamp(), who="marco@shop"
        )
        await marco.save_draft(item.conversation_id, "Ciao, ti rispondo io", clock().timestamp())
        await pilot.press("r")
        composer = await until(pilot, lambda: composer_of(app))
        line = await until(
            pilot, lambda: "marco@shop" in composer.query_one("#composer-line").render().plain
        )
        assert line
        # Marco sends first.
        await marco.reply(item, "Ciao, ecco la risposta.")
        await pilot.press(*"Anche io rispondo")
        await pilot.press("ctrl+j")
        confirm = await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
        assert "marco@shop" in confirm.detail
        await pilot.press("n")
        await pilot.pause()
        await asyncio.sleep(0.2)
        mine = [a for a in await outbox(app) if a.made_by == app.desk.who]
        assert mine == []  # nothing of ours was committed
        assert isinstance(app.screen, ConversationScreen) and app.screen.query(Composer)


async def test_read_only_refuses_every_action_with_the_reason(tmp_path: Path) -> None:
    app = make_app(tmp_path / "store.db", Clock(), read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        for key in ("c", "r", "a", "s", "u"):
            await pilot.press(key)
            await pilot.pause()
        assert isinstance(app.screen, type(app.dashboard))
        assert await outbox(app) == []
        reason = app.dashboard.refusal("close")
        assert reason is not None and "read-only" in reason
        bar = app.dashboard.query_one(KeyBar)
        disabled = bar.get_component_rich_style("key-bar--disabled")
        rendered = bar.render()
        spans = [
            rendered.plain[span.start : span.end]
            for span in rendered.spans
            if span.style == disabled
        ]
        assert any("close" in text for text in spans)  # struck through, not hidden
        assert any(n.message and "read-only" in str(n.message) for n in app._notifications)


async def test_r_retries_a_failed_action_and_d_discards_an_unknown_one(tmp_path: Path) -> None:
    from sportello.core import outbox as states

    clock = Clock()
    app = make_app(tmp_path / "store.db", clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        store = app.live.store
        assert store is not None
        first, second = app.dashboard.view.visible[:2]
        made = []
        for row in (first, second):
            action = await app.desk.close(row.item)
            claimed = states.claim(action, action.due_at, "another collector")
            assert await store.transition(claimed, State.PENDING)
            made.append(claimed)
        failed = states.failed(made[0], clock().timestamp(), "550 refused", retryable=False)
        assert await store.transition(failed, State.SENDING)
        assert await store.transition(states.lost(made[1], clock().timestamp()), State.SENDING)
        queue = app.dashboard.query_one("#queue")
        await until(pilot, lambda: queue.state_of(second.conversation_id))  # type: ignore[attr-defined]
        assert "unknown — check" in queue.state_of(second.conversation_id)[0]  # type: ignore[attr-defined]
        assert "r to retry" in queue.state_of(first.conversation_id)[0]  # type: ignore[attr-defined]
        queue.select(first.conversation_id)  # type: ignore[attr-defined]
        await pilot.press("r")  # the line says so: r sends it again, no composer
        # Sent again: pending at once, then delivered by this process's collector.
        again = await until_async(
            pilot, lambda: store.action(failed.key), lambda a: a.state is State.SENT
        )
        assert again.attempts == 2 and composer_of(app) is None
        queue.select(second.conversation_id)  # type: ignore[attr-defined]
        await pilot.press("D")
        gone = await until_async(
            pilot, lambda: store.action(made[1].key), lambda a: a.state is State.DISCARDED
        )
        assert gone.done_at is not None


async def test_the_palette_offers_every_triage_action_and_says_why_not(tmp_path: Path) -> None:
    from sportello.commands import palette_commands

    app = make_app(tmp_path / "store.db", Clock(), read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        commands = {c.title: c for c in palette_commands(app, app.dashboard)}
        for title in (
            "Reply to the conversation",
            "Assign the conversation to someone",
            "Close the conversation",
            "Undo the last action while it is held",
        ):
            assert title in commands
        assert commands["Close the conversation"].help.startswith("unavailable: read-only")
        commands["Close the conversation"].callback()
        await pilot.pause()
        assert await outbox(app) == []
