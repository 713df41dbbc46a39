"""The outbox under load: a backlog after an outage, and enqueues beside a delivery.

Both run real processes on a store in a temporary folder, with demo channels that
keep a record of what they accepted (``record``, ``honour_keys: false``, so that
a second delivery of a key would show as a second line) and no undo window.

    outbox_backlog_s            1,000 replies queued while the channel is down
                                (its ``down_file`` present); seconds from the file's
                                removal until every one is sent: the collector's
                                next poll finding the channel back (its backoff
                                included), then the delivery of the backlog
    outbox_backlog_duplicates   keys the channel accepted more than once, or never,
                                among those 1,000 (target: 0)
    outbox_enqueue_p99_ms       99th percentile of one reply's commit through the
                                desk (what the screen waits for), from 3 processes
                                enqueueing as fast as they can while a collector
                                delivers the outbox of the same store
    outbox_enqueue_paced_p99_ms the same with each process making 20 replies a
                                second (still far busier than people at a till):
                                without the pile-up, what one reply waits for

Run as a module, this file is the other processes::

    python -m bench.outbox deliver CONFIG         the collector, until SIGTERM
    python -m bench.outbox enqueue CONFIG WHO N START EVERY_S
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.configs import REPO_ROOT, shipped_template, with_store, write_yaml

BACKLOG = 1000
BACKLOG_TIMEOUT_S = 300.0
ENQUEUERS = 3
ENQUEUES = 300  # by each enqueuer (quick: 100)
PACE_S = 0.05  # the paced run: 20 replies a second from each enqueuer


# --------------------------------------------------------------------------- configs


def outbox_config(folder: Path, channels: int, *, scale: int = 50) -> dict[str, Any]:
    """The shipped config with its store in ``folder`` and ``channels`` demo channels
    polled every second, each with a record and a down_file in ``folder``."""
    data = with_store(shipped_template(), folder / "store.db")
    profiles = ("email", "chat", "telegram", "facebook")
    data["channels"] = [
        {
            "id": f"{profiles[i % len(profiles)]}-{i + 1}",
            "label": f"Demo {i + 1}",
            "adapter": "demo",
            "poll_interval": "1s",
            "timeout": "10s",
            "undo_window": "0s",
            "options": {
                "profile": profiles[i % len(profiles)],
                "seed": i + 1,
                "scale": scale,
                "record": str(folder / f"record-{i + 1}.jsonl"),
                "honour_keys": False,
                "act_delay": 0,
                "down_file": str(folder / f"down-{i + 1}"),
            },
        }
        for i in range(channels)
    ]
    data.pop("team", None)
    return data


def _env(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_STATE_HOME": str(folder / "state"),
        "XDG_DATA_HOME": str(folder / "data"),
    }


def _spawn(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.outbox", *args],
        cwd=REPO_ROOT,
        env=_env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, then SIGKILL after 10 s; its stderr's tail."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err[-1500:]


# --------------------------------------------------------------------------- the processes


async def _deliver(config_path: Path) -> None:
    from sportello.core.collector import Collector
    from sportello.core.config import load_config
    from sportello.core.store import Store

    config = load_config(config_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with await Store.open(config.store_path) as store:
        for _ in range(200):  # the previous collector of the store is on its way out
            if store.try_lead():
                break
            await asyncio.sleep(0.05)
        else:
            raise SystemExit("another process collects for this store")
        collector = Collector(config, store)
        task = asyncio.create_task(collector.run())
        waiter = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()
        finally:
            waiter.cancel()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await collector.aclose()
            store.release_lead()


async def _enqueue(
    config_path: Path, who: str, count: int, start_at: float, every_s: float
) -> dict[str, Any]:
    from sportello.core.config import load_config
    from sportello.core.desk import Desk, DeskError
    from sportello.core.store import Store, StoreError

    config = load_config(config_path)
    latencies: list[float] = []
    errors: list[str] = []
    keys: list[str] = []
    async with await Store.open(config.store_path) as store:
        desk = Desk(config, lambda: store, clock=time.time, who=who)
        items = await store.waiting()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        began = time.perf_counter()
        for n in range(count):
            item = items[n % len(items)]
            if every_s:  # paced: the n-th reply at n × every_s, however long the last took
                await asyncio.sleep(max(0.0, began + n * every_s - time.perf_counter()))
            started = time.perf_counter()
            try:
                action = await desk.reply(item, f"{who}: risposta {n}")
            except (DeskError, StoreError) as exc:
                errors.append(str(exc))
                continue
            latencies.append((time.perf_counter() - started) * 1000.0)
            keys.append(action.key)
    return {"latencies_ms": latencies, "errors": errors, "keys": keys}


async def _poll_once(config_path: Path) -> None:
    from sportello.core.collector import Collector
    from sportello.core.config import load_config
    from sportello.core.store import Store

    config = load_config(config_path)
    async with await Store.open(config.store_path) as store:
        collector = Collector(config, store)
        await collector.poll_once()
        await collector.aclose()


# --------------------------------------------------------------------------- backlog


async def _fill_backlog(config_path: Path, count: int) -> list[str]:
    from sportello.core.config import load_config
    from sportello.core.desk import Desk
    from sportello.core.store import Store

    config = load_config(config_path)
    async with await Store.open(config.store_path) as store:
        desk = Desk(config, lambda: store, clock=time.time, who="bench@shop")
        items = await store.waiting()
        keys = []
        for n in range(count):
            action = await desk.reply(items[n % len(items)], f"risposta {n}")
            keys.append(action.key)
        return keys


def _backlog_once(folder: Path) -> tuple[float, float, int]:
    """(seconds to deliver all, seconds until the first, duplicates or missing)."""
    from sportello_demo.record import deliveries_by_key

    config_path = folder / "config.yaml"
    write_yaml(outbox_config(folder, 1), config_path)
    asyncio.run(_poll_once(config_path))
    down = folder / "down-1"
    down.touch()
    deliverer = _spawn(folder, "deliver", str(config_path))
    try:
        keys = asyncio.run(_fill_backlog(config_path, BACKLOG))
        time.sleep(1.0)  # the collector has tried, failed and paused the channel
        sent, _ = _sent_db(config_path)
        if sent:
            raise RuntimeError(f"{sent} delivered while the channel was down")
        down.unlink()
        back = time.time()
        deadline = time.monotonic() + BACKLOG_TIMEOUT_S
        first: float | None = None
        while sent < len(keys):
            if deliverer.poll() is not None:
                raise RuntimeError(f"the collector exited: {_stop(deliverer)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {sent} of {len(keys)} delivered in time")
            time.sleep(0.02)
            sent, first = _sent_db(config_path)
        done = time.time()
    finally:
        err = _stop(deliverer)
    counts = deliveries_by_key(folder / "record-1.jsonl")
    wrong = sum(1 for key in keys if counts.get(key, 0) != 1) + sum(
        1 for key in counts if key not in set(keys)
    )
    if err.strip():
        print(f"outbox_backlog: the collector said: {err.strip()[-400:]}", file=sys.stderr)
    return done - back, (first or done) - back, wrong


def _sent_db(config_path: Path) -> tuple[int, float | None]:
    import sqlite3

    from sportello.core.config import load_config

    path = load_config(config_path).store_path
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        conn.execute("PRAGMA busy_timeout = 5000")
        row = conn.execute("SELECT count(*), min(done_at) FROM outbox WHERE state = 'sent'")
        count, first = row.fetchone()
    return int(count), first


def run_backlog(opts: Any) -> None:
    from bench.scenarios import ScenarioFailed, emit, note

    runs = 1 if opts.quick else max(1, min(3, opts.runs))
    totals: list[float] = []
    firsts: list[float] = []
    wrong = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="sportello-outbox-") as tmp:
            try:
                total, first, bad = _backlog_once(Path(tmp))
            except RuntimeError as exc:
                raise ScenarioFailed(f"outbox_backlog: {exc}") from exc
        totals.append(total)
        firsts.append(first)
        wrong += bad
    note(
        f"outbox_backlog: {BACKLOG} replies, runs s {[round(t, 2) for t in totals]};"
        f" the first sent after s {[round(f, 2) for f in firsts]} (the next good poll),"
        f" then {BACKLOG / max(1e-9, statistics.median(totals) - statistics.median(firsts)):.0f}"
        " replies/s"
    )
    emit("outbox_backlog_s", statistics.median(totals), 2)
    emit("outbox_backlog_duplicates", wrong, 0)


# --------------------------------------------------------------------------- enqueue latency


def _enqueue_latencies(count: int, every_s: float) -> tuple[list[float], list[str], int]:
    """Each reply's commit in ms from ``ENQUEUERS`` processes beside a delivering
    collector (``every_s``: one reply per process every so often; 0: at once), the
    errors, and how many replies were delivered meanwhile."""
    with tempfile.TemporaryDirectory(prefix="sportello-outbox-") as tmp:
        folder = Path(tmp)
        config_path = folder / "config.yaml"
        write_yaml(outbox_config(folder, 2), config_path)
        asyncio.run(_poll_once(config_path))
        deliverer = _spawn(folder, "deliver", str(config_path))
        try:
            start_at = time.time() + 2.0  # every enqueuer has started and read the queue
            enqueuers = [
                _spawn(
                    folder,
                    "enqueue",
                    str(config_path),
                    f"p{i}@shop",
                    str(count),
                    str(start_at),
                    str(every_s),
                )
                for i in range(ENQUEUERS)
            ]
            results = []
            for process in enqueuers:
                out, err = process.communicate(timeout=300)
                if process.returncode != 0:
                    raise RuntimeError(f"an enqueuer failed: {err[-1500:]}")
                results.append(json.loads(out.strip().splitlines()[-1]))
            sent, _ = _sent_db(config_path)
        finally:
            _stop(deliverer)
    latencies = [v for r in results for v in r["latencies_ms"]]
    errors = [e for r in results for e in r["errors"]]
    return latencies, errors, sent


def run_enqueue(opts: Any) -> None:
    from bench.pty_driver import percentile
    from bench.scenarios import ScenarioFailed, emit, note

    count = 100 if opts.quick else ENQUEUES
    for every_s, name in ((0.0, "outbox_enqueue_p99_ms"), (PACE_S, "outbox_enqueue_paced_p99_ms")):
        try:
            latencies, errors, sent = _enqueue_latencies(count, every_s)
        except RuntimeError as exc:
            raise ScenarioFailed(f"{name}: {exc}") from exc
        if errors:
            note(f"{name}: {len(errors)} enqueues failed, such as: {errors[0]}")
        if not latencies:
            raise ScenarioFailed(f"{name}: no enqueue succeeded")
        pace = f"one every {every_s * 1000:.0f} ms each" if every_s else "as fast as they can"
        note(
            f"{name}: {len(latencies)} replies from {ENQUEUERS} processes, {pace};"
            f" median {statistics.median(latencies):.1f} ms,"
            f" p95 {percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms;"
            f" {sent} delivered meanwhile, {len(errors)} failed"
        )
        emit(name, percentile(latencies, 99), 2)


def main(argv: list[str]) -> int:
    mode, config_path = argv[0], Path(argv[1])
    if mode == "deliver":
        asyncio.run(_deliver(config_path))
    elif mode == "enqueue":
        who, count, start_at, every_s = argv[2], int(argv[3]), float(argv[4]), float(argv[5])
        result = asyncio.run(_enqueue(config_path, who, count, start_at, every_s))
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
