"""The real program with misbehaving plug-ins installed as distributions (issue 8).

Each plug-in is installed as pip leaves one — a module and a ``.dist-info`` with
its entry points — in a folder put on ``PYTHONPATH``, and sportello finds it by
the entry-point group like any other. Then the program runs for real: ``--once``,
``collect`` under SIGTERM, ``check-adapter``; and what it wrote (stdout, stderr,
the database and its WAL) is searched for every form of the plug-in's token.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAH-tok3n_S3cret-Value"

# Channels of the leaky plug-ins, their token given by reference.
LEAKY: dict[str, object] = {
    "id": "leaky",
    "label": "Leaky",
    "adapter": "leaky",
    "options": {"token": "${env:LEAKY_TOKEN}"},
}
OOPS: dict[str, object] = {
    "id": "oops",
    "label": "Oops",
    "adapter": "raises-token",
    "options": {"token": "${env:LEAKY_TOKEN}"},
}

PLUGINS = {
    "leaky": "tests.leaky_plugin:LeakyAdapter",
    "raises-token": "tests.leaky_plugin:RaisesToken",
    "exits": "tests.misbehaving:Exits",
    "blocks": "tests.misbehaving:Blocks",
    "swallows": "tests.misbehaving:Swallows",
    "base-exception": "tests.misbehaving:BaseExceptionRaiser",
}


def installed(tmp_path: Path) -> dict[str, str]:
    """An environment where the plug-ins above are installed (one distribution)."""
    site = tmp_path / "site"
    info = site / "misbehaving_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: misbehaving-plugins\nVersion: 1.0\n", encoding="utf-8"
    )
    points = "".join(f"{name} = {target}\n" for name, target in PLUGINS.items())
    (info / "entry_points.txt").write_text(f"[sportello.adapters]\n{points}", encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site), str(ROOT), env.get("PYTHONPATH")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    env["LEAKY_TOKEN"] = TOKEN
    return env


def config(tmp_path: Path, channels: list[dict[str, object]]) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    good = [dict(data["channels"][0], poll_interval="1s")]
    data["channels"] = good + channels
    data["store"] = {"path": str(tmp_path / "store.db")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def sportello(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sportello", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def token_forms() -> dict[str, bytes]:
    basic = f"shop:{TOKEN}".encode()
    forms = {
        "exact": TOKEN,
        "upper": TOKEN.upper(),
        "lower": TOKEN.lower(),
        "swapped": TOKEN.swapcase(),
        "quoted": quote(TOKEN, safe=""),
        "quoted lower hex": re.sub(
            r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(TOKEN, safe="")
        ),
        "quote": quote(TOKEN),
        "quote_plus": quote_plus(TOKEN),
        "base64": base64.b64encode(TOKEN.encode()).decode(),
        "base64 unpadded": base64.b64encode(TOKEN.encode()).decode().rstrip("="),
        "urlsafe base64": base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip("="),
        "basic": base64.b64encode(basic).decode(),
        "basic unpadded": base64.b64encode(basic).decode().rstrip("="),
    }
    found = {name: form.encode() for name, form in forms.items()}
    for start in range(0, len(TOKEN) - 8 + 1):  # every 8-character piece
        found[f"piece {start}"] = TOKEN[start : start + 8].encode()
    return found


def leaks(blob: bytes) -> list[str]:
    lowered = blob.lower()
    return [name for name, form in token_forms().items() if form.lower() in lowered]


def test_once_with_an_adapter_that_exits_says_so_and_exits_1(tmp_path: Path) -> None:
    env = installed(tmp_path)
    path = config(tmp_path, [{"id": "bad", "label": "Bad", "adapter": "exits"}])
    done = sportello(env, "--config", str(path), "--once")
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "adapters must not exit" in done.stdout
    assert "Traceback" not in done.stderr


def test_collect_stops_on_sigterm_whatever_the_adapters_do(tmp_path: Path) -> None:
    env = installed(tmp_path)
    path = config(
        tmp_path,
        [
            {"id": "stuck", "label": "Stuck", "adapter": "swallows", "timeout": "1s"},
            {"id": "slow", "label": "Slow", "adapter": "blocks", "timeout": "1s"},
            {"id": "odd", "label": "Odd", "adapter": "base-exception"},
        ],
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "sportello", "--config", str(path), "collect"],
        env={**env, "MISBEHAVING_BLOCK_S": "30"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        time.sleep(4)  # the stuck and the blocked calls are under way
        assert process.poll() is None, process.communicate()
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert took < 6, f"collect took {took:.1f} s to stop"
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_no_form_of_a_token_reaches_the_output_the_log_or_the_store(tmp_path: Path) -> None:
    env = installed(tmp_path)
    path = config(tmp_path, [LEAKY, OOPS])
    outputs: list[tuple[str, bytes]] = []
    for args in (("--once", "-v", "-v"), ("--once", "--json"), ("check-adapter", "leaky")):
        done = sportello(env, "--config", str(path), *args)
        outputs += [
            (f"{args} stdout", done.stdout.encode()),
            (f"{args} stderr", done.stderr.encode()),
        ]
    # the collector, logging at its most verbose, for two polls of each channel
    process = subprocess.Popen(
        [sys.executable, "-m", "sportello", "--config", str(path), "-v", "-v", "collect"],
        env={**env, "SPORTELLO_HTTP_LOG": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    time.sleep(4)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    outputs += [("collect stdout", out), ("collect stderr", err)]
    assert b"polling with" in err, "the adapter's own log lines were not written at all"
    assert b"HTTP Request" in err, "httpx's line was not written with SPORTELLO_HTTP_LOG=1"
    for name in ("store.db", "store.db-wal"):
        file = tmp_path / name
        if file.exists():
            outputs.append((name, file.read_bytes()))
    assert any(name == "store.db" for name, _ in outputs)
    found = {name: leaks(blob) for name, blob in outputs}
    assert all(not forms for forms in found.values()), found
    stored = (tmp_path / "store.db").read_bytes()
    assert b"polling" not in stored  # (logs are not in the store)
    assert b"Client error" in stored or b"401" in stored, "the failure was not recorded"


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_httpx_request_lines_are_off_by_default(tmp_path: Path, verbose: tuple[str, ...]) -> None:
    env = installed(tmp_path)
    path = config(
        tmp_path,
        [LEAKY],
    )
    done = sportello(env, "--config", str(path), *verbose, "--once")
    assert "HTTP Request" not in done.stderr


async def test_no_form_of_a_token_reaches_the_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard, through its real widgets, with the leaky channels failing."""
    from dataclasses import replace

    from sportello.app import SportelloApp
    from sportello.core.config import load_config
    from sportello_sdk import registry
    from tests.leaky_plugin import LeakyAdapter, RaisesToken

    monkeypatch.setenv("LEAKY_TOKEN", TOKEN)
    monkeypatch.setitem(registry._cache, "leaky", LeakyAdapter)
    monkeypatch.setitem(registry._cache, "raises-token", RaisesToken)
    path = config(
        tmp_path,
        [LEAKY, OOPS],
    )
    loaded = load_config(path)
    app = SportelloApp(replace(loaded, store_path=tmp_path / "store.db"))
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(200):
            board = app.dashboard.board
            errors = [r.record.last_error for r in board.channels if r.record] if board else []
            if sum(1 for e in errors if e) >= 2:
                break
            await asyncio.sleep(0.05)
        assert sum(1 for e in errors if e) >= 2, "the leaky channels never failed"
        await pilot.press("tab")  # the channel table, whose detail shows the whole error
        for _ in range(3):
            await pilot.press("down")
            await pilot.pause()
            screen = app.export_screenshot()
            assert "•••" in screen or "Leaky" in screen
            found = leaks(screen.encode())
            assert not found, found


def test_once_ends_beside_an_adapter_that_swallows_its_cancellation(tmp_path: Path) -> None:
    """The bug: --once hung forever."""
    env = installed(tmp_path)
    stuck: dict[str, object] = {
        "id": "stuck",
        "label": "Stuck",
        "adapter": "swallows",
        "timeout": "1s",
    }
    path = config(tmp_path, [stuck])
    started = time.monotonic()
    done = sportello(env, "--config", str(path), "--once", timeout=60)
    took = time.monotonic() - started
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "no answer within 1 s" in done.stdout
    assert took < 15, f"--once took {took:.1f} s"
