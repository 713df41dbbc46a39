"""``adapters`` and ``sportello.core`` must work without Textual.

The headless commands, the collector and the tests use them without a terminal.
Each check runs in a fresh interpreter where any import of ``textual`` fails, and
imports every module of the packages found by ``pkgutil``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HARNESS = r"""
import importlib
import pkgutil
import sys
import traceback


class NoTextual:
    '''A meta path finder that makes "import textual" fail.'''

    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None


sys.meta_path.insert(0, NoTextual())
problems = []


def note(name):
    problems.append(f"{name}: " + traceback.format_exc().strip().splitlines()[-1])


for root in sys.argv[1:]:
    try:
        package = importlib.import_module(root)
    except Exception:
        note(root)
        continue
    print("imported", root)
    found = pkgutil.walk_packages(package.__path__, root + ".", onerror=note)
    for info in sorted(found, key=lambda info: info.name):
        try:
            importlib.import_module(info.name)
        except Exception:
            note(info.name)
        else:
            print("imported", info.name)

if any(name == "textual" or name.startswith("textual.") for name in sys.modules):
    problems.append("textual ended up in sys.modules")
for problem in problems:
    print("PROBLEM", problem)
sys.exit(1 if problems else 0)
"""


def run_harness(*packages: str, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(extra_path), env.get("PYTHONPATH")) if p
        )
    return subprocess.run(
        [sys.executable, "-c", HARNESS, *packages],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
        check=False,
    )


def imported(output: str) -> set[str]:
    return {line.split(" ", 1)[1] for line in output.splitlines() if line.startswith("imported ")}


def modules_on_disk(package_dir: Path, prefix: str) -> set[str]:
    names = {prefix}
    for path in package_dir.rglob("*.py"):
        relative = path.relative_to(package_dir).with_suffix("")
        parts = [part for part in relative.parts if part != "__init__"]
        if parts:
            names.add(".".join([prefix, *parts]))
    return names


def test_adapters_and_the_core_import_without_textual() -> None:
    result = run_harness("sportello_sdk", "sportello_demo", "sportello.core")
    assert result.returncode == 0, result.stdout + result.stderr
    seen = imported(result.stdout)
    assert {
        "sportello_sdk",
        "sportello_demo.adapter",
        "sportello_demo.data",
        "sportello_sdk.registry",
    } <= seen
    assert modules_on_disk(REPO / "tui" / "sportello" / "core", "sportello.core") <= seen
    assert modules_on_disk(REPO / "adapters" / "sportello_sdk", "sportello_sdk") <= seen
    assert modules_on_disk(REPO / "adapters" / "sportello_demo", "sportello_demo") <= seen


def test_the_check_catches_a_core_module_that_imports_textual(tmp_path: Path) -> None:
    """The harness is not vacuous: one ``import textual`` in a core module fails it."""
    core = tmp_path / "probe_app" / "core"
    core.mkdir(parents=True)
    (tmp_path / "probe_app" / "__init__.py").write_text("")
    (core / "__init__.py").write_text("")
    (core / "plain.py").write_text("VALUE = 1\n")
    (core / "widgety.py").write_text("import textual\n")
    result = run_harness("probe_app.core", extra_path=tmp_path)
    assert result.returncode == 1
    assert "probe_app.core.plain" in imported(result.stdout)
    assert "PROBLEM probe_app.core.widgety" in result.stdout
    assert "textual" in result.stdout


def test_the_check_catches_textual_in_a_nested_package(tmp_path: Path) -> None:
    nested = tmp_path / "probe_nested" / "inner"
    nested.mkdir(parents=True)
    (tmp_path / "probe_nested" / "__init__.py").write_text("")
    (nested / "__init__.py").write_text("from textual.app import App\n")
    result = run_harness("probe_nested", extra_path=tmp_path)
    assert result.returncode == 1
    assert "PROBLEM probe_nested.inner" in result.stdout
