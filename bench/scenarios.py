"""The benchmarks: sportello against a bare Textual app, in a real pseudo-terminal.

Each scenario prints ``name=value`` lines on stdout only for figures it really
measured. When sportello cannot run (not built yet, a marker never shows, the
program exits), the scenario says why on stderr and prints no value for it.

What sportello must provide is gathered at the top of this module: the command
line, the markers of a complete dashboard frame (:func:`dashboard_ready`), and
the keys the scale benchmark presses.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bare_app import KEY as BARE_KEY
from bench.bare_app import bare_ready, presses_shown
from bench.configs import (
    REPO_ROOT,
    ConfigProblem,
    business_name,
    demo_config,
    load_yaml,
    shipped_template,
    with_store,
    write_yaml,
)
from bench.pty_driver import KEYS, PtyError, PtySession, ScreenPredicate, percentile

# --------------------------------------------------------------------------- the contract

QUIT_KEY = b"q"  # sportello's quit key; close() sends SIGTERM if it does not work
QUEUE_MARKER = "Queue"  # the queue's title…
QUEUE_LOADED = " waiting"  # …on the same line once the store has been read: "Queue · 22 waiting"
QUIT_HINT = "quit"  # the footer's key hint (compared case-insensitively)
NAV_KEYS = ("down", "pagedown")
FILTER_KEY = "/"  # opens the queue filter; the typed text shows on screen
FILTER_WORD = "ordine"  # typed letter by letter, then erased with backspace
FILTER_CLOSE_KEY = "escape"
SORT_KEY = "o"  # cycles the queue's sort order

COLS, ROWS = 80, 24
SCALE_CHANNELS = 20
SCALE_CONVERSATIONS = 100_000
IDLE_CHANNELS = 20


def dashboard_ready(screen_text: str, config: Mapping[str, Any]) -> bool:
    """Whether the screen shows a complete dashboard for ``config``.

    The one place that says what the first complete frame looks like: the queue's
    title showing the number waiting (so the store has been read, not
    "Queue · reading the store…"), the footer's quit hint and the business name
    from the config.
    """
    queue_loaded = any(
        QUEUE_MARKER in line and QUEUE_LOADED in line for line in screen_text.splitlines()
    )
    return (
        queue_loaded
        and QUIT_HINT in screen_text.lower()
        and business_name(dict(config)) in screen_text
    )


def queue_title(screen_text: str) -> str | None:
    """The queue's title line; it changes with the filter text and the sort order."""
    for line in screen_text.splitlines():
        if QUEUE_MARKER in line:
            return line.strip()
    return None


PREVIEW_MARKER = "Preview"  # the preview's title line; the preview is below it


def preview_text(screen_text: str) -> str | None:
    """What the preview shows: the lines between its title and the key bar."""
    lines = screen_text.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == PREVIEW_MARKER:
            return "\n".join(line.rstrip() for line in lines[index + 1 : -1])
    return None


def sportello_bin() -> Path:
    """The program to measure: ``sportello`` beside this Python, or $BENCH_SPORTELLO."""
    override = os.environ.get("BENCH_SPORTELLO")
    return Path(override) if override else Path(sys.executable).with_name("sportello")


def sportello_argv(config_path: Path) -> list[str]:
    return [str(sportello_bin()), "--config", str(config_path)]


def bare_argv() -> list[str]:
    return [sys.executable, "-m", "bench.bare_app"]


# --------------------------------------------------------------------------- plumbing


@dataclass(frozen=True, slots=True)
class Options:
    runs: int = 5
    quick: bool = False
    idle_seconds: float = 60.0
    nav_presses: int = 50  # of each navigation key
    filter_rounds: int = 3
    sort_presses: int = 12
    bare_presses: int = 60


class ScenarioFailed(Exception):
    """A scenario could not measure what it should; the message says why."""


def emit(name: str, value: float, digits: int = 1) -> None:
    print(f"{name}={value:.{digits}f}", flush=True)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _screen_dump(screen: str, limit: int = 24) -> str:
    lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
    return "\n".join(f"    | {line}" for line in lines[:limit]) or "    | (blank screen)"


