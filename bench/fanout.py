"""``fanout_lag_ratio``: 50 HTTP channels on loopback, 10 that never answer.

A small HTTP server runs in a process of its own (as a real server would be
elsewhere: its work does not share our interpreter): each healthy channel's
path answers a JSON queue, each silent channel's path accepts the connection,
reads the request and never replies, keeping the socket open until the client
gives up. The channels are polled by the real collector, in this process, with a
tiny JSON queue adapter (:class:`QueueAdapter`) whose only HTTP is
``context.http_client()``, so the SDK's HTTP policy (timeouts from the budget,
retries, breaker) is what is measured, with the collector's threads (one per
channel), its store (a real SQLite store in a temporary folder) and its backoff of
the failing channels.

Each channel polls every 2 s with a 1.5 s timeout; the run lasts 30 s (10 s with
``--quick``). Each refresh of a healthy channel (a successful poll, once stored:
the collector's ``on_change``) is stamped; the figure is the worst time between
two refreshes of any healthy channel, divided by the interval. The collector
schedules a channel's next poll when the previous one has ended, so a gap is the
interval plus that poll's own time (the fetch, then the store's writes): the ratio
is 1 + the slowest poll ÷ the interval.

    fanout_lag_ratio   worst healthy gap ÷ interval (target: ≤ 1.2)
    fanout_polls       successful polls of the healthy channels (how much the figure rests on)

On stderr: the median and 95th percentile gaps, the worst channel, what the
silent channels said and how often they were tried.

The collector runs with the interpreter's default switch interval (5 ms), as in
sportello; ``python -m bench`` lowers it for its pty reader, so it is restored for
this run and set back after.

Run as a module, this file is the server::

    python -m bench.fanout serve HEALTHY_CONVERSATIONS
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from bench.configs import REPO_ROOT
from sportello_sdk import (
    Adapter,
    ChannelContext,
    ChannelKind,
    ChannelState,
    Conversation,
    Customer,
    Option,
    OptionType,
    ProtocolError,
    Session,
)
from sportello_sdk.http import raise_for_status

if TYPE_CHECKING:
    from sportello.core.settings import Channel, Config

CHANNELS = 50
SILENT = 10
INTERVAL_S = 2.0
TIMEOUT_S = 1.5
RUN_S = 30.0  # quick: 10 s
CONVERSATIONS = 10  # waiting in each healthy channel's queue
SWITCH_INTERVAL_S = 0.005  # the interpreter's default, as sportello runs
SERVER_START_S = 30.0
ADAPTER_NAME = "bench-json-queue"

# --------------------------------------------------------------------------- the server


def _queue_body(channel: str, conversations: int, since: float) -> bytes:
    items = [
        {
            "id": f"{channel}-{n}",
            "customer": f"Cliente {n}",
            "subject": f"Ordine {channel} numero {n}",
            "waiting_since": since - 60.0 * (n + 1),
        }
        for n in range(conversations)
    ]
    return json.dumps(items).encode()


async def _serve(conversations: int) -> None:
    since = time.time()
    bodies: dict[str, bytes] = {}
    held: set[asyncio.StreamWriter] = set()  # silent connections, kept open

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                parts = head.split(b" ", 2)
                path = parts[1].decode("latin-1") if len(parts) > 2 else "/"
                if path.startswith("/silent/"):
                    held.add(writer)
                    await reader.read()  # until the client gives up and closes
                    return
                name = path.rpartition("/")[2]
                body = bodies.get(name)
                if body is None:
                    body = bodies[name] = _queue_body(name, conversations, since)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return
        finally:
            held.discard(writer)
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    async with server:
        await server.serve_forever()


def serve(conversations: int = CONVERSATIONS) -> None:
    """Run the server until killed; its first line on stdout is ``port N``."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(conversations))


@contextlib.contextmanager
def server(conversations: int = CONVERSATIONS) -> Iterator[int]:
    """The server in a child process, for the ``with`` block; yields its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.fanout", "serve", str(conversations)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = _read_line(process, SERVER_START_S)
        if not line.startswith("port "):
            raise RuntimeError(f"the bench server did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return f"(nothing within {timeout:g} s)"
    return process.stdout.readline().strip()


# --------------------------------------------------------------------------- the adapter


class QueueSession(Session):
    """GET the channel's URL, a JSON list of waiting conversations."""

    def __init__(self, context: ChannelContext) -> None:
        self.url: str = context.options["url"]
        self.client = context.http_client()

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        response = await self.client.get(self.url)
        raise_for_status(response)
        try:
            items = response.json()
            conversations = tuple(_conversation(item) for item in items)
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolError(f"not a JSON queue: {type(exc).__name__}") from None
        return ChannelState(conversations=conversations, complete=True)

    async def aclose(self) -> None:
        await self.client.aclose()


