"""``outbox_deliver_p95_ms``: from the send key to the demo channel having the reply.

sportello runs in a real pty on demo channels with ``undo_window: 0s`` and a
durable record each (the demo writes and fsyncs every accepted action before it
answers). Each round: ``r`` on the conversation shown, type a reply with a
unique text, note the time, press Ctrl+J, and watch the records until a line
with that text appears. The next conversation opens by itself: the loop goes on
from there, as a person answering the queue would. The figure is the 95th
percentile of those times, in milliseconds.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bench.configs import ConfigProblem, demo_config, shipped_template, write_yaml
from bench.pty_driver import PtySession, percentile
from bench.scenarios import (
    Options,
    ScenarioFailed,
    _quiesce,
    _require_sportello,
    dashboard_session,
    emit,
    note,
)

CHANNELS = 2
SCALE = 400  # waiting conversations per channel: the loop never runs out
ROUNDS = 30
CTRL_J = b"\n"
COMPOSER = "ctrl+j send"


class Records:
    """The demo channels' records, read as they grow."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.offsets = dict.fromkeys(paths, 0)
        self.texts: set[str] = set()

    def poll(self) -> None:
        for path in self.paths:
            try:
                with path.open("rb") as handle:
                    handle.seek(self.offsets[path])
                    data = handle.read()
            except FileNotFoundError:
                continue
            end = data.rfind(b"\n") + 1
            self.offsets[path] += end
            for line in data[:end].splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and isinstance(entry.get("text"), str):
                    self.texts.add(entry["text"])

    def wait_for(self, text: str, s: PtySession, timeout: float) -> float | None:
        """perf_counter() when ``text`` was first seen in a record, or None."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self.poll()
            if text in self.texts:
                return time.perf_counter()
            s.pump(0.002)
        return None


def run_deliver(opts: Options) -> None:
    _require_sportello()
    try:
        template = shipped_template()
    except ConfigProblem as exc:
        raise ScenarioFailed(str(exc)) from exc
    rounds = 8 if opts.quick else ROUNDS
    with tempfile.TemporaryDirectory(prefix="sportello-bench-") as tmp:
        folder = Path(tmp)
        config = demo_config(template, folder / "store.db", CHANNELS, scale=SCALE)
        paths: list[Path] = []
        for channel in config["channels"]:
            record = folder / f"record-{channel['id']}.jsonl"
            paths.append(record)
            channel["undo_window"] = "0s"
            target = channel["options"] if isinstance(channel.get("options"), dict) else channel
            target["record"] = str(record)
        config_path = folder / "config.yaml"
        write_yaml(config, config_path)
        records = Records(paths)
        times: list[float] = []
        with dashboard_session(config, config_path, folder, "demo channels, undo 0s") as s:
            _quiesce(s, quiet_s=1.0)
            for n in range(rounds):
                s.press("r", until=lambda text: COMPOSER in text, timeout=10)
                if COMPOSER not in s.text():
                    raise ScenarioFailed(f"outbox_deliver: r opened no composer (round {n})")
                text = f"bench reply {n} {time.time_ns()}"
                s.write(text)
                s.settle(0.2, timeout=5)
                sent = time.perf_counter()
                s.write(CTRL_J)
                seen = records.wait_for(text, s, timeout=10)
                if seen is None:
                    raise ScenarioFailed(f"outbox_deliver: reply {n} never reached the channel")
                times.append((seen - sent) * 1000.0)
                # The next conversation opens on its own; let it settle.
                s.settle(0.3, timeout=5)
            s.close()
    note(
        "outbox_deliver: " + ", ".join(f"{t:.0f}" for t in times) + f" ms over {len(times)} replies"
    )
    emit("outbox_deliver_p50_ms", percentile(times, 50))
    emit("outbox_deliver_p95_ms", percentile(times, 95))