def _fail(what: str, exc: PtyError) -> ScenarioFailed:
    return ScenarioFailed(f"{what}: {exc}; the screen showed:\n{_screen_dump(exc.screen)}")


def _isolated_env(folder: Path) -> dict[str, str]:
    """Keep sportello's own files (data, state, cache, config) inside ``folder``."""
    return {
        "XDG_DATA_HOME": str(folder / "xdg-data"),
        "XDG_STATE_HOME": str(folder / "xdg-state"),
        "XDG_CACHE_HOME": str(folder / "xdg-cache"),
        "XDG_CONFIG_HOME": str(folder / "xdg-config"),
    }


_quit_noted: set[str] = set()


def first_frame_ms(
    argv: Sequence[str],
    ready: ScreenPredicate,
    *,
    what: str,
    timeout: float,
    env: Mapping[str, str] | None = None,
    linger_s: float = 0.0,
) -> float:
    """Milliseconds from spawning ``argv`` to the end of its first frame that is ``ready``.

    With ``linger_s``, the program is then left to finish what it started (its
    first poll: a warm-up run fills the store) until it has been quiet for a
    second, ``linger_s`` at most, before it is told to quit.
    """
    with PtySession(argv, cols=COLS, rows=ROWS, env=env, cwd=REPO_ROOT, quit_key=QUIT_KEY) as s:
        try:
            end = s.wait_for(ready, timeout)
        except PtyError as exc:
            raise _fail(what, exc) from exc
        if linger_s:
            s.settle(1.0, timeout=linger_s)
        status = s.close()
    if status != 0 and what not in _quit_noted:
        _quit_noted.add(what)
        note(f"{what}: did not end on the quit key {QUIT_KEY!r} (status {status}); killed")
    return (end - s.started_at) * 1000.0


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _require_sportello() -> None:
    if not sportello_bin().exists():
        raise ScenarioFailed(f"{sportello_bin()} does not exist (is the package installed?)")


