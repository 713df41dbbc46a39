"""What the outbox's crash tests share: a shop of demo channels in a folder, the
child processes (tests/outbox_child.py) and what the store and the channels'
records say afterwards."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sportello_demo.record import deliveries_by_key

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "outbox_child.py"
CHANNELS = ("email", "facebook")  # demo profiles whose scale slots rarely turn over
EVERY_DAY = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def write_config(folder: Path, *, scale: int = 20) -> Path:
    """Two demo channels that keep a record, deliver a repeated key again
    (``honour_keys: false``) and hold nothing back (``undo_window: 0s``)."""
    config = {
        "business": {"name": "Bottega di prova", "timezone": "Europe/Rome", "hours": EVERY_DAY},
        "store": {"path": str(folder / "store.db")},
        "channels": [
            {
                "id": cid,
                "label": cid.title(),
                "adapter": "demo",
                "poll_interval": "1s",
                "timeout": "10s",
                "undo_window": "0s",
                "options": {
                    "profile": cid,
                    "scale": scale,
                    "record": str(folder / f"{cid}.jsonl"),
                    "honour_keys": False,
                    "act_delay": 0,
                },
            }
            for cid in CHANNELS
        ],
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def env(folder: Path) -> dict[str, str]:
    """The children write nothing outside ``folder``."""
    return {
        **os.environ,
        "XDG_STATE_HOME": str(folder / "state"),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
    }


def child_argv(mode: str, config: Path, *args: str) -> list[str]:
    return [sys.executable, str(CHILD), mode, str(config), *args]


def run_child(
    folder: Path, mode: str, *args: str, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        child_argv(mode, folder / "config.yaml", *args),
        cwd=ROOT,
        env=env(folder),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn_child(folder: Path, mode: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        child_argv(mode, folder / "config.yaml", *args),
        cwd=ROOT,
        env=env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The child's stdout; its stderr in the failure when it did not end well."""
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout


def last_json(out: str) -> dict[str, Any]:
    value = json.loads(out.strip().splitlines()[-1])
    assert isinstance(value, dict)
    return value


@dataclass(frozen=True)
class Outcome:
    """One action as the store has it, and how often its channel accepted it."""

    key: str
    state: str
    attempts: int
    error: str | None
    result: str | None
    deliveries: int
    recorded: bool  # a sent reply's message is in the store
    conversation_id: int
    made_at: float


def outcomes(folder: Path) -> dict[str, Outcome]:
    counts: collections.Counter[str] = collections.Counter()
    for cid in CHANNELS:
        counts.update(deliveries_by_key(folder / f"{cid}.jsonl"))
    uri = (folder / "store.db").as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        rows = conn.execute(
            "SELECT o.key, o.state, o.attempts, o.error, o.result, EXISTS (SELECT 1 FROM"
            " messages AS m WHERE m.conversation_id = o.conversation_id AND m.key = 'id:' ||"
            " o.result AND m.author = 'business'), o.conversation_id, o.made_at FROM outbox AS o"
        ).fetchall()
        unknown_keys = set(counts) - {str(row[0]) for row in rows}
    found = {
        str(key): Outcome(
            str(key), str(state), int(n), error, result, counts[str(key)], bool(rec), int(c), at
        )
        for key, state, n, error, result, rec, c, at in rows
    }
    # A delivery of a key the store never had would be a send out of nowhere.
    assert not unknown_keys, f"the channels got keys the outbox never made: {unknown_keys}"
    return found


def check_invariants(found: dict[str, Outcome], enqueued: Iterable[str]) -> None:
    """Nothing vanished, nothing reached a channel twice, every state tells the truth:
    sent → delivered exactly once and its message recorded; unknown → at most once;
    anything else → never."""
    missing = set(enqueued) - set(found)
    assert not missing, f"{len(missing)} committed actions vanished"
    problems = []
    for o in found.values():
        if o.deliveries > 1:
            problems.append(f"{o.key}: delivered {o.deliveries} times ({o.state})")
        elif o.state == "sent" and (o.deliveries != 1 or not o.recorded):
            problems.append(f"{o.key}: sent, delivered {o.deliveries}, recorded {o.recorded}")
        elif o.state not in ("sent", "unknown") and o.deliveries:
            problems.append(f"{o.key}: {o.state} but delivered {o.deliveries}")
    assert not problems, "\n".join(problems[:20])


def tally(found: dict[str, Outcome]) -> collections.Counter[tuple[str, int]]:
    return collections.Counter((o.state, o.deliveries) for o in found.values())


def seed_store(folder: Path, template: Path | None) -> None:
    """A store polled once: copied from ``template`` when given, else polled now."""
    if template is None:
        ok(run_child(folder, "poll"))
        return
    for name in ("store.db", "store.db-wal"):
        source = template / name
        if source.exists():
            (folder / name).write_bytes(source.read_bytes())


def pick(items: Sequence[Any], per_channel: int) -> list[Any]:
    """``per_channel`` waiting conversations of each channel."""
    chosen: list[Any] = []
    for cid in CHANNELS:
        chosen.extend([i for i in items if i.channel_id == cid][:per_channel])
    return chosen
