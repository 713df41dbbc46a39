"""The collector: polling, isolation of failing channels, backoff, the lock."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from sportello.core.collector import DOWN_AFTER, Collector, backoff_delay, redact
from sportello.core.leader import CollectorLock
from sportello.core.records import Health
from sportello.core.store import Store
from sportello_sdk.host import ChannelHost
from sportello_sdk.redaction import register
from tests.engine_fakes import GoodAdapter, SwallowingAdapter, load_fake, make_config, resolve_plain


def collector_for(store: Store, adapters: dict[str, str], **kw: object) -> Collector:
    config = make_config(store.path, adapters)
    return Collector(config, store, loader=load_fake, resolver=resolve_plain, **kw)  # type: ignore[arg-type]


async def test_failing_channels_do_not_stop_the_good_one(tmp_path: Path) -> None:
    adapters = {
        "good": "good",
        "hang": "hang",
        "raise": "raise",
        "garbage": "garbage",
        "naive": "naive",
    }
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, adapters)
        started = time.monotonic()
        health = await collector.poll_once()
        assert time.monotonic() - started < 3, "a hanging adapter held up the poll"
        assert health["good"] is Health.OK
        assert health["naive"] is Health.OK  # its one bad conversation is refused, by name
        for bad in ("hang", "raise", "garbage"):
            assert health[bad] is Health.DEGRADED, bad
        waiting = await store.waiting()
        assert {item.external_id for item in waiting} == {"g0", "g1"}
        records = {r.id: r for r in await store.channels()}
        assert records["hang"].last_error is not None
        assert "no answer within" in records["hang"].last_error
        assert records["garbage"].last_error is not None
        assert "instead of a channel state" in records["garbage"].last_error
        dropped = records["naive"].dropped
        assert dropped is not None and dropped.count == 1
        assert "time zone" in dropped.reasons[0]
        assert records["good"].health is Health.OK
        await collector.aclose()


async def test_secret_values_are_redacted_from_errors(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "s.db") as store:
        config = make_config(store.path, {"raise": "raise"})
        channel = replace(config.channels[0], options={"token": "s3cr3t-value"})
        config = replace(config, channels=(channel,))
        collector = Collector(config, store, loader=load_fake, resolver=resolve_plain)
        await collector.poll_once()
        record = (await store.channels())[0]
        assert record.last_error is not None
        assert "s3cr3t-value" not in record.last_error
        assert "ZeroDivisionError" in record.last_error


async def test_down_after_repeated_failures_and_at_once_when_refused(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"raise": "raise", "refused": "refused"})
        health = await collector.poll_once()
        assert health["refused"] is Health.DOWN
        assert health["raise"] is Health.DEGRADED
        for _ in range(DOWN_AFTER - 1):
            health = await collector.poll_once()
        assert health["raise"] is Health.DOWN
        record = {r.id: r for r in await store.channels()}["raise"]
        assert record.failing_since is not None


async def test_recovery_clears_the_error(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"c": "raise"})
        await collector.poll_once()
        assert collector.runs["c"].health is Health.DEGRADED
        broken = collector.runs["c"].host
        assert broken is not None
        collector.runs["c"].host = ChannelHost("c", GoodAdapter, broken.context)
        await collector.poll_once()
        record = (await store.channels())[0]
        assert record.health is Health.OK
        assert record.last_error is None
        assert record.failing_since is None


async def test_unknown_adapter_is_reported_not_fatal(tmp_path: Path) -> None:
    def loader(name: str) -> type[GoodAdapter]:
        from sportello_sdk.registry import AdapterLoadError

        if name == "missing":
            raise AdapterLoadError("no adapter named 'missing' is installed")
        return GoodAdapter

    async with await Store.open(tmp_path / "s.db") as store:
        config = make_config(store.path, {"a": "good", "b": "missing"})
        collector = Collector(config, store, loader=loader, resolver=resolve_plain)
        health = await collector.poll_once()
        assert health == {"a": Health.OK, "b": Health.DOWN}
        record = {r.id: r for r in await store.channels()}["b"]
        assert record.last_error is not None
        assert "missing" in record.last_error


async def test_run_polls_each_channel_repeatedly_despite_a_hang(tmp_path: Path) -> None:
    GoodAdapter.polls = 0
    async with await Store.open(tmp_path / "s.db") as store:
        changes: list[str] = []
        collector = collector_for(store, {"good": "good", "hang": "hang"}, on_change=changes.append)
        task = asyncio.create_task(collector.run())
        await asyncio.sleep(0.6)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await collector.aclose()
    assert GoodAdapter.polls >= 3, "the good channel was not polled on its interval"
    assert changes.count("hang") >= 1
    assert changes.count("good") >= 3


def test_backoff_grows_is_capped_jittered_and_honours_retry_after() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, 10, rng=rng) for n in range(1, 12)]
    assert 5 <= delays[0] <= 10
    assert delays[3] > delays[0]
    assert max(delays) <= 15 * 60
    assert backoff_delay(1, 10, retry_after=35, rng=rng) == 35
    spread = {round(backoff_delay(3, 10, rng=rng), 3) for _ in range(20)}
    assert len(spread) > 10, "no jitter"


def test_redact_blanks_secrets_and_control_characters() -> None:
    register("ABCD1234:xyz")
    text = redact("failed for https://api/botABCD1234:xyz/get \x1b[2J\x07 now")
    assert "ABCD1234:xyz" not in text
    assert "\x1b" not in text and "\x07" not in text


def test_lock_is_held_by_one_process_and_dies_with_it(tmp_path: Path) -> None:
    store_path = tmp_path / "s.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from sportello.core.leader import CollectorLock;"
            f"lock = CollectorLock(Path({str(store_path)!r}));"
            "print(lock.try_acquire(), flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        viewer = CollectorLock(store_path)
        assert not viewer.try_acquire(), "a second process became collector"
        holder.kill()
        holder.wait(timeout=10)
        assert viewer.try_acquire(), "the viewer did not take over after the collector died"
        viewer.release()
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_lock_file_is_private(tmp_path: Path) -> None:
    lock = CollectorLock(tmp_path / "s.db")
    assert lock.try_acquire()
    assert lock.path.stat().st_mode & 0o077 == 0
    lock.release()
    assert not lock.held


async def test_a_recent_successful_poll_is_not_repeated_on_restart(tmp_path: Path) -> None:
    GoodAdapter.polls = 0
    async with await Store.open(tmp_path / "s.db") as store:
        config = make_config(store.path, {"good": "good"})
        slow = replace(config.channels[0], poll_interval=timedelta(hours=1))
        config = replace(config, channels=(slow,))
        first = Collector(config, store, loader=load_fake, resolver=resolve_plain)
        await first.poll_once()
        assert GoodAdapter.polls == 1
        second = Collector(config, store, loader=load_fake, resolver=resolve_plain)
        task = asyncio.create_task(second.run())
        await asyncio.sleep(0.3)
        assert GoodAdapter.polls == 1, "the restarted collector polled again at once"
        second.poll_now()  # the refresh key still polls at once
        await asyncio.sleep(0.3)
        assert GoodAdapter.polls == 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_poll_cancelled_at_any_step_ends_cancelled(tmp_path: Path) -> None:
    """Stopping the collector cancels each poll; no step may swallow that.

    (asyncio.wait_for before Python 3.12 returns the result instead of raising when
    the cancellation lands just as the awaited thing finishes: the channel's loop
    would then keep polling and ``collect`` would never stop.)
    """
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"good": "good"})
        await collector.start()
        run = collector.runs["good"]
        finished_uncancelled = []
        for steps in range(40):
            task = asyncio.create_task(collector.poll_channel(run))
            for _ in range(steps):
                await asyncio.sleep(0)
            if task.done():
                break
            task.cancel()
            await asyncio.wait({task}, timeout=5)
            assert task.done(), f"the poll did not end when cancelled after {steps} steps"
            if not task.cancelled():
                finished_uncancelled.append(steps)
        assert finished_uncancelled == []
        assert await collector.poll_channel(run) is None  # the store is still writable
        assert run.health is Health.OK, run.last_error
        await collector.aclose()


async def test_run_stops_even_when_an_adapter_swallows_the_cancellation(tmp_path: Path) -> None:
    SwallowingAdapter.fetching = threading.Event()
    SwallowingAdapter.swallowing = True
    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"good": "good", "swallow": "swallow"})
        task = asyncio.create_task(collector.run())
        await asyncio.to_thread(SwallowingAdapter.fetching.wait, 5)
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        stopped = task.done()
        if not stopped:  # let the test end instead of hanging
            SwallowingAdapter.swallowing = False
            task.cancel()
            await asyncio.wait({task}, timeout=5)
        await collector.aclose()
    assert stopped, "the collector kept polling after it was cancelled"
    assert task.cancelled()


async def test_a_store_failure_is_the_stores_not_the_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk must not turn every channel red "because of the channel"."""
    from sportello.core.store import StoreError

    async with await Store.open(tmp_path / "s.db") as store:
        collector = collector_for(store, {"good": "good"})
        real_apply = store.apply_fetch

        async def full_disk(*args: object, **kw: object) -> int:
            raise StoreError(f"the store at {store.path}: saving a fetch failed: disk is full")

        monkeypatch.setattr(store, "apply_fetch", full_disk)
        health = await collector.poll_once()
        assert health["good"] is Health.UNKNOWN, "the channel was blamed for the store"
        assert collector.runs["good"].failures == 0
        assert collector.store_error is not None and "disk is full" in collector.store_error
        record = (await store.channels())[0]
        assert record.health is Health.UNKNOWN and record.last_error is None

        monkeypatch.setattr(store, "apply_fetch", real_apply)
        health = await collector.poll_once()
        assert health["good"] is Health.OK
        assert collector.store_error is None


