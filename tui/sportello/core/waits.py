"""Waiting on an event with a time limit, without losing a cancellation.

Not ``asyncio.wait_for``: before Python 3.12 it swallows a cancellation that lands
just as the awaited thing finishes, and a loop that swallows one never stops
(``sportello collect`` hung on SIGTERM that way). ``asyncio.timeout`` does not.
"""

from __future__ import annotations

import asyncio
import contextlib


async def event_or_timeout(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` have passed; True if it was set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


def stop_if_cancelled() -> None:
    """Raise the cancellation a plug-in caught and dropped (in a fetch, an action).

    The request is still counted on the task (``cancelling()``); honouring it after
    the plug-in's call keeps one misbehaving adapter from keeping the program
    running after a stop.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
