"""What the main screen looks like: the demo shop on a fixed seed at a frozen time.

Update the pictures after an intended change with ``pytest --snapshot-update``
and look at them (``snapshot_report.html``) before committing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.dashboard_fixtures import demo_app, until_loaded

SnapCompare = Callable[..., bool]


async def _loaded(pilot: Pilot[int]) -> None:
    await until_loaded(pilot)
    await asyncio.sleep(0.3)  # the preview loads once the cursor rests
    await pilot.pause()


def test_main_screen_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=(80, 24), run_before=_loaded)


def test_main_screen_160x48(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=(160, 48), run_before=_loaded)


def test_main_screen_without_colour(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(demo_app(tmp_path), terminal_size=(80, 24), run_before=_loaded)
