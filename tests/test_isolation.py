"""Whatever one adapter does, it is its channel's problem only (issue 8, items 1-4, 10).

The collector runs each channel's session in a thread of its own; these tests run
the real collector, with real threads, against the adapters of
:mod:`tests.misbehaving`.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from sportello.core.collector import Collector
from sportello.core.records import Health
from sportello.core.store import Store
from sportello_sdk import Adapter
from sportello_sdk import host as sdk_host
from tests.engine_fakes import FAKES, make_config, resolve_plain
from tests.misbehaving import (
    MISBEHAVING,
    Blocks,
    CancelsItself,
    Counts,
    Exits,
    Remembers,
    Slow,
    Swallows,
    TextRetryAfter,
)


def load(name: str) -> type[Adapter]:
    return MISBEHAVING.get(name) or FAKES[name]


def collector_for(store: Store, adapters: dict[str, str], timeout_s: float = 0.5) -> Collector:
    config = make_config(store.path, adapters, timeout_s=timeout_s)
    return Collector(config, store, loader=load, resolver=resolve_plain)


async def errors_after_one_poll(tmp_path: Path, adapters: dict[str, str]) -> dict[str, str | None]:
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, adapters)
        try:
            health = await collector.poll_once()
        finally:
            await collector.aclose()
        records = {r.id: r for r in await store.channels()}
    assert health["good"] is Health.OK
    for cid in adapters:
        if cid != "good":
            assert health[cid] is not Health.OK, cid
    return {cid: r.last_error for cid, r in records.items()}


@pytest.mark.parametrize(
    ("adapter", "words"),
    [
        ("exc-message", "Unprintable"),
        ("skips-init", "NoInit: code 42"),
        ("unprintable", "unexpected Unprintable"),
        ("base-exception", "unexpected NotAnException: boom"),
        ("exits", "SystemExit"),
        ("cancels-itself", "CancelledError though nobody cancelled it"),
    ],
)
async def test_a_slip_is_its_channels_failure_in_words(
    tmp_path: Path, adapter: str, words: str
) -> None:
    errors = await errors_after_one_poll(tmp_path, {"good": "good", "bad": adapter})
    assert errors["good"] is None
    assert errors["bad"] is not None and words in errors["bad"], errors["bad"]


async def test_keyboard_interrupt_from_an_adapter_does_not_reach_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Exits, "how", KeyboardInterrupt)
    errors = await errors_after_one_poll(tmp_path, {"good": "good", "bad": "exits"})
    assert errors["bad"] is not None and "adapters must not exit" in errors["bad"]


@pytest.mark.parametrize(("given", "seconds"), [("120", 120.0), ("soon", None), (-5, 0.0)])
async def test_retry_after_as_text_is_read_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: object, seconds: float | None
) -> None:
    monkeypatch.setattr(TextRetryAfter, "value", given)
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"bad": "text-retry-after"})
        await collector.start()
        try:
            retry_after = await collector.poll_channel(collector.runs["bad"])
        finally:
            await collector.aclose()
    assert retry_after == seconds


async def test_a_channel_that_raises_anything_does_not_stop_the_others(tmp_path: Path) -> None:
    """The bug: a BaseException ended the channel's task, the task group cancelled
    every channel, and the screen kept saying live."""
    Counts.at = []
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(
            store,
            {"good": "counts", "a": "base-exception", "b": "unprintable", "c": "exits"},
        )
        task = asyncio.create_task(collector.run())
        await asyncio.sleep(1.0)
        assert not task.done(), task
        polls_then = len(Counts.at)
        await asyncio.sleep(0.5)
        assert len(Counts.at) > polls_then, "the good channel stopped being polled"
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        await collector.aclose()
    assert task.cancelled()


async def test_a_blocking_adapter_freezes_neither_the_loop_nor_the_other_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Blocks, "seconds", 1.5)
    Counts.at = []
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"good": "counts", "slow": "blocks"}, timeout_s=5)
        task = asyncio.create_task(collector.run())
        lags: list[float] = []
        for _ in range(40):  # 2 s of the screen's loop, in 50 ms steps
            before = time.monotonic()
            await asyncio.sleep(0.05)
            lags.append(time.monotonic() - before - 0.05)
        gaps = [b - a for a, b in zip(Counts.at, Counts.at[1:], strict=False)]
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        await collector.aclose()
        records = {r.id: r for r in await store.channels()}
    assert max(lags) < 0.5, f"the event loop stopped for {max(lags):.2f} s"
    assert len(Counts.at) >= 10 and max(gaps) < 0.8, gaps
    slow = records["slow"]
    assert slow.health is Health.DEGRADED, slow
    assert slow.last_error is not None and "adapters must not block" in slow.last_error


async def test_a_block_longer_than_the_timeout_is_a_timeout_of_that_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Blocks, "seconds", 4.0)
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"good": "good", "slow": "blocks"}, timeout_s=1.5)
        started = time.monotonic()
        health = await collector.poll_once()
        took = time.monotonic() - started
        records = {r.id: r for r in await store.channels()}
        started = time.monotonic()
        left = await collector.aclose(grace_s=0.3)
        closing = time.monotonic() - started
    assert took < 2.5, f"poll_once waited {took:.1f} s for a blocked channel"
    assert health == {"good": Health.OK, "slow": Health.DEGRADED}
    error = records["slow"].last_error or ""
    assert "no answer within 1.5 s" in error and "must not block" in error, error
    # Still blocked at the end: it is left behind, and said so, without waiting for it.
    assert left == ["slow"]
    assert closing < 1.0


async def test_a_channel_that_cancelled_itself_is_polled_again(tmp_path: Path) -> None:
    CancelsItself.polls = 0
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"bad": "cancels-itself"})
        task = asyncio.create_task(collector.run())
        await asyncio.sleep(1.0)
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        await collector.aclose()
    assert CancelsItself.polls >= 2, "the channel died at its first CancelledError"


async def test_an_adapter_that_swallows_cancellation_is_abandoned_and_stop_is_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sdk_host, "STOP_GRACE_S", 0.3)
    Swallows.started.clear()
    Counts.at = []
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"good": "counts", "stuck": "swallows"}, timeout_s=0.3)
        task = asyncio.create_task(collector.run())
        await asyncio.to_thread(Swallows.started.wait, 5)
        abandoned = False
        for _ in range(60):  # a timeout, then a new thread once the old one did not stop
            await asyncio.sleep(0.05)
            run = collector.runs["stuck"]
            abandoned = abandoned or "did not stop when asked" in (run.last_error or "")
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        assert task.done()
        started = time.monotonic()
        await collector.aclose(grace_s=0.5)
        took = time.monotonic() - started
        records = {r.id: r for r in await store.channels()}
    assert abandoned, "the stuck call was never abandoned"
    assert took < 2.0
    assert records["good"].health is Health.OK
    assert "no answer within 0.3 s" in (records["stuck"].last_error or "")


async def test_the_memory_is_handed_back_and_survives_a_new_collector(tmp_path: Path) -> None:
    Remembers.seen = []
    async with await Store.open(tmp_path / "s.db") as store:
        for _ in range(2):
            collector = collector_for(store, {"inc": "remembers"})
            await collector.poll_once()
            await collector.poll_once()
            await collector.aclose()
    assert Remembers.seen == [{}, {"cursor": 1}, {"cursor": 2}, {"cursor": 3}]


async def test_a_memory_that_is_not_json_fails_the_poll_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sportello_sdk import ChannelState

    async def bad(self: Remembers, memory: object) -> ChannelState:
        return ChannelState(memory={"when": object()})

    Remembers.seen = []
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"inc": "remembers"})
        await collector.poll_once()
        monkeypatch.setattr(Remembers, "fetch", bad)
        health = await collector.poll_once()
        await collector.aclose()
        assert await store.memories() == {"inc": {"cursor": 1}}
        record = (await store.channels())[0]
    assert health["inc"] is Health.DEGRADED
    assert "memory is not JSON" in (record.last_error or "")


async def test_a_slow_channel_is_refreshed_every_interval_not_every_interval_plus_its_poll(
    tmp_path: Path,
) -> None:
    from dataclasses import replace
    from datetime import timedelta

    Slow.starts = []
    async with await Store.open(tmp_path / "s.db") as store:
        config = make_config(store.path, {"slow": "slow"}, timeout_s=5)
        channel = replace(config.channels[0], poll_interval=timedelta(seconds=0.6))
        collector = Collector(
            replace(config, channels=(channel,)), store, loader=load, resolver=resolve_plain
        )
        task = asyncio.create_task(collector.run())
        await asyncio.sleep(3.2)
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        await collector.aclose()
    gaps = [b - a for a, b in zip(Slow.starts, Slow.starts[1:], strict=False)]
    assert len(gaps) >= 3, gaps
    # Each poll takes 0.3 s: counted from the end, the gap would be 0.9 s.
    assert sorted(gaps)[len(gaps) // 2] < 0.8, gaps


async def test_the_sense_checks_run_in_the_channels_thread_not_the_screens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100,000 conversations they take a good part of a second."""
    import threading

    from sportello.core import collector as collector_module
    from sportello.core.state_check import check_state as real

    threads: list[str] = []

    def recording(state: object, now: float) -> object:
        threads.append(threading.current_thread().name)
        return real(state, now)

    monkeypatch.setattr(collector_module, "check_state", recording)
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"good": "good"})
        health = await collector.poll_once()
        await collector.aclose()
    assert health["good"] is Health.OK
    assert threads == ["sportello-channel-good"]
