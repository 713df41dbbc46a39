"""What the main screen looks like: the demo shop on a fixed seed at a frozen time.

Update the pictures after an intended change with ``pytest --snapshot-update``
and look at them (``snapshot_report.html``) before committing.

The terminal is pinned, so that the pictures do not depend on who runs them: 256
colours (``TERM=xterm-256color``) and Unicode glyphs unless a test says otherwise.
An SVG is drawn in true colour: the 16-colour picture shows the palette colours the
tables choose on such a terminal (bright red for critical, yellow for warnings).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from sportello.core.glyphs import ASCII, UNICODE, set_glyphs
from tests.dashboard_fixtures import demo_app, until_loaded
from tests.terminal_render import terminal_lines

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    set_glyphs(UNICODE)
    yield
    set_glyphs(None)


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


def test_main_screen_16_colours(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "xterm")  # 16 colours: critical must not turn grey
    assert snap_compare(demo_app(tmp_path), terminal_size=(80, 24), run_before=_loaded)


def test_main_screen_ascii(snap_compare: SnapCompare, tmp_path: Path) -> None:
    set_glyphs(ASCII)  # what LANG=C gets
    assert snap_compare(demo_app(tmp_path), terminal_size=(80, 24), run_before=_loaded)


def test_main_screen_40x12(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(demo_app(tmp_path), terminal_size=(40, 12), run_before=_loaded)


def test_a_small_terminal_keeps_the_worst_channel_in_view(tmp_path: Path) -> None:
    # At 40x12 the parts' least heights do not fit: the screen scrolled the top bar
    # and every channel row away to show the queue.
    async def run() -> list[str]:
        app = demo_app(tmp_path)
        async with app.run_test(size=(40, 12)) as pilot:
            await _loaded(pilot)
            await pilot.press("tab", "shift+tab")  # to the channel rows and back to the queue
            await pilot.pause()
            return [line.plain for line in terminal_lines(app, None)]

    lines = asyncio.run(run())
    assert lines[0].startswith(" sportello")
    assert lines[1].split()[:2] == ["CHANNEL", "GAP"]  # whole columns dropped, none cut
    worst = next(line for line in lines if line.startswith(" Facebook"))
    assert "████ !!" in worst
    assert any(line.startswith(" Queue") for line in lines)
