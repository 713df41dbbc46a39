"""Shared fixtures for dashboard tests: the demo config on a temp store, a frozen clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from textual.pilot import Pilot

from sportello.app import SportelloApp
from sportello.core.config import load_config
from sportello.core.settings import Config
from sportello.screens.dashboard import DashboardScreen

ROOT = Path(__file__).resolve().parent.parent
# A Tuesday at 11:00 in Rome: the shop is open and busy.
FROZEN = datetime(2026, 11, 24, 11, 0, tzinfo=ZoneInfo("Europe/Rome")).astimezone(UTC)


def frozen_clock() -> datetime:
    return FROZEN


def demo_config(store: Path) -> Config:
    """The shipped config.yaml, its store moved to ``store``."""
    return replace(load_config(ROOT / "config.yaml"), store_path=store)


def demo_app(tmp_path: Path, **kw: object) -> SportelloApp:
    return SportelloApp(demo_config(tmp_path / "store.db"), clock=frozen_clock, **kw)  # type: ignore[arg-type]


async def until_loaded(pilot: Pilot[int], polled: bool = True, limit_s: float = 20.0) -> None:
    """Wait until the dashboard shows a complete board (after every channel was polled)."""
    app = pilot.app
    assert isinstance(app, SportelloApp)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        board = app.dashboard.board
        if (
            board is not None
            and board.complete
            and (
                not polled or all(row.record and row.record.last_poll_at for row in board.channels)
            )
        ):
            await pilot.pause()
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the dashboard never showed a board")


def dashboard(pilot: Pilot[int]) -> DashboardScreen:
    app = pilot.app
    assert isinstance(app, SportelloApp)
    return app.dashboard
