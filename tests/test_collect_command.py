"""``sportello collect``: one poller per store, a stand-by that takes over, a clean stop."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def config_file(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["store"] = {"path": str(tmp_path / "store.db")}
    for channel in data["channels"]:
        channel["poll_interval"] = "1s"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def start(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sportello.cli", "--config", str(config), "collect"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def polls(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM polls").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def channels_polled(db: Path) -> int:
    """How many channels have had a successful poll."""
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            query = "SELECT count(DISTINCT channel_id) FROM polls WHERE ok"
            return int(conn.execute(query).fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def wait_for(predicate: object, limit_s: float = 30.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_collect_polls_stands_by_takes_over_and_stops_cleanly(tmp_path: Path) -> None:
    config = config_file(tmp_path)
    db = tmp_path / "store.db"
    first = start(config)
    second: subprocess.Popen[str] | None = None
    try:
        assert wait_for(lambda: polls(db) >= 10), "the collector did not poll"
        second = start(config)
        time.sleep(2)
        assert second.poll() is None, "the second collector exited instead of standing by"
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=20)
        assert first.returncode == 0, err
        assert "Traceback" not in err
        counted = polls(db)
        assert wait_for(lambda: polls(db) > counted + 5), "the stand-by did not take over"
        second.send_signal(signal.SIGTERM)
        out, err = second.communicate(timeout=20)
        assert second.returncode == 0, err
        assert "standing by" in err
        assert out == ""
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate(timeout=10)


def test_once_beside_the_collector_service_shows_what_it_stored(tmp_path: Path) -> None:
    config = config_file(tmp_path)
    db = tmp_path / "store.db"
    collector = start(config)
    try:
        assert wait_for(lambda: channels_polled(db) == 5), "the collector did not poll"
        done = subprocess.run(
            [sys.executable, "-m", "sportello.cli", "--config", str(config), "--once"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("CHANNEL")
        assert len(done.stdout.splitlines()) == 6
        assert "showing what it stored, last poll" in done.stderr
        assert collector.poll() is None, "the collector stopped"
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.communicate(timeout=20)


def test_once_poll_asks_the_collector_service_for_a_fresh_poll(tmp_path: Path) -> None:
    config = config_file(tmp_path)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for channel in data["channels"]:
        channel["poll_interval"] = "1h"  # only the request can poll them again
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "store.db"
    collector = start(config)
    try:
        assert wait_for(lambda: channels_polled(db) == 5), "the collector did not poll"
        before = polls(db)
        done = subprocess.run(
            [sys.executable, "-m", "sportello.cli", "--config", str(config), "--once", "--poll"],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0, done.stderr
        assert "it polled every channel at our request" in done.stderr, done.stderr
        assert polls(db) >= before + 5, "no fresh poll of every channel"
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.communicate(timeout=20)


def test_poll_goes_with_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sportello.cli", "--config", str(config_file(tmp_path)), "--poll"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "--poll goes with --once" in done.stderr
