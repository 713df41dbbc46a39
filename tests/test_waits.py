"""event_or_timeout: a time-limited wait that never loses a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from sportello.core.waits import event_or_timeout


async def test_true_when_set_false_when_the_time_runs_out() -> None:
    event = asyncio.Event()
    assert await event_or_timeout(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await event_or_timeout(event, 5) is True


async def test_a_cancellation_landing_as_the_event_is_set_is_kept() -> None:
    # asyncio.wait_for in Python 3.11 returns normally here, losing the cancellation.
    for steps in range(4):
        event = asyncio.Event()
        task = asyncio.create_task(event_or_timeout(event, 5))
        for _ in range(steps):
            await asyncio.sleep(0)
        event.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
