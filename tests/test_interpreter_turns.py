"""The dashboard's process hands the interpreter to the screen's thread soon (1 ms),
and gives Python its own switch interval back when the app ends."""

from __future__ import annotations

import sys
from pathlib import Path

from sportello.core.interpreter_turns import SCREEN_SWITCH_S
from tests.dashboard_fixtures import demo_app, until_loaded


async def test_the_app_sets_the_switch_interval_while_it_runs(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    assert before != SCREEN_SWITCH_S  # Python's default (5 ms)
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        assert sys.getswitchinterval() == SCREEN_SWITCH_S
    assert sys.getswitchinterval() == before
