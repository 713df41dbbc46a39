"""The benchmark harness itself: a pty session against small programs and the bare app.

No timing assertions: only that figures are measured, finite and caused by what
they claim, and that no process is left behind.
"""

from __future__ import annotations

import math
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.bare_app import KEY, bare_ready, presses_shown
from bench.configs import demo_config
from bench.fanout import measure
from bench.pty_driver import KEYS, ChildExited, PtySession, WaitTimeout, descendants, percentile
from bench.scale_live import (
    Cycle,
    Poll,
    Tick,
    cycles_of,
    full_queue_shown,
    idle_rate,
    live_setup,
    rss_after,
)
from bench.scenarios import Options, dashboard_ready

REPO_ROOT = Path(__file__).resolve().parent.parent
BARE = [sys.executable, "-m", "bench.bare_app"]
CTRL_C = b"\x03"  # quits the small scripts below: the pty is not in raw mode for them


def _script(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def _gone(pid: int) -> bool:
    """The process no longer exists, or is a zombie some other parent will reap."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] == "Z"


@pytest.fixture(scope="module")
def bare() -> Iterator[PtySession]:
    with PtySession(BARE, cols=80, rows=24, cwd=REPO_ROOT) as session:
        session.wait_for(bare_ready, 30)
        yield session


def test_bare_app_reaches_its_first_frame_at_80x24(bare: PtySession) -> None:
    lines = bare.lines()
    assert len(lines) == 24
    assert all(len(line) == 80 for line in lines)
    assert bare_ready(bare.text())
    assert bare.frames and bare.frames[-1].end > bare.started_at
    assert bare.bytes_written > 0
    assert bare.bytes_written == sum(n for _, n in bare.reads)


def test_bare_app_uses_synchronized_output_once_answered(bare: PtySession) -> None:
    assert bare.sync_queries_answered >= 1
    assert any(frame.synced for frame in bare.frames)


def test_key_press_latency_is_measured_to_the_frame_it_caused(bare: PtySession) -> None:
    before = bare.bytes_written
    latencies = [bare.press(KEYS[KEY]) for _ in range(3)]
    for latency in latencies:
        assert latency is not None
        assert latency > 0 and math.isfinite(latency)
    assert presses_shown(3) in bare.text()
    response = bare.last_response
    assert response is not None and response.frames
    first, last = response.first_s, response.last_s
    assert response.answer_s == first == latencies[-1]  # the first frame answers
    assert first is not None and last is not None and 0 < first <= last
    assert bare.bytes_written > before
    assert percentile([x for x in latencies if x is not None], 95) == max(
        x for x in latencies if x is not None
    )


def test_key_press_with_until_waits_for_the_screen(bare: PtySession) -> None:
    shown = bare.text()
    count = next(n for n in range(1000) if presses_shown(n) in shown)
    latency = bare.press(KEYS[KEY], until=lambda text: presses_shown(count + 1) in text)
    assert latency is not None and latency > 0


def test_process_figures_of_the_bare_app(bare: PtySession) -> None:
    assert bare.cpu_seconds() > 0
    assert 5 < bare.rss_peak_mib() < 1024


def test_close_quits_and_reaps_the_program() -> None:
    session = PtySession(BARE, cols=80, rows=24, cwd=REPO_ROOT)
    session.wait_for(bare_ready, 30)
    pid = session.pid
    status = session.close()
    assert status == 0  # it quit on the quit key, not on a signal
    assert not session.alive
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie of ours
    assert session.close() == 0  # closing twice is harmless


def test_close_kills_a_program_that_ignores_the_quit_key_and_its_children() -> None:
    code = """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print("ready", child.pid, flush=True)
        time.sleep(60)
    """
    session = PtySession(_script(code), cols=80, rows=24)
    session.wait_for(lambda text: "ready" in text, 20)
    kids = descendants(session.pid)
    assert kids
    session.sample_rss()
    status = session.close(quit_timeout=0.1, term_timeout=0.1)
    assert status < 0  # killed
    assert _gone(session.pid)
    assert all(_gone(pid) for pid in kids)  # close() waits for them to die


def test_frames_are_cut_at_sync_markers_and_quiet_gaps() -> None:
    code = r"""
        import sys, time
        out = sys.stdout.buffer
        def put(data):
            out.write(data); out.flush()
        put(b"A")                              # unsynced: ends at a quiet gap
        time.sleep(0.2)
        put(b"\x1b[?2026hB")                   # one synced frame in three writes,
        time.sleep(0.05)
        put(b"C\x1b[?20")                      # its closing marker split in two
        time.sleep(0.05)
        put(b"26l")
        time.sleep(0.2)
        put(b"D\n")
        time.sleep(60)
    """
    with PtySession(_script(code), cols=20, rows=3, quit_key=CTRL_C) as session:
        session.wait_for(lambda text: "ABCD" in text, 20)
        frames = session.frames
        assert [f.synced for f in frames] == [False, True, False]
        assert [f.nbytes for f in frames] == [1, 18, 3]
        assert frames[0].end < frames[1].end < frames[2].end
        assert session.bytes_written == 1 + 18 + 3


def test_the_sync_query_is_answered() -> None:
    code = r"""
        import os, select, sys, tty
        tty.setraw(0)
        os.write(1, b"\x1b[?2026$p")
        got = b""
        while select.select([0], [], [], 5)[0]:
            got += os.read(0, 100)
            if got.endswith(b"y"):
                break
        os.write(1, repr(got).encode() + b" done")
    """
    with PtySession(_script(code), cols=40, rows=3) as session:
        session.wait_for(lambda text: "done" in text, 20)
        assert "2026;2$y" in session.text()


def test_wait_for_reports_a_program_that_exits_or_stays_silent() -> None:
    with PtySession(_script("print('bye')"), cols=20, rows=3) as session:
        with pytest.raises(ChildExited) as exited:
            session.wait_for(lambda text: "never" in text, 20)
        assert "bye" in exited.value.screen
    silent = _script("import time; time.sleep(60)")
    with (
        PtySession(silent, cols=20, rows=3, quit_key=CTRL_C) as session,
        pytest.raises(WaitTimeout),
    ):
        session.wait_for(lambda text: "never" in text, 0.2)


def test_dashboard_ready_needs_the_loaded_queue_the_quit_hint_and_the_business() -> None:
    config = {"business": {"name": "Bottega Rossi"}}
    top = " sportello · Bottega Rossi                                   14:32  ● live"
    footer = " r reply  / filter  o sort  q quit"
    loaded = "\n".join([top, " Queue · 22 waiting · worst gap first", footer])
    assert dashboard_ready(loaded, config)
    assert not dashboard_ready(loaded.replace("22 waiting", "reading the store…"), config)
    assert not dashboard_ready(loaded.replace("quit", "help"), config)
    assert not dashboard_ready(loaded.replace("Bottega Rossi", "Bottega"), config)


@pytest.mark.parametrize("nested", [True, False])
def test_demo_config_follows_the_template_and_moves_the_store(nested: bool) -> None:
    demo: dict[str, object] = {"id": "chat", "label": "Chat", "adapter": "demo"}
    demo.update({"options": {"profile": "chat"}} if nested else {"profile": "chat"})
    template = {"business": {"name": "B"}, "store": {"retention_days": 9}, "channels": [demo]}
    config = demo_config(template, Path("/tmp/x/store.db"), 7, scale=5, rate=0)
    assert config["store"] == {"retention_days": 9, "path": "/tmp/x/store.db"}
    assert template["store"] == {"retention_days": 9}  # the template is left alone
    channels = config["channels"]
    assert [c["id"] for c in channels] == [
        "email-01",
        "chat-02",
        "phone-03",
        "facebook-04",
        "telegram-05",
        "email-06",
        "chat-07",
    ]
    options = [c["options"] if nested else c for c in channels]
    assert [o["seed"] for o in options] == list(range(1, 8))
    assert all(o["scale"] == 5 and o["rate"] == 0 for o in options)


def test_the_fanout_harness_polls_the_healthy_channels_and_not_the_silent_one() -> None:
    """The fan-out benchmark's harness, tiny: a real server process, the real collector
    on three HTTP channels, one of which never answers. No timings: only that the
    healthy channels were refreshed and the silent one failed."""
    result = measure(
        channels=3, silent=1, interval_s=0.5, timeout_s=0.6, seconds=3.0, conversations=2
    )
    assert (result.healthy, result.silent) == (["ch-01", "ch-02"], ["ch-03"])
    for channel in result.healthy:
        assert len(result.refreshed.get(channel, [])) >= 2, result
        assert channel not in result.failed, result
        assert result.gaps(channel) and all(gap > 0 for gap in result.gaps(channel))
    assert not result.refreshed.get("ch-03"), result
    assert result.failed.get("ch-03", 0) >= 1, result
    assert result.errors["ch-03"]  # said why, in words
    assert result.healthy_polls == sum(len(result.refreshed[c]) for c in result.healthy)
    assert not result.store_errors


def test_scale_live_sees_the_whole_queue_only_when_the_title_counts_it_all() -> None:
    assert full_queue_shown(" Queue · 100,000 waiting · oldest first\n", 100_000)
    assert not full_queue_shown(" Queue · 2,000 waiting · reading the whole queue…", 100_000)
    assert not full_queue_shown(" Queue · 100,000 waiting · reading the who…", 100_000)
    assert not full_queue_shown(" Queue · 10 of 100,000 waiting", 100_000)
    assert not full_queue_shown(" Queue · reading the store…", 100_000)


def test_scale_live_cycles_are_complete_only_when_every_channel_has_polled() -> None:
    polls = [Poll("a", 10, 12), Poll("b", 11, 15), Poll("a", 70, 71)]
    assert cycles_of(polls, 2) == [Cycle(10, 15)]
    assert cycles_of(polls, 3) == []
    ticks = [Tick(float(t), t * 0.1 + (2.0 if t >= 12 else 0.0), 100.0 + t) for t in range(30)]
    rate = idle_rate(ticks, [(11.5, 12.5)])
    assert rate is not None and math.isclose(rate, 0.1)
    assert rss_after(ticks, [Cycle(10, 15)], 0) == 129.0
    assert rss_after(ticks, [Cycle(10, 15), Cycle(20, 25)], 0) == 119.0


def test_scale_live_sizes_name_their_figures() -> None:
    quick = live_setup(Options(quick=True), {})
    assert (quick.conversations, quick.suffix, quick.cycles) == (100_000, "", 2)
    big = live_setup(Options(), {"BENCH_SCALE": "1000000"})
    assert (big.suffix, big.per_channel, big.cycles, big.interval_s) == ("_1m", 50_000, 4, 60.0)
    assert quick.service and big.service  # `sportello collect` polls, the dashboard views
    own = live_setup(Options(), {"BENCH_LIVE_SETUP": "dashboard", "BENCH_SCALE": "1000000"})
    assert (own.service, own.suffix) == (False, "_self_1m")


def test_the_bare_queue_app_makes_the_change_a_down_makes_on_sportello() -> None:
    """Its ↓ moves the row cursor and the preview follows: what nav_key_bytes_bare_queue
    measures must be that change, not a key that does nothing."""
    from bench.bare_queue_app import bare_queue_ready, preview_text

    argv = [sys.executable, "-m", "bench.bare_queue_app"]
    with PtySession(argv, cols=80, rows=24, cwd=REPO_ROOT) as session:
        session.wait_for(bare_queue_ready, 30)
        session.settle(0.3)
        first = preview_text(0).splitlines()[0]
        second = preview_text(1).splitlines()[0]
        assert first in session.text()
        session.press(b"\x1b[B", quiet_s=0.3, timeout=5.0)
        assert second in session.text() and first not in session.text()
