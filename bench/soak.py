"""A simulated hour of fast polls: does the dashboard's memory stay flat?

The dashboard runs headless in a child process of its own, on five demo channels
polled every second, with a clock that runs fast enough for the run to span an
hour of shop time: customers arrive and are answered, so the queue is rebuilt
again and again (what ``gc.freeze()`` at every board used to leak). Its RSS is
read after a warm-up and at the end; the figure is the growth between the two.

    soak_rss_growth_mib   RSS at the end minus RSS after the warm-up (target: ≤ 5)
    soak_boards           boards the dashboard applied meanwhile
    soak_frozen_growth    objects frozen after the warm-up (target: 0)
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.configs import REPO_ROOT, demo_config, shipped_template, write_yaml

SIMULATED_S = 3600.0
CHANNELS = 5
WARM_UP_SHARE = 0.25


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _soak(config_path: Path, seconds: float) -> dict[str, Any]:
    from sportello.app import SportelloApp
    from sportello.core.config import load_config

    config = load_config(config_path)
    start_real = time.monotonic()
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a weekday morning in Rome
    speed = SIMULATED_S / seconds

    def clock() -> datetime:
        return start + timedelta(seconds=(time.monotonic() - start_real) * speed)

    app = SportelloApp(config, clock=clock)
    boards = 0
    publish = app.live._publish

    def counted(update: Any) -> None:
        nonlocal boards
        boards += 1
        publish(update)

    app.live._publish = counted
    samples: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await asyncio.sleep(seconds * WARM_UP_SHARE)
        await pilot.pause()
        warm, boards_at_warm, frozen = _rss_mib(), boards, gc.get_freeze_count()
        step = seconds * (1 - WARM_UP_SHARE) / 6
        for _ in range(6):
            await asyncio.sleep(step)
            samples.append(_rss_mib())
        queue = len(app.dashboard.view.rows)
    return {
        "warm_rss_mib": warm,
        "end_rss_mib": samples[-1],
        "samples": samples,
        "boards": boards - boards_at_warm,
        "queue": queue,
        "frozen_growth": gc.get_freeze_count() - frozen,
    }


def child(config_path: str, seconds: str) -> None:
    """Run in the child process: print the figures as JSON."""
    result = asyncio.run(_soak(Path(config_path), float(seconds)))
    sys.stdout.write(json.dumps(result) + "\n")


def run_soak(opts: Any) -> None:
    from bench.scenarios import ScenarioFailed, emit, note

    seconds = 20.0 if opts.quick else 120.0
    with tempfile.TemporaryDirectory(prefix="sportello-soak-") as tmp:
        folder = Path(tmp)
        config = demo_config(
            shipped_template(), folder / "store.db", CHANNELS, rate=3.0, poll_interval="1s"
        )
        config_path = folder / "config.yaml"
        write_yaml(config, config_path)
        env_home = {"XDG_STATE_HOME": str(folder / "state"), "XDG_DATA_HOME": str(folder)}
        process = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from bench.soak import child; child(*sys.argv[1:])",
                str(config_path),
                str(seconds),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            env={**os.environ, **env_home},
            check=False,
        )
    if process.returncode != 0:
        raise ScenarioFailed(f"soak: the child failed: {process.stderr[-2000:]}")
    result = json.loads(process.stdout.strip().splitlines()[-1])
    note(
        f"soak: {seconds:.0f}s real = {SIMULATED_S / 60:.0f} min of shop time, "
        f"{result['boards']} boards after warm-up, queue {result['queue']} at the end, "
        f"RSS MiB {result['warm_rss_mib']:.1f} -> "
        + ", ".join(f"{value:.1f}" for value in result["samples"])
    )
    emit("soak_rss_growth_mib", result["end_rss_mib"] - result["warm_rss_mib"])
    emit("soak_boards", result["boards"], 0)
    # Objects frozen out of the garbage collector's reach after the warm-up: what
    # freezing at every board kept alive for good. 0 when it is frozen once.
    emit("soak_frozen_growth", result["frozen_growth"], 0)
