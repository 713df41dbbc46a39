"""The scale scenario with live polling: keys, RSS and collector CPU over poll cycles.

``scale`` seeds its store with a poll interval of a day, so nothing is polled
while it measures. Here the store is seeded the same way (20 demo channels whose
``scale`` sums to 100,000) but with a realistic poll interval (60 s; 30 s with
``--quick``), and the dashboard, as the store's collector, polls while a key is
pressed every 250 ms for 4 poll cycles (2 with ``--quick``). The cycles are read
from the store's ``polls`` table (read-only, once a second): cycle *k* is over
when every channel has finished its *k*-th poll started after the keys began.

    scale_live_key_max_ms      worst key → frame over the cycles    (target ≤ 100)
    scale_live_key_p99_ms      …its 99th percentile                  (target ≤ 50)
    scale_live_key_p95_ms      …its 95th percentile
    scale_live_rss_growth_pct  VmRSS after the last cycle vs after the first (≤ 10)
    scale_live_rss_mib         VmRSS after the last cycle            (target ≤ 120)
    scale_full_queue_s         start → "Queue · 100,000 waiting" (the whole queue)
    scale_full_queue_bare_s    the bare app's first frame, beside it
    scale_live_cycle_cpu_s     CPU of the dashboard's process in one cycle (20 polls,
                               their writes, the board after them) minus its idle
                               baseline (keys included in both). The collector's own
                               collector_cpu_per_poll_s (one 100k channel, in-process)
                               is bench/writes.py's.

``BENCH_SCALE=1000000`` runs it at a million conversations and prints the same
names with a ``_1m`` suffix (another size: ``_<N>``). ``BENCH_LIVE_INTERVAL``
(seconds), ``BENCH_LIVE_CYCLES`` and ``BENCH_LIVE_TIMEOUT`` (a duration) override
the interval, the cycle count and the poll timeout (above 100k: 5m);
``BENCH_LIVE_PYSPY=FILE`` records the dashboard with py-spy (speedscope JSON)
while the keys are pressed.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.bare_app import bare_ready
from bench.configs import (
    REPO_ROOT,
    ConfigProblem,
    live_scale_config,
    load_yaml,
    shipped_template,
    write_yaml,
)
from bench.pty_driver import KEYS, PtyError, PtySession, percentile
from bench.scenarios import (
    COLS,
    QUEUE_MARKER,
    QUIT_KEY,
    ROWS,
    Options,
    ScenarioFailed,
    _fail,
    _isolated_env,
    _require_sportello,
    bare_argv,
    emit,
    first_frame_ms,
    note,
    sportello_argv,
    sportello_bin,
)

CHANNELS = 20
DEFAULT_SCALE = 100_000
KEY_EVERY_S = 0.25
KEY_TIMEOUT_S = 5.0
TAIL_S = 8.0  # after a cycle's last poll: the board it causes is part of the cycle


@dataclass(frozen=True, slots=True)
class LiveSetup:
    conversations: int
    interval_s: float
    cycles: int
    suffix: str
    poll_timeout: str | None  # None: the default (30 s)
    service: bool = True  # `sportello collect` polls; the dashboard views

    @property
    def per_channel(self) -> int:
        return self.conversations // CHANNELS


def live_setup(opts: Options, environ: dict[str, str] | None = None) -> LiveSetup:
    """Size, interval and cycles from the options and the BENCH_* variables."""
    env = os.environ if environ is None else environ
    conversations = int(env.get("BENCH_SCALE") or DEFAULT_SCALE)
    if conversations < CHANNELS:
        raise ScenarioFailed(f"BENCH_SCALE={conversations}: at least one per channel")
    if conversations == DEFAULT_SCALE:
        suffix = ""
    elif conversations == 1_000_000:
        suffix = "_1m"
    else:
        suffix = f"_{conversations}"
    interval = float(env.get("BENCH_LIVE_INTERVAL") or (30.0 if opts.quick else 60.0))
    cycles = int(env.get("BENCH_LIVE_CYCLES") or (2 if opts.quick else 4))
    # A poll of 50,000 conversations (1M on 20 channels) takes more than the
    # default 30 s here: only 3 of 20 channels were read in the first 1M run.
    timeout = env.get("BENCH_LIVE_TIMEOUT") or (None if conversations <= DEFAULT_SCALE else "5m")
    service = (env.get("BENCH_LIVE_SETUP") or "service") != "dashboard"
    if not service:
        suffix = f"_self{suffix}"
    return LiveSetup(conversations, interval, max(1, cycles), suffix, timeout, service)


def full_queue_shown(screen_text: str, conversations: int) -> bool:
    """The queue's title shows the whole queue: "Queue · 100,000 waiting", not
    "reading the whole queue…" nor a filtered "N of M"."""
    for line in screen_text.splitlines():
        if QUEUE_MARKER in line and " waiting" in line:
            return (
                f"{conversations:,} waiting" in line
                and "reading" not in line
                and " of " not in line
            )
    return False


def read_stat_cpu_s(pid: int) -> float | None:
    """utime + stime of ``pid`` in seconds, from /proc/PID/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def read_rss_mib(pid: int) -> float | None:
    """VmRSS of ``pid`` in MiB, from /proc/PID/status."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return None


@dataclass(frozen=True, slots=True)
class Poll:
    channel: str
    started: float  # wall clock (time.time()), as the store keeps it
    finished: float


def read_polls(store: Path, since: float) -> list[Poll]:
    """Polls started at or after ``since``, from the store, read-only."""
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return []
    try:
        rows = conn.execute(
            "SELECT channel_id, started_at, finished_at FROM polls"
            " WHERE started_at >= ? ORDER BY started_at",
            (since,),
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [Poll(str(c), float(s), float(f)) for c, s, f in rows]


@dataclass(frozen=True, slots=True)
class Cycle:
    started: float  # the first of its polls to start
    finished: float  # the last of its polls to finish


def cycles_of(polls: Sequence[Poll], channels: int) -> list[Cycle]:
    """Complete cycles: the k-th cycle takes each channel's k-th poll; it is
    complete once ``channels`` channels have one."""
    per_channel: dict[str, list[Poll]] = {}
    for poll in sorted(polls, key=lambda p: p.started):
        per_channel.setdefault(poll.channel, []).append(poll)
    if len(per_channel) < channels:
        return []
    depth = min(len(v) for v in per_channel.values())
    return [
        Cycle(
            min(v[k].started for v in per_channel.values()),
            max(v[k].finished for v in per_channel.values()),
        )
        for k in range(depth)
    ]


@dataclass(frozen=True, slots=True)
class Tick:
    wall: float
    cpu_s: float
    rss_mib: float


def cpu_between(ticks: Sequence[Tick], start: float, end: float) -> tuple[float, float]:
    """(CPU seconds, wall seconds) between the ticks nearest ``start`` and ``end``."""
    walls = [t.wall for t in ticks]
    i = min(bisect_left(walls, start), len(ticks) - 1)
    j = min(bisect_left(walls, end), len(ticks) - 1)
    if j <= i:
        return 0.0, 0.0
    return ticks[j].cpu_s - ticks[i].cpu_s, ticks[j].wall - ticks[i].wall


def idle_rate(ticks: Sequence[Tick], busy: Sequence[tuple[float, float]]) -> float | None:
    """CPU seconds per second over the ticks outside every ``busy`` span."""
    cpu = wall = 0.0
    for a, b in itertools.pairwise(ticks):
        if any(s <= b.wall and a.wall <= e for s, e in busy):
            continue
        cpu += b.cpu_s - a.cpu_s
        wall += b.wall - a.wall
    return cpu / wall if wall >= 5.0 else None


def rss_after(ticks: Sequence[Tick], cycles: Sequence[Cycle], k: int) -> float:
    """VmRSS after cycle ``k``: the last sample before the next cycle starts (or the last)."""
    limit = cycles[k + 1].started if k + 1 < len(cycles) else float("inf")
    before = [t.rss_mib for t in ticks if cycles[k].finished <= t.wall < limit]
    return before[-1] if before else ticks[-1].rss_mib


@dataclass
class KeyLog:
    sent: list[float] = field(default_factory=list)  # wall clock
    ms: list[float] = field(default_factory=list)
    missing: list[float] = field(default_factory=list)


def _seed(folder: Path, setup: LiveSetup) -> Path:
    """Write the config and fill the store with one poll of every channel, as
    bench/seed_store.py does (its config, with this interval and poll timeout)."""
    config_path = folder / "config.yaml"
    try:
        config = live_scale_config(
            shipped_template(),
            (folder / "store.db").resolve(),
            CHANNELS,
            scale=setup.per_channel,
            poll_interval=f"{setup.interval_s:g}s",
            timeout=setup.poll_timeout,
        )
    except ConfigProblem as exc:
        raise ScenarioFailed(str(exc)) from exc
    write_yaml(config, config_path)
    code = (
        "import asyncio, sys; from bench.seed_store import seed; "
        "print(asyncio.run(seed(__import__('pathlib').Path(sys.argv[1]))))"
    )
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(config_path)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ScenarioFailed("seeding the store took more than an hour") from exc
    if done.returncode != 0:
        raise ScenarioFailed(f"seeding failed (status {done.returncode}): {done.stderr[-1500:]}")
    waiting = int(done.stdout.strip().splitlines()[-1])
    note(
        f"scale_live{setup.suffix}: store seeded with {waiting:,} waiting in "
        f"{time.perf_counter() - started:.1f}s"
        + (f" (poll timeout {setup.poll_timeout})" if setup.poll_timeout else "")
    )
    if waiting != setup.per_channel * CHANNELS:
        raise ScenarioFailed(
            f"seeding gave {waiting:,} waiting, not {setup.per_channel * CHANNELS:,} "
            f"(a channel's poll failed: {done.stderr.strip()[-800:]})"
        )
    return config_path


def _start_pyspy(pid: int, seconds: float) -> subprocess.Popen[bytes] | None:
    target = os.environ.get("BENCH_LIVE_PYSPY")
    if not target:
        return None
    py_spy = Path(sys.executable).with_name("py-spy")
    argv = [str(py_spy), "record", "--pid", str(pid), "--format", "speedscope"]
    argv += ["--output", target, "--duration", str(int(seconds)), "--rate", "50", "--nonblocking"]
    note(f"scale_live: py-spy records the dashboard into {target}")
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _press_keys(
    s: PtySession, store: Path, setup: LiveSetup, what: str
) -> tuple[KeyLog, list[Tick], list[Cycle], list[Poll]]:
    """A key every 250 ms until ``setup.cycles`` cycles are over (and their boards)."""
    keys = KeyLog()
    ticks: list[Tick] = []
    began = time.time()
    give_up = began + (setup.cycles + 2) * setup.interval_s + 600.0
    polls: list[Poll] = []
    cycles: list[Cycle] = []
    next_poll_read = 0.0
    done_at: float | None = None
    pyspy = _start_pyspy(s.pid, (setup.cycles + 1) * setup.interval_s + 60.0)
    count = 0
    try:
        while True:
            now = time.time()
            cpu, rss = read_stat_cpu_s(s.pid), read_rss_mib(s.pid)
            if cpu is None or rss is None or not s.alive:
                raise ScenarioFailed(f"{what}: sportello exited while the keys were pressed")
            ticks.append(Tick(now, cpu, rss))
            if now >= next_poll_read:
                polls = read_polls(store, began)
                cycles = cycles_of(polls, CHANNELS)
                next_poll_read = now + 1.0
                if done_at is None and len(cycles) >= setup.cycles:
                    done_at = cycles[setup.cycles - 1].finished + min(TAIL_S, setup.interval_s / 3)
            if done_at is not None and now >= done_at:
                break
            if now >= give_up:
                raise ScenarioFailed(
                    f"{what}: {len(cycles)} of {setup.cycles} poll cycles in "
                    f"{now - began:.0f}s ({len(polls)} polls)"
                )
            # ↓ mostly, ↑ now and then: the cursor walks the queue, never at an end.
            key = "up" if count % 10 == 9 else "down"
            count += 1
            sent_wall = time.time()
            latency = s.press(KEYS[key], quiet_s=0.02, timeout=KEY_TIMEOUT_S)
            if latency is None:
                keys.missing.append(sent_wall)
            else:
                keys.sent.append(sent_wall)
                keys.ms.append(latency * 1000.0)
            wait = sent_wall + KEY_EVERY_S - time.time()
            if wait > 0:
                s.pump(wait)
    finally:
        if pyspy is not None:  # SIGINT: py-spy writes what it has recorded (SIGTERM: nothing)
            _end(pyspy, signal.SIGINT, 20.0)
    return keys, ticks, cycles[: setup.cycles], polls


def _near(at: float, polls: Sequence[Poll]) -> str:
    """Where ``at`` falls against the polls: inside one, or how long after the last."""
    running = [p for p in polls if p.started <= at <= p.finished]
    if running:
        return f"during {len(running)} polls"
    ended = [p.finished for p in polls if p.finished < at]
    if ended:
        return f"{at - max(ended):.1f}s after a poll ended"
    return "before any poll"


def _report(
    setup: LiveSetup,
    keys: KeyLog,
    ticks: Sequence[Tick],
    cycles: Sequence[Cycle],
    polls: Sequence[Poll],
    peak_mib: float,
) -> None:
    sfx = setup.suffix
    if keys.missing:
        note(f"scale_live{sfx}: {len(keys.missing)} keys got no frame within {KEY_TIMEOUT_S:g}s")
    if not keys.ms:
        raise ScenarioFailed("scale_live: no key caused a frame")
    began = ticks[0].wall
    worst = sorted(zip(keys.ms, keys.sent, strict=True), reverse=True)[:8]
    note(
        f"scale_live{sfx}: {len(keys.ms)} keys over {len(cycles)} cycles, "
        f"median {statistics.median(keys.ms):.1f}ms; worst: "
        + "; ".join(f"{ms:.0f}ms at +{t - began:.1f}s ({_near(t, polls)})" for ms, t in worst)
    )
    for k, c in enumerate(cycles):
        note(
            f"scale_live{sfx}: cycle {k + 1}: polls +{c.started - began:.1f}s → "
            f"+{c.finished - began:.1f}s, RSS after {rss_after(ticks, cycles, k):.1f} MiB"
        )
    emit(f"scale_live_key_max_ms{sfx}", max(keys.ms))
    emit(f"scale_live_key_p99_ms{sfx}", percentile(keys.ms, 99))
    emit(f"scale_live_key_p95_ms{sfx}", percentile(keys.ms, 95))
    note("scale_live: targets key max ≤ 100 ms, p99 ≤ 50 ms (issue 14)")

    first, last = rss_after(ticks, cycles, 0), rss_after(ticks, cycles, len(cycles) - 1)
    emit(f"scale_live_rss_growth_pct{sfx}", (last - first) / first * 100.0)
    emit(f"scale_live_rss_mib{sfx}", last)
    note(
        f"scale_live{sfx}: VmRSS {first:.1f} → {last:.1f} MiB after cycles 1 → {len(cycles)}, "
        f"peak (VmHWM) {peak_mib:.1f} MiB; targets growth ≤ 10 %, "
        f"≤ 120 MiB at 100k, ≤ 800 MiB at 1M"
    )

    busy = [(p.started - 0.5, p.finished + TAIL_S) for p in polls]
    rate = idle_rate(ticks, busy)
    if rate is None:
        note(
            f"scale_live{sfx}: no scale_live_cycle_cpu_s: less than 5 s without a poll "
            "to take the idle baseline from (the interval is too short for the cycle)"
        )
        return
    per_cycle = []
    for c in cycles:
        cpu, wall = cpu_between(ticks, c.started - 0.5, c.finished + TAIL_S)
        per_cycle.append(cpu - rate * wall)
    note(
        f"scale_live{sfx}: idle baseline (keys every {KEY_EVERY_S:g}s) {rate * 100:.1f}% CPU; "
        "per cycle, CPU minus it: " + ", ".join(f"{v:.2f}s" for v in per_cycle)
    )
    emit(f"scale_live_cycle_cpu_s{sfx}", statistics.median(per_cycle), 2)
    note(
        "scale_live: scale_live_cycle_cpu_s is the whole cycle in the dashboard's process "
        f"(20 polls, their writes and the board after them, {TAIL_S:g}s tail)"
    )


def run_scale_live(opts: Options) -> None:
    """100,000 conversations polled every 60 s while keys are pressed."""
    _require_sportello()
    try:
        shipped_template()
    except ConfigProblem as exc:
        raise ScenarioFailed(str(exc)) from exc
    setup = live_setup(opts)
    what = f"sportello ({setup.conversations:,} conversations, live)"
    note(
        f"scale_live{setup.suffix}: {setup.conversations:,} conversations on {CHANNELS} "
        f"channels, polled every {setup.interval_s:g}s, {setup.cycles} cycles"
    )
    with tempfile.TemporaryDirectory(prefix="sportello-bench-") as tmp:
        folder = Path(tmp)
        config_path = _seed(folder, setup)
        store = Path(str(load_yaml(config_path)["store"]["path"]))
        env = _isolated_env(folder)
        bare_ms = [first_frame_ms(bare_argv(), bare_ready, what="bare app", timeout=30)]
        seeded_polls = read_polls(store, 0.0)
        service = _start_service(config_path, store, env, folder) if setup.service else None
        try:
            full_s, keys, ticks, cycles, polls, peak = _watch_dashboard(
                config_path, env, store, setup, seeded_polls, what
            )
        finally:
            if service is not None:
                _stop_service(service, setup, folder)
        for _ in range(2):
            bare_ms.append(first_frame_ms(bare_argv(), bare_ready, what="bare app", timeout=30))
    emit(f"scale_full_queue_s{setup.suffix}", full_s, 2)
    emit(f"scale_full_queue_bare_s{setup.suffix}", statistics.median(bare_ms) / 1000.0, 2)
    note(
        f"scale_live: scale_full_queue_s is start → the title shows every conversation; "
        f"bare first frames ms {[round(v) for v in bare_ms]}; target at 1M first frame ≤ 2× bare"
    )
    _report(setup, keys, ticks, cycles, polls, peak)


def _start_service(
    config_path: Path, store: Path, env: dict[str, str], folder: Path
) -> subprocess.Popen[bytes]:
    """`sportello collect` on the store, as the README's service does."""
    log = (folder / "collect.log").open("wb")
    proc = subprocess.Popen(
        [str(sportello_bin()), "--config", str(config_path), "collect"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:  # the service holds the lead before the dashboard starts
        if proc.poll() is not None:
            tail = (folder / "collect.log").read_text(errors="replace")[-800:]
            raise ScenarioFailed(f"sportello collect exited ({proc.returncode}): {tail}")
        if _collector_pid(store) == proc.pid:
            return proc
        time.sleep(0.2)
    proc.kill()
    raise ScenarioFailed("sportello collect did not take the store's lead within 60 s")


def _collector_pid(store: Path) -> int | None:
    """The pid the store says holds its lead (None: none or unreadable)."""
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT pid FROM collector").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return int(row[0]) if row else None


def _end(proc: subprocess.Popen[bytes], sig: int, grace_s: float) -> None:
    """Send ``sig``; kill ``proc`` if it has not exited within ``grace_s``."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _stop_service(proc: subprocess.Popen[bytes], setup: LiveSetup, folder: Path) -> None:
    cpu, rss = read_stat_cpu_s(proc.pid), read_rss_mib(proc.pid)
    _end(proc, signal.SIGTERM, 30.0)
    if cpu is not None and rss is not None:
        note(
            f"scale_live{setup.suffix}: the `collect` service used {cpu:.1f}s CPU in all, "
            f"VmRSS {rss:.1f} MiB at the end (exit {proc.returncode})"
        )


def _watch_dashboard(
    config_path: Path,
    env: dict[str, str],
    store: Path,
    setup: LiveSetup,
    seeded_polls: list[Poll],
    what: str,
) -> tuple[float, KeyLog, list[Tick], list[Cycle], list[Poll], float]:
    with PtySession(
        sportello_argv(config_path),
        cols=COLS,
        rows=ROWS,
        env=env,
        cwd=REPO_ROOT,
        quit_key=QUIT_KEY,
    ) as s:
        try:
            full = s.wait_for(
                lambda text: full_queue_shown(text, setup.per_channel * CHANNELS),
                600.0,
            )
        except PtyError as exc:
            raise _fail(what, exc) from exc
        full_s = full - s.started_at
        wall_start = time.time() - (time.perf_counter() - s.started_at)
        early = [p for p in read_polls(store, 0.0) if p not in seeded_polls]
        if early:
            note(
                f"scale_live{setup.suffix}: {len(early)} polls started before the whole "
                f"queue was on screen (the first at +{early[0].started - wall_start:.1f}s)"
            )
        keys, ticks, cycles, polls = _press_keys(s, store, setup, what)
        peak = s.rss_peak_mib()
    return full_s, keys, ticks, cycles, polls, peak


def run_bytes(opts: Options) -> None:
    """Bytes per ↓ and per idle minute on the shipped config vs a bare app (bench/bytes.py)."""
    from bench.bytes import run_bytes as measure

    measure(opts)
