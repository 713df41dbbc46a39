"""When the cyclic garbage collector may take its time: not while someone types.

A full collection walks every object the collector tracks. With 100,000 queue
rows that took 150-230 ms on a shared machine, and Python starts one by itself
whenever enough new objects have survived, which with live polling is every
board or two: a key pressed then waited for it. Reference counting frees the
rows a board replaces (they hold no reference cycle, tests/test_memory.py); what
only a full collection frees is cyclic garbage, which a dashboard makes little of.

So the dashboard's process leaves young collections to Python (they take small
bites) and runs the full ones itself (:class:`FullCollections`): at most every
:data:`FULL_EVERY_S`, once no key or click came for :data:`QUIET_S`; after
:data:`FULL_AT_MOST_S` without one, whatever the user does. No Textual here.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

__all__ = [
    "FULL_AT_MOST_S",
    "FULL_EVERY_S",
    "QUIET_S",
    "FullCollections",
    "defer_full_collections",
]

FULL_EVERY_S = 600.0  # a full collection at most this often…
QUIET_S = 2.0  # …once nobody pressed a key for this long…
FULL_AT_MOST_S = 3600.0  # …and at least this often, quiet or not
_NEVER = 1 << 30  # gen-1 collections before Python would start a full one itself


def defer_full_collections() -> tuple[int, int, int]:
    """Stop Python from starting full collections by itself; returns the old
    thresholds (for :func:`gc.set_threshold`)."""
    old = gc.get_threshold()
    gc.set_threshold(old[0], old[1], _NEVER)
    return old


class FullCollections:
    """Runs the full collections Python no longer starts (call :meth:`tick` often)."""

    def __init__(
        self,
        collect: Callable[[], object] = gc.collect,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._collect = collect
        self._clock = clock
        self._last_full = clock()
        self._last_input = float("-inf")
        self.last_took_s: float | None = None
        """How long the last full collection took (None: none yet)."""

    def input_seen(self) -> None:
        """Someone pressed a key or clicked."""
        self._last_input = self._clock()

    def tick(self) -> bool:
        """Collect if it is time to; True if it did."""
        now = self._clock()
        since = now - self._last_full
        quiet = now - self._last_input >= QUIET_S
        if not (since >= FULL_AT_MOST_S or (since >= FULL_EVERY_S and quiet)):
            return False
        started = time.perf_counter()
        self._collect()
        self.last_took_s = time.perf_counter() - started
        self._last_full = self._clock()
        return True