def _conversation(item: Mapping[str, Any]) -> Conversation:
    since = datetime.fromtimestamp(float(item["waiting_since"]), UTC)
    return Conversation(
        external_id=str(item["id"]),
        customer=Customer(name=str(item["customer"])),
        subject=str(item["subject"]),
        first_customer_message_at=since,
        waiting_since=since,
    )


class QueueAdapter(Adapter):
    """A JSON queue over HTTP, for the fan-out benchmark."""

    name: ClassVar[str] = ADAPTER_NAME
    description: ClassVar[str] = "a JSON queue over HTTP (benchmark)"
    kind: ClassVar[ChannelKind] = ChannelKind.CHAT
    default_expectation: ClassVar[timedelta] = timedelta(minutes=5)
    options: ClassVar[tuple[Option, ...]] = (
        Option("url", OptionType.STR, required=True, description="the queue's URL"),
    )

    @classmethod
    async def connect(cls, context: ChannelContext) -> QueueSession:
        return QueueSession(context)


# --------------------------------------------------------------------------- the run


@dataclass
class Fanout:
    """What one run saw: per channel, the monotonic times of its refreshes."""

    interval_s: float
    healthy: list[str]
    silent: list[str]
    refreshed: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # the first error of each
    store_errors: list[str] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    started: float = 0.0  # monotonic, when the collector started
    warnings: list[tuple[float, str]] = field(default_factory=list)  # (since start, message)

    def gaps(self, channel: str) -> list[float]:
        times = self.refreshed.get(channel, [])
        return [b - a for a, b in itertools.pairwise(times)]

    def healthy_gaps(self) -> list[float]:
        return [gap for channel in self.healthy for gap in self.gaps(channel)]

    def worst(self) -> tuple[str, float] | None:
        found = [(max(self.gaps(c)), c) for c in self.healthy if self.gaps(c)]
        if not found:
            return None
        gap, channel = max(found)
        return channel, gap

    @property
    def healthy_polls(self) -> int:
        return sum(len(self.refreshed.get(c, [])) for c in self.healthy)


def fanout_config(
    store_path: Path, urls: Mapping[str, str], interval_s: float, timeout_s: float
) -> Config:
    """A config of one :class:`QueueAdapter` channel per (id → URL), 24/7."""
    from sportello.core.settings import Business, Channel, Config, OpenHours

    rome = ZoneInfo("Europe/Rome")
    hours = OpenHours(weekly=tuple(() for _ in range(7)), timezone=rome)
    channels = tuple(
        Channel(
            id=cid,
            label=cid,
            adapter=ADAPTER_NAME,
            expectation=timedelta(minutes=5),
            hours=None,
            poll_interval=timedelta(seconds=interval_s),
            timeout=timedelta(seconds=timeout_s),
            options={"url": url},
        )
        for cid, url in urls.items()
    )
    return Config(
        business=Business(name="Bench shop", timezone=rome, hours=hours),
        channels=channels,
        store_path=store_path,
    )


