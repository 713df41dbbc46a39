"""The dashboard in a real pseudo-terminal: it leaves when the terminal goes away
(even when no SIGHUP reaches it) and on SIGTERM, instead of spinning on a dead tty."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pty and /proc behaviour")


def _config(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["store"] = {"path": str(tmp_path / "store.db")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _spawn(tmp_path: Path, shell: str) -> tuple[int, int]:
    """Run ``shell`` (with $0 = python, $1 = config, $2 = tmp_path) as a session leader
    in a pty, in the repository's folder (which it must not write to)."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "80",
        "LINES": "24",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    pid, master = pty.fork()
    if pid == 0:  # the child: never returns
        try:
            os.chdir(ROOT)
            argv = ["sh", "-c", shell, sys.executable, str(_config(tmp_path)), str(tmp_path)]
            os.execve("/bin/sh", argv, env)
        finally:
            os._exit(127)
    return pid, master


def _read_until(master: int, marker: bytes, limit_s: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + limit_s
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    return seen


def _dashboard_pid(shell_pid: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == shell_pid and b"sportello.cli" in cmdline:
                return int(entry.name)
        time.sleep(0.1)
    raise AssertionError("the dashboard process did not start")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pid: int, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.1)
    return False


def test_leaves_when_the_terminal_vanishes_and_no_sighup_comes(tmp_path: Path) -> None:
    # The shell leads the session and ignores SIGHUP, like a `make run` that
    # outlives its terminal: the kernel tells only the leader, so the dashboard
    # hears nothing and must notice by itself.
    shell = (
        'trap \'\' HUP; "$0" -m sportello.cli --config "$1"; '
        'echo "exit=$?" > "$2/exit.txt"; sleep 30'
    )
    shell_pid, master = _spawn(tmp_path, shell)
    dashboard = 0
    try:
        assert b"Queue" in _read_until(master, b"Queue", 30), "no dashboard on the terminal"
        dashboard = _dashboard_pid(shell_pid)
        os.close(master)
        master = -1
        assert _wait_gone(dashboard, 15), "the dashboard kept running on a dead terminal"
    finally:
        for pid in (dashboard, shell_pid):
            if pid and _running(pid):
                os.kill(pid, signal.SIGKILL)
        if master >= 0:
            os.close(master)
        os.waitpid(shell_pid, 0)


def test_sigterm_ends_the_dashboard_cleanly(tmp_path: Path) -> None:
    shell_pid, master = _spawn(tmp_path, 'exec "$0" -m sportello.cli --config "$1"')
    try:
        assert b"Queue" in _read_until(master, b"Queue", 30), "no dashboard on the terminal"
        os.kill(shell_pid, signal.SIGTERM)
        tail = _read_until(master, b"\x1b[?1049l", 10)  # leaves the alternate screen
        _, status = os.waitpid(shell_pid, 0)
        assert os.WIFEXITED(status), "killed by the signal instead of leaving"
        assert os.WEXITSTATUS(status) == 143
        assert b"\x1b[?1049l" in tail, "the terminal was not restored"
        log = (tmp_path / "state" / "sportello" / "log" / "sportello.log").read_text()
        assert "asked to stop (SIGTERM)" in log
    finally:
        if _running(shell_pid):
            os.kill(shell_pid, signal.SIGKILL)
            os.waitpid(shell_pid, 0)
        os.close(master)
