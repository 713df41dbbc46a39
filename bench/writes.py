"""What polling writes: bytes per poll on the shipped config, collector CPU at 100k.

    poll_bytes_written        bytes the process wrote (``wchar`` of /proc/self/io:
                              the database, its WAL and the checkpoints that write
                              the WAL back) per channel poll, in steady state: a
                              Collector in this process polls the shipped config's
                              demo channels, its clock 10 s further at each cycle
    collector_cpu_per_poll_s  CPU seconds (``time.process_time``, every thread of the
                              process) of one poll cycle of a demo channel with
                              ``scale: 100000``, after the first (which fills the store)

Both run in-process on a store in a temporary folder. Run alone with
``python -m bench --only writes``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.configs import demo_config, shipped_template, with_store, write_yaml
from bench.scenarios import Options, emit, note

WARM_CYCLES = 5
CYCLES = 60  # measured (quick: 20)
CYCLE_S = 10.0  # clock advance between two cycles
SCALE = 100_000
SCALE_CYCLES = 4  # measured at 100k (quick: 2)


def _wchar() -> int:
    with open("/proc/self/io", encoding="ascii") as io:
        for line in io:
            name, _, value = line.partition(":")
            if name == "wchar":
                return int(value)
    raise OSError("no wchar in /proc/self/io")


class _Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def _cycles(data: dict[str, Any], folder: Path, warm: int, measured: int) -> list[float]:
    """Poll every channel ``warm + measured`` times; per measured cycle (bytes, CPU s)."""
    from sportello.core.collector import Collector
    from sportello.core.config import load_config
    from sportello.core.store import Store

    path = folder / "config.yaml"
    write_yaml(data, path)
    config = load_config(path)
    clock = _Clock()
    figures: list[float] = []
    async with await Store.open(config.store_path) as store:
        collector = Collector(config, store, clock=clock)
        try:
            for cycle in range(warm + measured):
                written, cpu = _wchar(), time.process_time()
                await collector.poll_once()
                if cycle >= warm:
                    figures.append(_wchar() - written)
                    figures.append(time.process_time() - cpu)
                clock.advance(CYCLE_S)
        finally:
            await collector.aclose()
    return figures


def run_writes(opts: Options) -> None:
    cycles = 20 if opts.quick else CYCLES
    with tempfile.TemporaryDirectory(prefix="sportello-writes-") as tmp:
        folder = Path(tmp)
        data = with_store(shipped_template(), folder / "store.db")
        channels = len(data.get("channels") or ())
        figures = asyncio.run(_cycles(data, folder, WARM_CYCLES, cycles))
    written = figures[0::2]
    per_poll = sum(written) / len(written) / max(1, channels)
    note(
        f"writes: {channels} channels, {cycles} cycles of {CYCLE_S:.0f} s:"
        f" {sum(written) / len(written):.0f} B per cycle, median {statistics.median(written):.0f}"
    )
    emit("poll_bytes_written", per_poll, 0)

    scale_cycles = 2 if opts.quick else SCALE_CYCLES
    with tempfile.TemporaryDirectory(prefix="sportello-writes-") as tmp:
        folder = Path(tmp)
        data = demo_config(shipped_template(), folder / "store.db", 1, scale=SCALE)
        figures = asyncio.run(_cycles(data, folder, 1, scale_cycles))
    cpu = figures[1::2]
    note(f"writes: 100k poll cycles, CPU s: {', '.join(f'{c:.2f}' for c in cpu)}")
    emit("collector_cpu_per_poll_s", statistics.median(cpu), 2)
