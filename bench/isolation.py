"""``isolation_key_p95_ms``: does a misbehaving channel slow the dashboard's keys?

sportello runs in a real pty at 80x24 on demo channels polled every 10 s (timeout
8 s): four that behave, with a queue of their own (``scale``), and two that do
not, with the demo adapter's chaos options:

- ``blocked`` blocks its thread for 5 s on every poll (``block: 5s``, a
  ``time.sleep`` in ``fetch()``: the ``requests.get()`` bug), so that about a
  third of the time one channel's thread is stuck;
- ``crashing`` raises a plain ``RuntimeError`` on every poll (``crash: true``:
  a bug, not an adapter error), and is retried with the collector's backoff.

The baseline is the same configuration with those two channels behaving
(``block: 0s``, ``crash: false``; they have no traffic either way), so that the
two sides differ only in the misbehaviour. The sides alternate (baseline, chaos,
baseline, chaos), each on a new store, and each session presses navigation keys
for a fixed time, long enough to span the blocks: ↓ ↓ ↓ PgDn ↑ ↑ ↑ PgUp, over and
over, each press timed from the key to the frame that answers it, as the scale
benchmark's navigation is (:class:`bench.scenarios.Samples`).

    isolation_key_p95_base_ms  p95 key → frame, the two channels behaving
    isolation_key_p95_ms       p95 key → frame, one blocking and one raising
    isolation_key_ratio        the second ÷ the first (target: ≤ 2)

On stderr: the presses made while the blocked channel was blocked (from its polls
in the store), and what the store says of the two bad channels, so that a reader
can see the chaos really happened.
"""

from __future__ import annotations

import copy
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.configs import ConfigProblem, demo_config, shipped_template, write_yaml
from bench.pty_driver import percentile
from bench.scenarios import (
    Options,
    Samples,
    ScenarioFailed,
    _quiesce,
    _require_sportello,
    dashboard_session,
    emit,
    note,
)

GOOD_CHANNELS = 4
SCALE = 60  # waiting conversations per good channel: a queue longer than a page
POLL_INTERVAL = "10s"
TIMEOUT = "8s"
BLOCK = "5s"
BLOCKED, CRASHING = "blocked", "crashing"
PRESS_CYCLE = ("down", "down", "down", "pagedown", "up", "up", "up", "pageup")
QUIET_S = 0.1  # as the scale benchmark's navigation
MEASURE_S = 30.0  # of presses per session (quick: 16 s), spanning at least one block
ROUNDS = 2  # sessions per side (quick: 1)


@dataclass
class Side:
    """One side's samples, pooled over its sessions."""

    label: str
    chaos: bool
    samples: Samples = field(init=False)
    sent_at: list[float] = field(default_factory=list)  # wall time of each answered press
    blocks: list[tuple[float, float]] = field(default_factory=list)  # the blocked polls
    bad_polls: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    quits: list[tuple[int, float]] = field(default_factory=list)  # (status, seconds) of q

    def __post_init__(self) -> None:
        self.samples = Samples(self.label)

    def during_blocks(self) -> list[float]:
        return [
            ms
            for ms, at in zip(self.samples.answer, self.sent_at, strict=True)
            if any(start <= at <= end for start, end in self.blocks)
        ]


def _bad_channel(
    model: dict[str, Any], cid: str, seed: int, chaos: dict[str, Any]
) -> dict[str, Any]:
    """A demo channel shaped as ``model`` (options nested or inline), with no traffic."""
    channel = copy.deepcopy(model)
    channel.update(id=cid, label=cid.title())
    options = channel["options"] if isinstance(channel.get("options"), dict) else channel
    options.pop("scale", None)
    options.update(profile="chat", seed=seed, rate=0, **chaos)
    return channel


def isolation_config(template: dict[str, Any], store_path: Path, *, chaos: bool) -> dict[str, Any]:
    """Four demo channels with a queue, and the two bad ones (behaving unless ``chaos``)."""
    config = demo_config(
        template, store_path, GOOD_CHANNELS, scale=SCALE, poll_interval=POLL_INTERVAL
    )
    channels = config["channels"]
    if not isinstance(channels, list) or not channels:
        raise ScenarioFailed("isolation: the template's channels are not a list")
    model = channels[0]
    channels.append(_bad_channel(model, BLOCKED, 101, {"block": BLOCK if chaos else "0s"}))
    channels.append(_bad_channel(model, CRASHING, 102, {"crash": chaos}))
    for channel in channels:
        channel["timeout"] = TIMEOUT
    return config


