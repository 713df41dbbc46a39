"""The live board: head first for big queues, light updates when nothing waiting changed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sportello.core import live as live_module
from sportello.core.live import Live
from sportello.core.live_update import LiveUpdate, Role
from sportello.core.records import Health, PollOutcome
from sportello.core.store import Store
from sportello_sdk import Author, ChannelState, Conversation, Customer, Message
from tests.engine_fakes import make_config

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def state(count: int, prefix: str = "c") -> ChannelState:
    return ChannelState(
        tuple(
            Conversation(
                external_id=f"{prefix}{i}",
                customer=Customer(name=f"Customer {i}"),
                subject=f"subject {i}",
                first_customer_message_at=START - timedelta(minutes=i + 1),
                waiting_since=START - timedelta(minutes=i + 1),
            )
            for i in range(count)
        )
    )


@contextlib.asynccontextmanager
async def running(live: Live[Any]) -> AsyncIterator[None]:
    """``live.run()`` in a task for the block, cancelled (and awaited) after it."""
    task = asyncio.create_task(live.run())
    try:
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def run_until(live: Live[int], updates: list[LiveUpdate[int]], count: int) -> None:
    for _ in range(200):
        if len(updates) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"only {len(updates)} updates arrived")


async def test_head_first_then_the_whole_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "HEAD_ABOVE", 10)
    monkeypatch.setattr(live_module, "HEAD_PER_CHANNEL", 3)
    monkeypatch.setattr(live_module, "HEAD_SETTLE_S", 0.0)
    config = make_config(tmp_path / "s.db", {"a": "good", "b": "good"})
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        await store.apply_fetch("a", state(20, "a"), START.timestamp())
        await store.apply_fetch("b", state(5, "b"), START.timestamp())
    updates: list[LiveUpdate[int]] = []
    live: Live[int] = Live(
        config, updates.append, lambda board: len(board.queue), clock=Clock(), collect=False
    )
    async with running(live):
        await run_until(live, updates, 2)
    head, whole = updates[0], updates[1]
    assert not head.board.complete
    assert head.prepared == 6  # three of each channel
    assert [row.metrics.waiting for row in head.board.channels] == [20, 5]
    assert whole.board.complete
    assert whole.prepared == 25
    # The head's channel figures are the same as the whole queue's.
    assert [r.metrics for r in head.board.channels] == [r.metrics for r in whole.board.channels]


async def test_nothing_changed_gives_a_light_update_that_ages_the_queue(tmp_path: Path) -> None:
    config = make_config(tmp_path / "s.db", {"a": "good"})
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        await store.apply_fetch("a", state(3), START.timestamp())
    clock = Clock()
    updates: list[LiveUpdate[object]] = []
    live: Live[object] = Live(
        config, updates.append, lambda board: object(), clock=clock, collect=False
    )
    async with running(live):
        await run_until(live, updates, 1)  # type: ignore[arg-type]
        first = updates[-1]
        clock.now = START + timedelta(minutes=2)
        live.refresh_now()
        await run_until(live, updates, 2)  # type: ignore[arg-type]
        light = updates[-1]
        assert light.prepared is first.prepared, "rows were rebuilt though nothing changed"
        assert light.advance == {"a": pytest.approx(120.0)}
        before = first.board.channels[0].metrics.oldest_wait_s
        assert before is not None
        assert light.board.channels[0].metrics.oldest_wait_s == pytest.approx(before + 120)
        # Something changes in the store: the rows are rebuilt, with no advance.
        assert live.store is not None
        await live.store.apply_fetch("a", state(4), clock.now.timestamp())
        await live.store.record_poll(
            PollOutcome("a", 0.0, clock.now.timestamp(), True, None, 4),
            Health.OK,
        )
        live.refresh_now()
        await run_until(live, updates, 3)  # type: ignore[arg-type]
        rebuilt = updates[-1]
        assert rebuilt.prepared is not first.prepared
        assert rebuilt.advance == {}
        assert len(rebuilt.board.queue) == 4


async def test_an_idle_store_publishes_nothing_more(tmp_path: Path) -> None:
    config = make_config(tmp_path / "s.db", {"a": "good"})
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        await store.apply_fetch("a", state(3), START.timestamp())
    updates: list[LiveUpdate[int]] = []
    live: Live[int] = Live(
        config, updates.append, lambda board: 0, clock=Clock(), collect=False, check_s=0.05
    )
    async with running(live):
        await run_until(live, updates, 2)  # the first board, then who polls (a viewer)
        assert updates[0].role is Role.STARTING and updates[1].role is Role.VIEWER
        await asyncio.sleep(1.0)  # twenty checks of the store, nothing changed
        assert len(updates) == 2, f"{len(updates)} boards for an idle store"


async def test_the_collector_stops_before_the_store_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll still in flight at quit must not find the store closed under it."""
    from sportello_sdk import registry
    from tests.engine_fakes import GoodAdapter

    monkeypatch.setitem(registry._cache, "good", GoodAdapter)
    config = make_config(tmp_path / "s.db", {"a": "good"})
    updates: list[LiveUpdate[int]] = []
    live: Live[int] = Live(config, updates.append, lambda board: 0, clock=Clock(), takeover_s=0)
    seen_at_close: list[bool] = []
    original_close = Store.close

    async def close(store: Store) -> None:
        collector = live.collector
        seen_at_close.append(
            collector is not None and all(run.host is None for run in collector.runs.values())
        )
        await original_close(store)

    monkeypatch.setattr(Store, "close", close)
    task = asyncio.create_task(live.run())
    for _ in range(200):
        if live.collector is not None and live.collector.runs["a"].health.value == "ok":
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen_at_close == [True], "the store closed while the collector still ran"


