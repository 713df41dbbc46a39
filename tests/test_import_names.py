"""sportello's import names are its own: other distributions called ``tui`` or
``adapters`` (both exist on PyPI) installed beside it change nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sportello_sdk import registry

OTHERS = ("tui", "adapters")


def _shadowing(tmp_path: Path) -> dict[str, str]:
    """An environment where a package named like each folder comes first on the path."""
    for name in OTHERS:
        package = tmp_path / "site" / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"raise ImportError('this is another {name}')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(tmp_path / "site"), env.get("PYTHONPATH")) if p
    )
    return env


def test_the_program_works_beside_distributions_named_tui_and_adapters(tmp_path: Path) -> None:
    env = _shadowing(tmp_path)
    # The shadowing is real: the generic names now resolve to the others.
    probe = subprocess.run(
        [sys.executable, "-c", "import adapters"], env=env, capture_output=True, text=True
    )
    assert "this is another adapters" in probe.stderr
    result = subprocess.run(
        [sys.executable, "-m", "sportello", "adapters", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    names = [entry["name"] for entry in json.loads(result.stdout)]
    assert "demo" in names


def test_no_entry_point_of_ours_names_a_generic_module() -> None:
    for entry in registry.available():
        module = entry.target.split(":", 1)[0].split(".", 1)[0]
        if entry.distribution == "sportello":
            assert module.startswith("sportello"), entry
