"""The other processes of the outbox's crash tests (tests/test_outbox_crash.py).

Run with ``sys.executable``; nothing here imports Textual::

    python tests/outbox_child.py poll     CONFIG
    python tests/outbox_child.py deliver  CONFIG [--fault F --at N --fault-file P]
                                                 [--no-lookup] [--until-idle]
    python tests/outbox_child.py enqueue  CONFIG --who W (--count N | --seconds S
                                                 | --stop-file P) [--every S] [--start-at T]
    python tests/outbox_child.py soak     CONFIG --kills N --seed S

``poll`` fills the store with one poll of every channel. ``deliver`` takes the
store's lead and runs the real :class:`~sportello.core.collector.Collector` (and so the
real :class:`~sportello.core.delivery.Deliverer`) until it is killed, or with
``--until-idle`` until nothing is left to deliver. A fault is injected here, by
monkeypatching, never by hooks in production code: at the ``--at``-th call the
process SIGKILLs itself

- ``before_act``: the claim is committed and the adapter is about to be called;
- ``after_accept``: the demo channel accepted (its record line is fsynced) and
  the sent mark is not committed yet;
- ``mark_tx``: inside the transaction that marks it sent, before its COMMIT;
- ``mark_thread``: from another thread, a random 0-4 ms after the mark begins:
  before, during or after its COMMIT.

The action cut off is written to ``--fault-file`` first. ``--no-lookup`` makes
the demo adapter unable to look actions up, so that what was cut off becomes
'unknown'. ``enqueue`` makes replies through :class:`~sportello.core.desk.Desk`, each
committed on its own, and prints one JSON object: the keys committed, the
errors and each commit's latency. ``soak`` forks a delivering worker again and
again and SIGKILLs it after a random delay; it prints how many it killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sportello.core import store_outbox
from sportello.core.collector import Collector
from sportello.core.config import load_config
from sportello.core.desk import Desk, DeskError
from sportello.core.outbox import Action, State
from sportello.core.settings import Config
from sportello.core.store import Store, StoreError
from sportello.core.store_contract import Delivery
from sportello_demo.adapter import DemoAdapter, DemoSession
from sportello_sdk.models import ActionRequest, ActionResult

FAULTS = ("before_act", "after_accept", "mark_tx", "mark_thread")
IDLE_S = 0.4  # nothing to deliver for this long (twice in a row): done


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def note_fault(path: Path | None, what: str, key: str) -> None:
    if path is None:
        return
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"fault": what, "key": key}, handle)
        handle.flush()
        os.fsync(handle.fileno())


def install_fault(fault: str, at: int, fault_file: Path | None, rng: random.Random) -> None:
    calls = 0

    def due() -> bool:
        """True once, at the ``at``-th call: a fault that kills a moment later
        (mark_thread) must not be noted again by the next call, whose note would
        empty the file just as the kill lands."""
        nonlocal calls
        calls += 1
        return calls == at

    if fault in ("before_act", "after_accept"):
        act = DemoSession.act

        async def faulty_act(self: DemoSession, request: ActionRequest) -> ActionResult:
            if fault == "before_act" and due():
                note_fault(fault_file, fault, request.idempotency_key)
                die()
            result = await act(self, request)
            if fault == "after_accept" and due():
                note_fault(fault_file, fault, request.idempotency_key)
                die()
            return result

        DemoSession.act = faulty_act  # type: ignore[method-assign]
    elif fault == "mark_tx":
        apply = store_outbox._apply

        async def faulty_apply(conn: Any, action: Action, delivery: Delivery) -> None:
            await apply(conn, action, delivery)
            if due():
                note_fault(fault_file, fault, action.key)
                die()  # the CAS and the message are written; COMMIT is not

        store_outbox._apply = faulty_apply
    elif fault == "mark_thread":
        deliver = Store.deliver

        async def faulty_deliver(self: Store, new: Action, delivery: Delivery) -> bool:
            if due():
                note_fault(fault_file, fault, new.key)
                threading.Timer(rng.uniform(0.0, 0.004), die).start()
            return await deliver(self, new, delivery)

        Store.deliver = faulty_deliver  # type: ignore[method-assign,assignment]
    elif fault != "none":
        raise SystemExit(f"unknown fault {fault!r}")


async def lead(store: Store) -> None:
    for _ in range(200):  # a worker just killed may still be on its way out
        if store.try_lead():
            return
        await asyncio.sleep(0.05)
    raise SystemExit("could not take the store's lead")


async def nothing_to_deliver(store: Store) -> bool:
    now = time.time()
    active = await store.actions(states=(State.PENDING, State.SENDING, State.FAILED))
    return not any(
        a.state is not State.FAILED or (a.retryable and (a.next_try_at or 0) <= now + 60)
        for a in active
    )


async def deliver(config: Config, *, lookup: bool, until_idle: bool) -> None:
    if not lookup:
        DemoAdapter.capabilities = replace(DemoAdapter.capabilities, lookup=False)
    async with await Store.open(config.store_path) as store:
        await lead(store)
        collector = Collector(config, store)
        task = asyncio.create_task(collector.run(), name="collector")
        try:
            while True:
                await asyncio.sleep(IDLE_S)
                if task.done():
                    task.result()  # the collector failed: say how
                    return
                if not until_idle or collector.deliverer is None:
                    continue
                if await nothing_to_deliver(store):
                    await asyncio.sleep(IDLE_S)
                    if await nothing_to_deliver(store):
                        return
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await collector.aclose()
            store.release_lead()


async def poll(config: Config) -> None:
    async with await Store.open(config.store_path) as store:
        collector = Collector(config, store)
        await collector.poll_once()
        await collector.aclose()


async def enqueue(
    config: Config,
    who: str,
    count: int,
    seconds: float,
    every: float,
    start_at: float,
    stop_file: Path | None,
) -> dict[str, Any]:
    keys: list[str] = []
    errors: list[str] = []
    latencies: list[float] = []
    async with await Store.open(config.store_path) as store:
        desk = Desk(config, lambda: store, clock=time.time, who=who)
        items = await store.waiting()
        if not items:
            raise SystemExit("nothing waiting: poll first")
        await asyncio.sleep(max(0.0, start_at - time.time()))  # all enqueuers together
        began = time.monotonic()
        deadline = began + seconds if seconds else None
        n = 0
        while (
            (stop_file is not None and not stop_file.exists())  # noqa: ASYNC240 (one stat)
            or (deadline is not None and time.monotonic() < deadline)
            or (stop_file is None and deadline is None and n < count)
        ):
            item = items[n % len(items)]
            n += 1
            if every:  # the n-th reply at n × every, however long the last one took
                await asyncio.sleep(max(0.0, began + n * every - time.monotonic()))
            started = time.perf_counter()
            try:
                action = await desk.reply(item, f"{who}: risposta {n}")
            except (DeskError, StoreError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append((time.perf_counter() - started) * 1000.0)
            keys.append(action.key)
    return {"keys": keys, "errors": errors, "latencies_ms": latencies}


def soak(config_path: Path, kills: int, seed: int, low: float, high: float) -> dict[str, Any]:
    """Fork a delivering worker, SIGKILL it after a random delay; ``kills`` times."""
    rng = random.Random(seed)
    config = load_config(config_path)
    killed = exited = 0
    statuses: list[int] = []
    for _ in range(kills):
        lookup = rng.random() < 0.5
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker: a fresh event loop and store, then deliver
            code = 0
            try:
                asyncio.run(deliver(config, lookup=lookup, until_idle=False))
            except BaseException:
                code = 3
            os._exit(code)
        time.sleep(rng.uniform(low, high))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed += 1
        else:
            exited += 1
            statuses.append(status)
    return {"killed": killed, "exited": exited, "statuses": statuses[:5]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("poll", "deliver", "enqueue", "soak"))
    parser.add_argument("config", type=Path)
    parser.add_argument("--fault", choices=("none", *FAULTS), default="none")
    parser.add_argument("--at", type=int, default=1)
    parser.add_argument("--fault-file", type=Path)
    parser.add_argument("--no-lookup", action="store_true")
    parser.add_argument("--until-idle", action="store_true")
    parser.add_argument("--who", default="anna@shop")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--every", type=float, default=0.0)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--stop-file", type=Path)
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--delay", type=float, nargs=2, default=(0.005, 0.1))
    args = parser.parse_args(argv)
    config = load_config(args.config)
    if args.mode == "poll":
        asyncio.run(poll(config))
    elif args.mode == "deliver":
        install_fault(args.fault, args.at, args.fault_file, random.Random(args.seed))
        asyncio.run(deliver(config, lookup=not args.no_lookup, until_idle=args.until_idle))
    elif args.mode == "enqueue":
        result = asyncio.run(
            enqueue(
                config,
                args.who,
                args.count,
                args.seconds,
                args.every,
                args.start_at,
                args.stop_file,
            )
        )
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        low, high = args.delay
        sys.stdout.write(json.dumps(soak(args.config, args.kills, args.seed, low, high)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