async def run_channels(
    port: int,
    folder: Path,
    *,
    channels: int,
    silent: int,
    interval_s: float,
    timeout_s: float,
    seconds: float,
) -> Fanout:
    """Poll ``channels`` channels of the server on ``port`` (the last ``silent`` of
    them silent) with the real collector for ``seconds``; what it saw."""
    from sportello.core.collector import Collector
    from sportello.core.store import Store

    names = [f"ch-{n:02d}" for n in range(1, channels + 1)]
    quiet = names[channels - silent :]
    urls = {
        cid: f"http://127.0.0.1:{port}/{'silent' if cid in quiet else 'queue'}/{cid}"
        for cid in names
    }
    result = Fanout(interval_s, [c for c in names if c not in quiet], quiet)
    config = fanout_config(folder / "store.db", urls, interval_s, timeout_s)

    def load(name: str) -> type[Adapter]:
        return QueueAdapter

    def resolve(channel: Channel, cls: type[Adapter]) -> dict[str, Any]:
        return dict(channel.options)

    async with await Store.open(config.store_path) as store:
        collector: Collector | None = None

        def changed(cid: str) -> None:
            stamp = time.monotonic()
            assert collector is not None
            run = collector.runs.get(cid)
            if run is None:
                return
            if collector.store_error is not None:
                result.store_errors.append(collector.store_error)
            elif run.failures == 0:
                result.refreshed.setdefault(cid, []).append(stamp)
            else:
                result.failed[cid] = result.failed.get(cid, 0) + 1
                if run.last_error and cid not in result.errors:
                    result.errors[cid] = run.last_error

        collector = Collector(config, store, loader=load, resolver=resolve, on_change=changed)
        result.started = time.monotonic()
        capture = _Capture(result)
        logging.getLogger("sportello").addHandler(capture)
        task = asyncio.create_task(collector.run())
        try:
            done, _ = await asyncio.wait({task}, timeout=seconds)
            if done:  # it should run until cancelled
                task.result()
                raise RuntimeError("the collector stopped by itself")
        finally:
            task.cancel()
            await asyncio.wait({task}, timeout=10)
            result.left_behind = await collector.aclose()
            logging.getLogger("sportello").removeHandler(capture)
    return result


class _Capture(logging.Handler):
    """The collector's warnings, kept for the report instead of printed as they come."""

    def __init__(self, result: Fanout) -> None:
        super().__init__(logging.WARNING)
        self.result = result

    def emit(self, record: logging.LogRecord) -> None:
        since = time.monotonic() - self.result.started
        self.result.warnings.append((since, record.getMessage()))


def measure(
    *,
    channels: int = CHANNELS,
    silent: int = SILENT,
    interval_s: float = INTERVAL_S,
    timeout_s: float = TIMEOUT_S,
    seconds: float = RUN_S,
    conversations: int = CONVERSATIONS,
) -> Fanout:
    """Start the server, run the channels against it, stop it; what the run saw."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="sportello-fanout-") as tmp,
            server(conversations) as port,
        ):
            return asyncio.run(
                run_channels(
                    port,
                    Path(tmp),
                    channels=channels,
                    silent=silent,
                    interval_s=interval_s,
                    timeout_s=timeout_s,
                    seconds=seconds,
                )
            )
    finally:
        sys.setswitchinterval(previous)


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_fanout(opts: Any) -> None:
    from bench.scenarios import ScenarioFailed, emit, note

    seconds = 10.0 if opts.quick else RUN_S
    result = measure(seconds=seconds)
    worst = result.worst()
    never = [c for c in result.healthy if len(result.refreshed.get(c, [])) < 2]
    answered = [c for c in result.silent if result.refreshed.get(c)]
    tried = sum(result.failed.get(c, 0) for c in result.silent)
    said = sorted({result.errors[c] for c in result.silent if c in result.errors})
    note(
        f"fanout: {len(result.healthy)} healthy and {len(result.silent)} silent channels,"
        f" every {result.interval_s:g} s (timeout {TIMEOUT_S:g} s) for {seconds:g} s;"
        f" silent channels tried {tried} times in all, saying {said[:2]}"
    )
    if result.store_errors:
        note(f"fanout: the store failed {len(result.store_errors)} times: {result.store_errors[0]}")
    if result.warnings:
        when = [f"{t:.1f}s {m}" for t, m in result.warnings[:3]]
        note(f"fanout: {len(result.warnings)} warnings of the collector, first: {when}")
    if result.left_behind:
        note(f"fanout: adapters left behind at the end: {result.left_behind}")
    if answered:
        raise ScenarioFailed(f"fanout: silent channels answered: {answered}")
    if worst is None or never:
        raise ScenarioFailed(f"fanout: healthy channels refreshed fewer than twice: {never}")
    gaps = result.healthy_gaps()
    channel, gap = worst
    note(
        f"fanout: gaps between refreshes ÷ interval: median"
        f" {statistics.median(gaps) / result.interval_s:.3f},"
        f" p95 {_quantile(gaps, 0.95) / result.interval_s:.3f},"
        f" p99 {_quantile(gaps, 0.99) / result.interval_s:.3f};"
        f" worst {gap:.3f} s on {channel}"
    )
    emit("fanout_lag_ratio", gap / result.interval_s, 3)
    emit("fanout_polls", result.healthy_polls, 0)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]) if len(sys.argv) > 2 else CONVERSATIONS)
    else:
        sys.exit("usage: python -m bench.fanout serve [CONVERSATIONS]")
