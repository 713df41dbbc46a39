"""The worked example of docs/adapters.md (docs/example-plugin/) cannot go stale.

It is installed as pip would leave it — its package and a ``.dist-info`` with the
entry points its own pyproject.toml declares — into a temporary folder, and then
its own tests run (sportello's contract kit through the pytest plugin) and
sportello finds it by its entry point, in fresh interpreters.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "example-plugin"


def install(target: Path) -> dict[str, object]:
    """The example's package and its dist-info in ``target``; its [project] table."""
    project: dict[str, object] = tomllib.loads(
        (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    )["project"]
    name, version = str(project["name"]), str(project["version"])
    for package in (EXAMPLE / "src").iterdir():
        if package.is_dir() and (package / "__init__.py").exists():
            shutil.copytree(package, target / package.name)
    info = target / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    groups = project["entry-points"]
    assert isinstance(groups, dict)
    text = "".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in points.items()) + "\n"
        for group, points in groups.items()
    )
    (info / "entry_points.txt").write_text(text, encoding="utf-8")
    return project


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    target = tmp_path / "site"
    target.mkdir()
    install(target)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(target), env.get("PYTHONPATH")) if p)
    env.pop("PYTEST_ADDOPTS", None)
    return target, env


def test_its_own_tests_pass_under_the_contract_kit(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = installed
    work = tmp_path / "example"  # a copy: nothing written into the repository
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("src", "__pycache__"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "sportello_sdk.pytest_plugin",  # also where the entry point is not installed
            "-p",
            "no:cacheprovider",
            "tests",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_sportello_finds_it_by_its_entry_point(installed: tuple[Path, dict[str, str]]) -> None:
    _, env = installed
    done = subprocess.run(
        [sys.executable, "-m", "sportello", "adapters", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    described = {entry["name"]: entry for entry in json.loads(done.stdout)}
    helpdesk = described["json-helpdesk"]
    assert helpdesk["distribution"] == "sportello-example-helpdesk"
    assert helpdesk["target"] == "sportello_example_helpdesk:HelpdeskAdapter"
    assert "declared_name" not in helpdesk  # the class's name is the entry point's
    token = next(option for option in helpdesk["options"] if option["name"] == "token")
    assert token["secret"] and token["required"]
    assert done.stderr == ""


def test_the_example_imports_only_the_sdk() -> None:
    for path in (EXAMPLE / "src").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import sportello\n" not in text and "from sportello." not in text, path
