"""The ``sportello`` command line: exit codes, stdout carries only the output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "channel",
    "label",
    "waiting",
    "oldest_wait_s",
    "expect_s",
    "gap_s",
    "frt_p50_s",
    "state",
    "error",
}


def demo_config(tmp_path: Path, **channel_options: object) -> Path:
    """The shipped config.yaml with the store in tmp_path (and options for every channel)."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["store"] = {"path": str(tmp_path / "store.db")}
    for channel in data["channels"]:
        channel.setdefault("options", {}).update(channel_options)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_once_json_has_one_object_per_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path)
    assert main(["--config", str(config), "--once", "--json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert [row["channel"] for row in rows] == ["email", "chat", "phone", "facebook", "telegram"]
    for row in rows:
        assert set(row) == KEYS
        assert row["state"] == "ok"
        assert row["error"] is None
        assert isinstance(row["waiting"], int)
        for key in ("oldest_wait_s", "expect_s", "gap_s", "frt_p50_s"):
            assert row[key] is None or isinstance(row[key], int)
    assert (tmp_path / "store.db").exists()


def test_once_table_is_all_that_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path)
    assert main(["--config", str(config), "--once"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["CHANNEL", "WAITING", "OLDEST"]
    assert [line.split()[0] for line in lines[1:]] == [
        "Email",
        "Chat",
        "Telefono",
        "Facebook",
        "Telegram",
    ]


def test_once_exits_1_when_a_channel_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path, fail_rate=1.0)
    assert main(["--config", str(config), "--once", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert {row["state"] for row in rows} == {"degraded"}
    assert all(row["error"] for row in rows)


def test_config_error_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text(
        "business:\n  name: Shop\nchannels:\n  - id: mail\n    adapter: demo\n"
        "    expectaton: 4h\n    options: {profile: email}\n",
        encoding="utf-8",
    )
    assert main(["--config", str(bad), "--once"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "config.yaml:6" in captured.err
    assert "expectation" in captured.err  # the did-you-mean
    assert "Traceback" not in captured.err


def test_check_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(ROOT / "config.yaml")]) == 0
    assert "no problems" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("business: [\n", encoding="utf-8")
    assert main(["check-config", str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().out
    assert main(["check-config", str(tmp_path / "missing.yaml")]) == 2


def test_adapters_lists_declared_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapters", "--json"]) == 0
    described = {a["name"]: a for a in json.loads(capsys.readouterr().out)}
    demo = described["demo"]
    names = [option["name"] for option in demo["options"]]
    assert "profile" in names and "scale" in names
    for option in demo["options"]:
        assert set(option) == {"name", "type", "required", "secret", "default", "description"}
    assert main(["adapters"]) == 0
    assert "profile" in capsys.readouterr().out


def test_console_script_runs_without_a_traceback(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--config", str(config), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("CHANNEL")
    assert done.stderr == ""


def test_a_store_that_is_not_a_database_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path)
    (tmp_path / "store.db").write_bytes(b"this is not a database, it is a shopping list")
    assert main(["--config", str(config), "--once"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "store.db" in captured.err and "not a database" in captured.err
    assert "Traceback" not in captured.err
    assert (tmp_path / "store.db").read_bytes().startswith(b"this is not"), "it was overwritten"
