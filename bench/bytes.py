"""Bytes over the terminal (what SSH carries): per ↓ and per idle minute, beside bare apps.

    nav_key_bytes          bytes the pty receives per ↓ on the shipped config (median)
    nav_key_bytes_bare     the same for the bare app (bench/bare_app.py)
    nav_key_bytes_bare_queue  the same for a bare queue app (bench/bare_queue_app.py):
                           stock DataTable and Static making the change a ↓ makes here
                           (the cursor moves, a five-line preview follows)
    idle_bytes_per_min     the shipped config left alone (its demo traffic goes on)
    idle_bytes_per_min_bare_clock   a bare Textual app with a ticking clock, same minutes

Targets (issue 14): a ↓ ≤ 2× the bare app's bytes per key; idle ≤ 2× the bare clock
app. Bytes do not depend on the machine's speed, so the idle minutes of both run at
once. ``python -m bench.bytes`` runs the bare clock app.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

from bench.bare_app import KEY as BARE_KEY
from bench.bare_app import bare_ready
from bench.bare_queue_app import bare_queue_ready
from bench.configs import REPO_ROOT
from bench.pty_driver import KEYS, PtyError, PtySession, ScreenPredicate
from bench.scenarios import (
    COLS,
    QUIT_KEY,
    ROWS,
    Options,
    ScenarioFailed,
    _fail,
    _quiesce,
    _require_sportello,
    bare_argv,
    dashboard_ready,
    emit,
    note,
    shipped_read_once,
    sportello_argv,
)

CLOCK_TEXT = "bare clock app"


def clock_ready(screen_text: str) -> bool:
    return CLOCK_TEXT in screen_text and "Quit" in screen_text


class ClockApp(App[None]):
    """The bare app with the Header's clock ticking every second."""

    TITLE = "bench"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        yield Static(CLOCK_TEXT)
        yield Footer()


def clock_argv() -> list[str]:
    return [sys.executable, "-m", "bench.bytes"]


def response_bytes(s: PtySession) -> int | None:
    """Bytes of every frame that followed the last key press, until the screen settled."""
    response = s.last_response
    if response is None or not response.frames:
        return None
    return sum(frame.nbytes for frame in response.frames)


def _key_bytes(s: PtySession, keys: Sequence[bytes], quiet_s: float) -> list[int]:
    got = []
    for key in keys:
        s.press(key, quiet_s=quiet_s, timeout=3.0)
        n = response_bytes(s)
        if n is not None:
            got.append(n)
    return got


def _session(argv: list[str], env: dict[str, str] | None = None) -> PtySession:
    return PtySession(argv, cols=COLS, rows=ROWS, env=env, cwd=REPO_ROOT, quit_key=QUIT_KEY)


def _wait(s: PtySession, ready: ScreenPredicate, what: str) -> None:
    try:
        s.wait_for(ready, 60)
    except PtyError as exc:
        raise _fail(what, exc) from exc


def run_bytes(opts: Options) -> None:
    _require_sportello()
    presses = 10 if opts.quick else 40
    idle_s = 20.0 if opts.quick else 60.0
    with tempfile.TemporaryDirectory(prefix="sportello-bench-") as tmp:
        config_path, config, env = shipped_read_once(Path(tmp))
        with _session(sportello_argv(config_path), env) as app, _session(clock_argv()) as clock:
            _wait(app, lambda text: dashboard_ready(text, config), "sportello (shipped config)")
            _wait(clock, clock_ready, "bare clock app")
            if not _quiesce(app, quiet_s=1.0):
                note("bytes: sportello kept writing or using CPU 60s after its first frame")
            # ↓ then ↑, so the cursor stays inside the shipped config's short queue;
            # each waits for the screen to settle (the preview follows the cursor).
            downs: list[int] = []
            ups: list[int] = []
            for _ in range(presses):
                downs += _key_bytes(app, [KEYS["down"]], 0.3)
                ups += _key_bytes(app, [KEYS["up"]], 0.3)
            clock.pump()
            app.settle(1.0)
            t0 = time.perf_counter()
            end = t0 + idle_s
            while time.perf_counter() < end:
                app.pump(0.05)
                clock.pump(0.05)
            t1 = time.perf_counter()
            app.pump(0.2)
            clock.pump(0.2)
            idle_app = app.bytes_between(t0, t1)
            idle_clock = clock.bytes_between(t0, t1)
            idle_frames = sum(1 for f in app.frames if t0 <= f.end < t1)
        with _session(bare_argv()) as bare:
            _wait(bare, bare_ready, "bare app")
            bare.settle(0.3)
            bare_keys = _key_bytes(bare, [KEYS[BARE_KEY]] * presses, 0.3)
        with _session([sys.executable, "-m", "bench.bare_queue_app"]) as queue_app:
            _wait(queue_app, bare_queue_ready, "bare queue app")
            queue_app.settle(0.3)
            queue_keys: list[int] = []
            for _ in range(presses):
                queue_keys += _key_bytes(queue_app, [KEYS["down"]], 0.3)
                queue_keys += _key_bytes(queue_app, [KEYS["up"]], 0.3)
    if not downs or not bare_keys:
        raise ScenarioFailed("bytes: the ↓ key caused no frame")
    note(
        f"bytes: per ↓ {sorted(downs)} (↑ median {statistics.median(ups or [0]):.0f}); "
        f"bare per key {sorted(bare_keys)}; bare queue app per ↓/↑ {sorted(queue_keys)}; "
        "target ↓ ≤ 2× bare"
    )
    emit("nav_key_bytes", statistics.median(downs), 0)
    emit("nav_key_bytes_bare", statistics.median(bare_keys), 0)
    if queue_keys:
        emit("nav_key_bytes_bare_queue", statistics.median(queue_keys), 0)
    per_min = 60.0 / (t1 - t0)
    note(
        f"bytes: idle {t1 - t0:.0f}s: sportello {idle_app} bytes in {idle_frames} frames, "
        f"bare clock {idle_clock} bytes; target ≤ 2× the bare clock app"
    )
    emit("idle_bytes_per_min", idle_app * per_min, 0)
    emit("idle_bytes_per_min_bare_clock", idle_clock * per_min, 0)


def main() -> None:
    ClockApp().run()


if __name__ == "__main__":
    main()