async def test_a_viewer_says_who_collects_and_when_the_data_goes_stale(tmp_path: Path) -> None:
    from sportello.core.polling_status import CollectorInfo, channel_digests

    config = make_config(tmp_path / "s.db", {"a": "good"})
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        await store.apply_fetch("a", state(1), START.timestamp())
        await store.record_poll(
            PollOutcome("a", START.timestamp(), START.timestamp(), True, None, 1), Health.OK
        )
        info = CollectorInfo(
            "anna", "shop", 1, START.timestamp() - 60, False, channel_digests(config)
        )
        await store.set_collector(info)
    config = replace(config, channels=(*config.channels, replace(config.channels[0], id="new")))
    clock = Clock()
    updates: list[LiveUpdate[int]] = []
    live: Live[int] = Live(
        config, updates.append, lambda board: 0, clock=clock, collect=False, check_s=0.05
    )
    async with running(live):
        await run_until(live, updates, 2)
        # "new" is in this config only: the collector does not poll it.
        assert updates[-1].status.text == "● live · anna@shop · other config"
        rows = {row.channel.id: row for row in updates[-1].board.channels}
        assert rows["new"].not_polled is not None and rows["a"].not_polled is None
        # Nobody polls any more: a few intervals (0.05 s here) later it is stale.
        clock.now = START + timedelta(minutes=4)
        live.refresh_now()
        await run_until(live, updates, 3)
        assert updates[-1].status.text.startswith("● stale · last poll 4m")
        assert updates[-1].status.stale


async def test_a_paused_viewer_applies_no_other_process_writes(tmp_path: Path) -> None:
    config = make_config(tmp_path / "s.db", {"a": "good"})
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        await store.apply_fetch("a", state(2), START.timestamp())
    clock = Clock()
    updates: list[LiveUpdate[int]] = []
    live: Live[int] = Live(
        config, updates.append, lambda board: 0, clock=clock, collect=False, check_s=0.05
    )
    async with running(live):
        await run_until(live, updates, 2)
        live.set_paused(True)
        await run_until(live, updates, 3)
        assert updates[-1].paused and updates[-1].status.text == "❚❚ paused (this screen)"
        count = len(updates)
        async with await Store.open(config.store_path) as other:  # another process writes
            await other.apply_fetch("a", state(5), START.timestamp())
        await asyncio.sleep(0.5)
        assert all(len(u.board.queue) == 2 for u in updates[count - 1 :]), "applied while paused"
        live.set_paused(False)
        for _ in range(100):
            if len(updates[-1].board.queue) == 5:
                break
            await asyncio.sleep(0.02)
        assert len(updates[-1].board.queue) == 5 and not updates[-1].paused


async def test_refresh_in_a_viewer_asks_the_collector_through_the_store(tmp_path: Path) -> None:
    from sportello.core.live_update import Refresh

    config = make_config(tmp_path / "s.db", {"a": "good"})
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
    updates: list[LiveUpdate[int]] = []
    live: Live[int] = Live(config, updates.append, lambda board: 0, clock=Clock(), collect=False)
    async with running(live):
        await run_until(live, updates, 1)
        assert live.refresh_now() is Refresh.ASKED
        assert live.store is not None
        for _ in range(100):
            if await live.store.last_request_id() > 0:
                break
            await asyncio.sleep(0.02)
        requests = await live.store.requests_after(0)
        assert [r.kind for r in requests] == ["poll"]


