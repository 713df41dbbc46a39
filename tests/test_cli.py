"""The ``sportello`` command line: exit codes, stdout carries only the output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sportello.cli import main

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
    "dropped",
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
    option_keys = {"name", "type", "required", "secret", "default", "description"}
    for option in demo["options"]:
        assert set(option) == option_keys | {"minimum", "maximum", "choices"}
    by_name = {option["name"]: option for option in demo["options"]}
    assert (by_name["fail_rate"]["minimum"], by_name["fail_rate"]["maximum"]) == (0, 1)
    assert by_name["seed"]["minimum"] is None and by_name["seed"]["choices"] is None
    assert by_name["profile"]["choices"] == ["email", "chat", "phone", "facebook", "telegram"]
    assert main(["adapters"]) == 0
    out = capsys.readouterr().out
    assert "profile" in out
    assert "fail_rate: float = 0.0 (0 to 1)" in out
    assert "profile: str [required] (one of email, chat, phone, facebook, telegram)" in out


def test_console_script_runs_without_a_traceback(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "sportello.cli", "--config", str(config), "--once"],
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


# ── issue 6: every number true, every key honest ───────────────────────────────


def never_polled_config(tmp_path: Path) -> Path:
    """The demo config whose every poll fails: no channel's queue is ever read."""
    return demo_config(tmp_path, fail_rate=1.0)


def test_once_json_says_null_for_a_channel_never_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(never_polled_config(tmp_path)), "--once", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        assert row["state"] == "degraded"
        assert (row["waiting"], row["oldest_wait_s"], row["gap_s"]) == (None, None, None)
        assert row["expect_s"] > 0  # what the config says is still known


def test_once_table_says_dash_for_a_channel_never_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(never_polled_config(tmp_path)), "--once"]) == 1
    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines
    for line in lines:
        cells = line.split()
        assert cells[1:3] == ["—", "—"], line  # waiting, oldest
        assert cells[4] == "—", line  # gap: not "ok"
        assert " ok" not in line.split("degraded")[0]


def test_once_json_oldest_wait_is_null_when_nobody_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(demo_config(tmp_path, rate=0.0)), "--once", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    empty = [row for row in rows if row["waiting"] == 0]
    assert empty, rows
    for row in empty:
        assert row["oldest_wait_s"] is None and row["gap_s"] is None


def test_json_without_once_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = demo_config(tmp_path)
    try:  # in a process of its own: were the dashboard opened, it would not end
        done = subprocess.run(
            [sys.executable, "-m", "sportello.cli", "--config", str(config), "--json"],
            capture_output=True,
            text=True,
            timeout=20,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("--json without --once opened the dashboard into the pipe")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "--json goes with --once" in done.stderr
    assert not (tmp_path / "store.db").exists()  # no dashboard was started
    assert main(["--json", "adapters"]) == 0
    json.loads(capsys.readouterr().out)


def test_check_config_names_the_argument_of_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", str(tmp_path / "missing.yaml")]) == 2
    out = capsys.readouterr().out
    assert "missing.yaml: no such file (given to check-config on the command line)" in out
    assert "--config" not in out
    assert main(["--config", str(tmp_path / "missing.yaml"), "check-config"]) == 2
    assert "(given with --config)" in capsys.readouterr().out


def test_check_config_says_which_store_it_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path)
    assert main(["check-config", str(config)]) == 0
    assert f"no problems (5 channel(s)); store: {tmp_path / 'store.db'}" in capsys.readouterr().out


def test_once_verbose_logs_the_store(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "sportello.cli", "--config", str(config), "--once", "-v"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert f"sportello: store: {tmp_path / 'store.db'}" in done.stderr


def test_check_config_refuses_what_fails_at_run_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path, fail_rate=2)
    text = config.read_text(encoding="utf-8")
    text = text.replace("business:", "keys:\n  dashboard.filter: q\nbusiness:", 1)
    text = text.replace(f"path: {tmp_path / 'store.db'}", f"path: {tmp_path}")
    config.write_text(text, encoding="utf-8")
    assert main(["check-config", str(config)]) == 2
    out = capsys.readouterr().out.splitlines()
    lines = text.splitlines()
    fail_rates = [n for n, line in enumerate(lines, 1) if "fail_rate" in line]
    expected = [f"{config}:{n}: " for n in fail_rates]
    assert sum("options.fail_rate: must be between 0 and 1, got 2" in line for line in out) == 5
    assert all(any(line.startswith(e) for line in out) for e in expected)
    assert any(":2: keys · dashboard.filter: 'q' is also app.quit" in line for line in out)
    store_line = next(n for n, line in enumerate(lines, 1) if line.strip().startswith("path:"))
    assert any(line.startswith(f"{config}:{store_line}: store · path: ") for line in out)
    assert out[-1] == f"7 problems in {config}"


def test_an_adapter_that_is_not_installed_lists_the_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = demo_config(tmp_path)
    text = config.read_text(encoding="utf-8").replace("adapter: demo", "adapter: imap", 1)
    config.write_text(text, encoding="utf-8")
    assert main(["check-config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "adapter: no adapter named 'imap' is installed (installed: demo;" in out
    assert "sportello adapters lists them" in out


def test_once_reads_what_the_running_collector_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sportello.core.leader import CollectorLock

    config = demo_config(tmp_path)
    assert main(["--config", str(config), "--once", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    polls_before = _count_polls(tmp_path / "store.db")
    collector = CollectorLock(tmp_path / "store.db")
    assert collector.try_acquire()
    try:
        assert main(["--config", str(config), "--once", "--json"]) == 0
        captured = capsys.readouterr()
    finally:
        collector.release()
    assert _count_polls(tmp_path / "store.db") == polls_before, "it polled beside the collector"
    assert [row["waiting"] for row in json.loads(captured.out)] == [row["waiting"] for row in first]
    assert "another sportello (a dashboard or collect) is polling this store" in captured.err
    assert "showing what it stored, last poll" in captured.err and " ago" in captured.err


def test_once_beside_a_collector_exits_1_for_unknown_or_failing_channels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sportello.core.leader import CollectorLock

    config = demo_config(tmp_path)
    collector = CollectorLock(tmp_path / "store.db")
    assert collector.try_acquire()
    try:  # nothing stored yet: every channel unknown
        assert main(["--config", str(config), "--once", "--json"]) == 1
    finally:
        collector.release()
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert {row["state"] for row in rows} == {"unknown"}
    assert {row["waiting"] for row in rows} == {None}
    assert "no channel polled yet" in captured.err


def _count_polls(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM polls").fetchone()[0])


def test_triage_config_errors_exit_2_with_their_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text(
        "business:\n  name: Shop\n  hours: {mon: [09:00-17:00]}\n"
        "team:\n  - Anna\n  - anna\n"
        "read_only: sometimes\n"
        "channels:\n  - id: mail\n    adapter: demo\n    undo_window: 10\n"
        "    options: {profile: email}\n",
        encoding="utf-8",
    )
    for command in (["queue"], ["close", "1"], ["check-config", str(bad)]):
        code = main(["--config", str(bad), *command])
        assert code == 2
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert "config.yaml:6: team #2: 'anna' is already in the team (line 5)" in text
        assert "config.yaml:7: read_only: expected true or false, got text" in text
        assert "config.yaml:11: channel 'mail' · undo_window: 10 has no unit" in text
        assert "Traceback" not in text