def _quiesce(
    s: PtySession, *, quiet_s: float = 0.5, cpu_pct: float = 5.0, timeout: float = 60.0
) -> bool:
    """Wait until the program writes nothing for ``quiet_s`` and uses little CPU."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not s.settle(quiet_s, timeout=max(0.0, deadline - time.perf_counter())):
            return False
        cpu0, t0 = s.cpu_seconds(), time.perf_counter()
        s.pump(0.5)
        used = (s.cpu_seconds() - cpu0) / (time.perf_counter() - t0) * 100.0
        if used <= cpu_pct:
            return True
    return False


@dataclass
class Samples:
    """Key press latencies in ms: to the answering frame, and until the screen settled."""

    label: str
    answer: list[float] = field(default_factory=list)
    settled: list[float] = field(default_factory=list)
    frames: int = 0
    missing: int = 0

    def press(
        self,
        s: PtySession,
        key: str,
        *,
        quiet_s: float,
        until: ScreenPredicate | None = None,
        timeout: float = 5.0,
    ) -> None:
        latency = s.press(
            KEYS.get(key, key.encode()), quiet_s=quiet_s, until=until, timeout=timeout
        )
        response = s.last_response
        if latency is None or response is None or response.last_s is None:
            self.missing += 1
            return
        self.answer.append(latency * 1000.0)
        self.settled.append(max(latency, response.last_s) * 1000.0)
        self.frames += len(response.frames)

    def press_all(self, s: PtySession, keys: Sequence[str], *, quiet_s: float) -> Samples:
        for key in keys:
            self.press(s, key, quiet_s=quiet_s)
        return self

    def report(self) -> None:
        """Per-label figures on stderr: answer ≪ settled means a slow secondary update."""
        if self.missing:
            total = self.missing + len(self.answer)
            note(f"{self.label}: {self.missing} of {total} key presses got no answer in time")
        if self.answer:
            note(
                f"{self.label}: n={len(self.answer)}"
                f" frames/press={self.frames / len(self.answer):.1f}"
                f" | answer: median={_median(self.answer):.1f}ms"
                f" p95={percentile(self.answer, 95):.1f}ms max={max(self.answer):.1f}ms"
                f" | settled: median={_median(self.settled):.1f}ms"
                f" p95={percentile(self.settled, 95):.1f}ms"
            )


# --------------------------------------------------------------------------- scenarios


def run_bare_key(opts: Options) -> None:
    """``bare_key_p95_ms``: how fast a bare Textual app answers a key in a pty."""
    with PtySession(bare_argv(), cols=COLS, rows=ROWS, cwd=REPO_ROOT) as s:
        try:
            s.wait_for(bare_ready, 30)
        except PtyError as exc:
            raise _fail("bare app", exc) from exc
        s.settle(0.2)
        samples = Samples("bare_key").press_all(s, [BARE_KEY] * opts.bare_presses, quiet_s=0.05)
        if presses_shown(opts.bare_presses) not in s.text():
            raise ScenarioFailed("bare app: the screen does not show every press")
    samples.report()
    if not samples.answer:
        raise ScenarioFailed("bare app: no key press caused a frame")
    emit("bare_key_p95_ms", percentile(samples.answer, 95), 2)


def _side_by_side(
    opts: Options,
    app: Callable[..., float],
    *,
    prefix: str,
    bare_timeout: float = 30.0,
) -> None:
    """Interleave bare and sportello first frames; print medians and their ratio.

    Both start once unmeasured first (page cache; sportello's first run also
    fills a new store and is left to finish its first poll), then
    bare, sportello, bare, sportello… so that machine noise hits both.
    """

    def bare() -> float:
        return first_frame_ms(bare_argv(), bare_ready, what="bare app", timeout=bare_timeout)

    bare()
    failure: ScenarioFailed | None = None
    try:
        app(linger_s=60.0)
    except ScenarioFailed as exc:
        failure = exc
    bare_ms: list[float] = []
    app_ms: list[float] = []
    for _ in range(opts.runs):
        bare_ms.append(bare())
        if failure is None:
            try:
                app_ms.append(app())
            except ScenarioFailed as exc:
                failure = exc
    note(f"{prefix}: bare runs ms {[round(v, 1) for v in bare_ms]}")
    emit(f"{prefix}_bare_ms", _median(bare_ms))
    if failure is not None:
        raise failure
    note(f"{prefix}: sportello runs ms {[round(v, 1) for v in app_ms]}")
    emit(f"{prefix}_sportello_ms", _median(app_ms))
    emit(f"{prefix}_ratio", _median(app_ms) / _median(bare_ms), 2)


def shipped_read_once(folder: Path) -> tuple[Path, dict[str, Any], dict[str, str]]:
    """The shipped config on a store in ``folder`` that has been read once, as every
    start but the very first finds it (before any poll the queue says "not read
    yet", and the first complete frame would wait for every channel's first poll):
    the config's path, the config, and the environment to run sportello in."""
    try:
        template = shipped_template()
    except ConfigProblem as exc:
        raise ScenarioFailed(str(exc)) from exc
    config = with_store(template, folder / "store.db")
    config_path = folder / "config.yaml"
    write_yaml(config, config_path)
    env = _isolated_env(folder)
    subprocess.run(
        [*sportello_argv(config_path), "--once"],
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
        check=False,
    )
    return config_path, config, env


def run_startup(opts: Options) -> None:
    """``startup_ratio``: first complete dashboard frame on the shipped config vs bare."""
    _require_sportello()
    with tempfile.TemporaryDirectory(prefix="sportello-bench-") as tmp:
        config_path, config, env = shipped_read_once(Path(tmp))

        def app(linger_s: float = 0.0) -> float:
            return first_frame_ms(
                sportello_argv(config_path),
                lambda text: dashboard_ready(text, config),
                what="sportello (demo config)",
                timeout=60,
                env=env,
                linger_s=linger_s,
            )

        _side_by_side(opts, app, prefix="startup")


def _seed(folder: Path, opts: Options) -> Path:
    config_path = folder / "config.yaml"
    argv = [
        sys.executable,
        "-m",
        "bench.seed_store",
        "--path",
        str(folder / "store.db"),
        "--channels",
        str(SCALE_CHANNELS),
        "--conversations",
        str(SCALE_CONVERSATIONS),
        "--config-out",
        str(config_path),
    ]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ScenarioFailed("seeding the store took more than 30 minutes") from exc
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        tail = "\n".join(f"    | {line}" for line in output.splitlines()[-15:])
        raise ScenarioFailed(f"seeding the store failed (status {done.returncode}):\n{tail}")
    if output:
        note(output)
    note(f"scale: store seeded in {time.perf_counter() - started:.1f}s")
    return config_path


def run_scale(opts: Options) -> None:
    """100,000 waiting conversations: first frame vs bare, key latencies, peak RSS."""
    _require_sportello()
    try:
        shipped_template()
    except ConfigProblem as exc:
        raise ScenarioFailed(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="sportello-bench-") as tmp:
        folder = Path(tmp)
        config_path = _seed(folder, opts)
        config = load_yaml(config_path)
        env = _isolated_env(folder)

        def ready(text: str) -> bool:
            return dashboard_ready(text, config)

        def app(linger_s: float = 0.0) -> float:
            return first_frame_ms(
                sportello_argv(config_path),
                ready,
                what="sportello (100,000 conversations)",
                timeout=180,
                env=env,
                linger_s=linger_s,
            )

        _side_by_side(opts, app, prefix="scale_first_frame")
        with PtySession(
            sportello_argv(config_path),
            cols=COLS,
            rows=ROWS,
            env=env,
            cwd=REPO_ROOT,
            quit_key=QUIT_KEY,
        ) as s:
            _scale_keys(s, ready, opts)


def _preview_other(screen_text: str) -> ScreenPredicate:
    before = preview_text(screen_text)
    return lambda text: preview_text(text) != before


def _preview_keys(s: PtySession, opts: Options) -> None:
    """``preview_settled_p95_ms``: a ↓ (not repeating) until the preview shows the
    new conversation and the screen is still again (a later scroll counts)."""
    samples = Samples("scale preview")
    for _ in range(opts.nav_presses):
        samples.press(s, "down", quiet_s=0.2, timeout=3.0, until=_preview_other(s.text()))
    samples.report()
    if samples.settled:
        emit("preview_settled_p95_ms", percentile(samples.settled, 95))
    else:
        note(f"scale: no preview_settled_p95_ms: a ↓ never changed the {PREVIEW_MARKER!r} pane")


def _scale_keys(s: PtySession, ready: ScreenPredicate, opts: Options) -> None:
    try:
        s.wait_for(ready, 180)
    except PtyError as exc:
        raise _fail("sportello (100,000 conversations)", exc) from exc
    if not _quiesce(s):
        note("scale: sportello kept writing or using CPU for 60s after its first frame")

    nav = Samples("scale navigation")
    for key in NAV_KEYS:
        keys = Samples(f"scale {key}").press_all(s, [key] * opts.nav_presses, quiet_s=0.1)
        keys.report()
        nav.answer += keys.answer
        nav.settled += keys.settled
    if nav.answer:
        emit("scale_nav_p95_ms", percentile(nav.answer, 95))
        emit("scale_nav_settled_p95_ms", percentile(nav.settled, 95))
    else:
        note("scale: navigation keys caused no frame (is the queue focused at start?)")
    _preview_keys(s, opts)

    # A filter keystroke or a sort change is answered by the frame whose queue
    # title has changed: the title shows the filter text and the order, and is
    # updated with the queue.
    def press_changing_title(samples: Samples, key: str) -> None:
        before = queue_title(s.text())
        samples.press(
            s, key, quiet_s=0.3, timeout=3.0, until=lambda text: queue_title(text) != before
        )

    typed = Samples("scale filter keystroke")
    echoed = True
    for _ in range(opts.filter_rounds):
        s.press(KEYS.get(FILTER_KEY, FILTER_KEY.encode()), quiet_s=0.3)
        for letter in FILTER_WORD:
            press_changing_title(typed, letter)
        echoed = echoed and FILTER_WORD.lower() in s.text().lower()
        for _ in FILTER_WORD:
            press_changing_title(typed, "backspace")
        s.press(KEYS[FILTER_CLOSE_KEY], quiet_s=0.3)
        if not echoed or not typed.answer:
            break
    typed.report()
    if not echoed:
        note(
            f"scale: after {FILTER_KEY!r} and typing {FILTER_WORD!r} the word was not on "
            "screen; filter samples discarded"
        )
    sort = Samples("scale sort")
    for _ in range(opts.sort_presses):
        press_changing_title(sort, SORT_KEY)
    sort.report()
    if echoed and typed.answer and sort.answer:
        emit("scale_filter_p95_ms", percentile(typed.answer + sort.answer, 95))
        emit("scale_filter_settled_p95_ms", percentile(typed.settled + sort.settled, 95))
    else:
        note(
            "scale: no scale_filter_p95_ms: it needs filter keystrokes and sort changes "
            f"that change the queue title (the line with {QUEUE_MARKER!r})"
        )
    emit("scale_rss_mib", s.rss_peak_mib())


@contextlib.contextmanager
def dashboard_session(
    config: Mapping[str, Any], config_path: Path, folder: Path, what: str
) -> Iterator[PtySession]:
    """sportello on ``config_path`` in a pty at 80x24, its files kept in ``folder``,
    once its dashboard shows every channel of ``config``."""
    with PtySession(
        sportello_argv(config_path),
        cols=COLS,
        rows=ROWS,
        env=_isolated_env(folder),
        cwd=REPO_ROOT,
        quit_key=QUIT_KEY,
    ) as s:
        try:
            s.wait_for(lambda text: dashboard_ready(text, config), 60)
        except PtyError as exc:
            raise _fail(f"sportello ({what})", exc) from exc
        yield s


def run_idle(opts: Options) -> None:
    """20 demo channels, nothing changing: CPU and bytes written per second."""
    _require_sportello()
    try:
        template = shipped_template()
    except ConfigProblem as exc:
        raise ScenarioFailed(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="sportello-bench-") as tmp:
        folder = Path(tmp)
        config = demo_config(template, folder / "store.db", IDLE_CHANNELS, rate=0)
        config_path = folder / "config.yaml"
        write_yaml(config, config_path)
        with dashboard_session(config, config_path, folder, "20 idle demo channels") as s:
            # The first poll of a new store follows the first frame: let it end
            # (quiet and under 5% CPU), then start counting 2 s later.
            if not _quiesce(s, quiet_s=1.0):
                note("idle: sportello kept writing or using CPU for 60s after its first frame")
            s.pump(2.0)
            cpu0, bytes0, t0 = s.cpu_seconds(), s.bytes_written, time.perf_counter()
            frames0 = len(s.frames)
            s.pump(opts.idle_seconds)
            cpu1, bytes1, t1 = s.cpu_seconds(), s.bytes_written, time.perf_counter()
            if not s.alive:
                raise ScenarioFailed("idle: sportello exited during the measurement")
            wall = t1 - t0
            note(
                f"idle: {wall:.1f}s, {cpu1 - cpu0:.2f}s CPU, {bytes1 - bytes0} bytes "
                f"in {len(s.frames) - frames0} frames"
            )
            emit("idle_cpu_pct", (cpu1 - cpu0) / wall * 100.0, 2)
            emit("idle_bytes_per_s", (bytes1 - bytes0) / wall)


def run_soak(opts: Options) -> None:
    """An hour of shop time polled fast: RSS stays flat (bench/soak.py)."""
    from bench.soak import run_soak as soak

    soak(opts)


def run_outbox_backlog(opts: Options) -> None:
    """1,000 replies queued while a channel is down, delivered once it is back (bench/outbox.py)."""
    from bench.outbox import run_backlog

    run_backlog(opts)


def run_outbox_enqueue(opts: Options) -> None:
    """Commit latency of replies from 3 processes beside a delivery (bench/outbox.py)."""
    from bench.outbox import run_enqueue

    run_enqueue(opts)


def run_outbox_deliver(opts: Options) -> None:
    """From the send key to the demo channel having the reply, in a pty (bench/deliver_pty.py)."""
    from bench.deliver_pty import run_deliver

    run_deliver(opts)


SCENARIOS: dict[str, Callable[[Options], None]] = {
    "bare_key": run_bare_key,
    "startup": run_startup,
    "scale": run_scale,
    "idle": run_idle,
    "soak": run_soak,
    "outbox_backlog": run_outbox_backlog,
    "outbox_enqueue": run_outbox_enqueue,
    "outbox_deliver": run_outbox_deliver,
}