async def test_a_collector_that_stops_is_restarted_then_the_lead_is_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug: the collector's task died, the process kept the lead, and the screen
    still said live. Now each stop gives the lead up (a viewer may take over) and the
    collector is started again, until it stopped three times: then it only views."""
    from sportello.core.collector import Collector
    from sportello_sdk import registry
    from tests.engine_fakes import GoodAdapter

    monkeypatch.setitem(registry._cache, "good", GoodAdapter)
    runs: list[float] = []

    async def broken_run(self: Collector) -> None:
        runs.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.05)
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(Collector, "run", broken_run)
    config = make_config(tmp_path / "s.db", {"a": "good"})
    updates: list[LiveUpdate[int]] = []
    live: Live[int] = Live(config, updates.append, lambda board: 0, clock=Clock(), takeover_s=0)
    async with running(live):
        for _ in range(200):
            if len(runs) >= 3 and not live.collect and live._collector_task is None:
                break
            await asyncio.sleep(0.05)
        assert len(runs) == 3, runs
        assert not live.collect and live.role is Role.VIEWER
        # The lead is free: another process could collect now.
        async with await Store.open(tmp_path / "s.db") as other:
            assert other.try_lead()
            other.release_lead()
        await asyncio.sleep(0.3)
        assert len(runs) == 3, "it went on restarting after giving up"


async def test_a_rebuild_keeps_the_rows_of_unchanged_channels_and_ages_them(
    tmp_path: Path,
) -> None:
    """Issue 14: the board is rebuilt per changed channel. The rows of a channel
    whose queue did not change are kept; the update says how much older they are."""
    from sportello.core.queue_view import BoardRows, PreparedRows, built_at

    config = make_config(tmp_path / "s.db", {"a": "good", "b": "good"})
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        await store.apply_fetch("a", state(3, "a"), START.timestamp())
        await store.apply_fetch("b", state(2, "b"), START.timestamp())
    clock = Clock()
    updates: list[LiveUpdate[PreparedRows]] = []
    live: Live[PreparedRows] = Live(
        config, updates.append, BoardRows(), built_at=built_at, clock=clock, collect=False
    )
    async with running(live):
        await run_until(live, updates, 1)  # type: ignore[arg-type]
        first = updates[-1]
        assert first.advance == {}
        clock.now = START + timedelta(minutes=2)
        assert live.store is not None
        await live.store.apply_fetch("a", state(4, "a"), clock.now.timestamp())
        live.refresh_now()
        await run_until(live, updates, 2)  # type: ignore[arg-type]
        rebuilt = updates[-1]
    assert rebuilt.prepared is not first.prepared
    assert rebuilt.advance == {"b": pytest.approx(120.0)}, "a was rebuilt now, b kept"
    old_b = [r for r in first.prepared if r.channel_id == "b"]
    new_b = [r for r in rebuilt.prepared if r.channel_id == "b"]
    assert len(new_b) == 2 and all(x is y for x, y in zip(old_b, new_b, strict=True))
    assert len([r for r in rebuilt.prepared if r.channel_id == "a"]) == 4
    # What the screen shows, a kept row's wait plus the advance, is the wait now.
    waits = dict(zip(rebuilt.board.queue, rebuilt.board.waits, strict=True))
    for row in rebuilt.prepared:
        shown = row.wait_s + rebuilt.advance.get(row.channel_id, 0.0)
        assert shown == pytest.approx(waits[row.item])


async def test_a_big_queue_is_read_without_search_texts_until_the_filter_wants_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sportello.core.queue_view import BoardRows, PreparedRows, built_at

    monkeypatch.setattr(live_module, "SEARCH_AT_ONCE_UP_TO", 3)
    config = make_config(tmp_path / "s.db", {"a": "good"})
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        told = tuple(
            replace(
                c,
                messages=(Message(Author.CUSTOMER, START, f"ordine {c.external_id}"),),
            )
            for c in state(4, "a").conversations
        )
        await store.apply_fetch("a", ChannelState(told), START.timestamp())
        searched = {item.conversation_id: item.search_text for item in await store.waiting()}
    assert all(searched.values())
    updates: list[LiveUpdate[PreparedRows]] = []
    live: Live[PreparedRows] = Live(
        config, updates.append, BoardRows(), built_at=built_at, clock=Clock(), collect=False
    )
    async with running(live):
        await run_until(live, updates, 1)  # type: ignore[arg-type]
        first = updates[-1]
        assert not first.board.searchable and not first.prepared.searchable
        assert {item.search_text for item in first.board.queue} == {""}
        live.want_search()
        await run_until(live, updates, 2)  # type: ignore[arg-type]
        second = updates[-1]
    assert second.board.searchable and second.prepared.searchable
    assert {i.conversation_id: i.search_text for i in second.board.queue} == searched
    assert all(row.haystack for row in second.prepared)