def _polls(store: Path, channel_id: str) -> list[tuple[float, float, int, str | None]]:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
            rows = conn.execute(
                "SELECT started_at, finished_at, ok, error FROM polls"
                " WHERE channel_id = ? ORDER BY started_at",
                (channel_id,),
            ).fetchall()
    except sqlite3.Error as exc:
        note(f"isolation: could not read the polls of {channel_id}: {exc}")
        return []
    return [(float(a), float(b), int(ok), err) for a, b, ok, err in rows]


def _session(side: Side, template: dict[str, Any], measure_s: float) -> None:
    with tempfile.TemporaryDirectory(prefix="sportello-bench-") as tmp:
        folder = Path(tmp)
        store = folder / "store.db"
        config = isolation_config(template, store, chaos=side.chaos)
        config_path = folder / "config.yaml"
        write_yaml(config, config_path)
        with dashboard_session(config, config_path, folder, side.label) as s:
            if not _quiesce(s, quiet_s=0.5, timeout=20.0):
                note(f"{side.label}: sportello kept writing or using CPU after its first frame")
            wall_offset = time.time() - time.perf_counter()
            samples = side.samples
            end = time.perf_counter() + measure_s
            n = 0
            while time.perf_counter() < end:
                before = len(samples.answer)
                samples.press(s, PRESS_CYCLE[n % len(PRESS_CYCLE)], quiet_s=QUIET_S)
                n += 1
                response = s.last_response
                if len(samples.answer) > before and response is not None:
                    side.sent_at.append(response.sent + wall_offset)
            if not s.alive:
                raise ScenarioFailed(f"{side.label}: sportello exited during the measurement")
            quitting = time.perf_counter()
            status = s.close()
            side.quits.append((status, time.perf_counter() - quitting))
        side.blocks += [(a, b) for a, b, _, _ in _polls(store, BLOCKED) if b - a >= 1.0]
        for cid in (BLOCKED, CRASHING):
            side.bad_polls.setdefault(cid, []).extend(
                (ok, error) for _, _, ok, error in _polls(store, cid)
            )


def _chaos_seen(side: Side) -> None:
    """Say what the bad channels did; fail if the chaos did not happen."""
    blocked = side.bad_polls.get(BLOCKED, [])
    crashing = side.bad_polls.get(CRASHING, [])
    said_block = [e for _, e in blocked if e and "must not block" in e]
    said_crash = [e for ok, e in crashing if not ok and e and "RuntimeError" in e]
    note(
        f"isolation: blocked channel: {len(blocked)} polls, {len(said_block)} reported as"
        f" blocking ({said_block[0] if said_block else 'none'!r});"
        f" crashing channel: {len(crashing)} polls, {len(said_crash)} failed"
        f" ({said_crash[0] if said_crash else 'none'!r})"
    )
    if not said_block or not said_crash:
        raise ScenarioFailed(
            "isolation: the bad channels did not misbehave as configured"
            " (see the polls above); no figure"
        )


def run_isolation(opts: Options) -> None:
    _require_sportello()
    try:
        template = shipped_template()
    except ConfigProblem as exc:
        raise ScenarioFailed(str(exc)) from exc
    measure_s = 16.0 if opts.quick else MEASURE_S
    rounds = 1 if opts.quick else ROUNDS
    base = Side("isolation baseline", chaos=False)
    chaos = Side("isolation chaos", chaos=True)
    for _ in range(rounds):
        for side in (base, chaos):
            _session(side, template, measure_s)
    for side in (base, chaos):
        side.samples.report()
        quits = ", ".join(f"status {status} in {took:.1f}s" for status, took in side.quits)
        note(f"{side.label}: quit key: {quits}")
        if not side.samples.answer:
            raise ScenarioFailed(f"{side.label}: no key press caused a frame")
    _chaos_seen(chaos)
    during = chaos.during_blocks()
    if during:
        note(
            f"isolation: {len(during)} of {len(chaos.samples.answer)} presses while a channel"
            f" was blocked: p95={percentile(during, 95):.1f}ms max={max(during):.1f}ms"
        )
    else:
        note("isolation: no press fell inside a block (the block's polls were not found)")
    base_p95 = percentile(base.samples.answer, 95)
    chaos_p95 = percentile(chaos.samples.answer, 95)
    emit("isolation_key_p95_base_ms", base_p95)
    emit("isolation_key_p95_ms", chaos_p95)
    emit("isolation_key_ratio", chaos_p95 / base_p95, 2)