async def test_the_collector_records_itself_and_serves_poll_requests(tmp_path: Path) -> None:
    """A viewer's F5 reaches the collector through the store, within a second or so."""
    async with await Store.open(tmp_path / "s.db") as store:
        config = make_config(store.path, {"good": "good"})
        config = replace(
            config,
            channels=tuple(replace(c, poll_interval=timedelta(hours=1)) for c in config.channels),
        )
        collector = Collector(config, store, loader=load_fake, resolver=resolve_plain)
        GoodAdapter.polls = 0
        task = asyncio.create_task(collector.run())
        try:
            for _ in range(100):
                if GoodAdapter.polls >= 1 and await store.collector() is not None:
                    break
                await asyncio.sleep(0.02)
            info = await store.collector()
            assert info is not None and not info.paused
            assert set(info.channels) == {"good"}
            polls = GoodAdapter.polls
            await store.request("poll", 0.0, "viewer@shop")
            for _ in range(150):  # hourly interval: only the request can poll it again
                if GoodAdapter.polls > polls:
                    break
                await asyncio.sleep(0.02)
            assert GoodAdapter.polls > polls, "the request was not served"
            collector.pause()
            for _ in range(150):
                info = await store.collector()
                if info is not None and info.paused:
                    break
                await asyncio.sleep(0.02)
            assert info is not None and info.paused, "the pause was not recorded"
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await collector.aclose()
        assert await store.collector() is None, "a stopped collector is still recorded"
