"""Suite-wide guards.

Tests write only under their temporary folders: a file a test leaves in the
repository (``exit.txt`` was one, committed by accident) fails the run. The
check compares the repository's untracked, non-ignored files before and after
the whole session, in the controlling process (with pytest-xdist, after every
worker has finished).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_BEFORE = pytest.StashKey[frozenset[str]]()


def untracked_files(root: Path = ROOT) -> frozenset[str] | None:
    """Files git does not track and does not ignore, or None outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard", "-z"],
            capture_output=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(name for name in result.stdout.decode("utf-8", "replace").split("\0") if name)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _is_worker(session.config):
        return
    before = untracked_files()
    if before is not None:
        session.config.stash[_BEFORE] = before


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_worker(session.config):
        return
    before = session.config.stash.get(_BEFORE, None)
    after = untracked_files()
    if before is None or after is None:
        return
    left = sorted(after - before)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "tests left files in the repository: " + ", ".join(left)
        if reporter is not None:
            reporter.write_line(message, red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _unicode_glyphs() -> Iterator[None]:
    """Tests see the Unicode glyphs whatever the locale CI runs them in; the tests of
    the ASCII fallback choose it themselves."""
    from sportello.core.glyphs import UNICODE, set_glyphs

    set_glyphs(UNICODE)
    yield
    set_glyphs(None)


@pytest.fixture(autouse=True)
def _private_xdg(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every process it starts) has its own data and state folders:
    nothing reaches the user's ~/.local (the demo's records, a default store)."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
