"""How soon a worker thread hands the interpreter back to the screen's thread.

Only one thread runs Python at a time. A thread that wants the interpreter asks
for it, and the one running hands it over at the next switch interval: 5 ms by
default. While a board is rebuilt, the live worker, the store's reader thread and
the thread that frees old rows all run Python, and a key that arrives then waits
for the interpreter to come round to the screen's thread, once per interval for
each thread ahead of it. Measured at 100,000 conversations with live polling
(``make bench --only scale_live --quick``, two runs of each, alternated): key p99
30-36 ms at 5 ms, 20-21 ms at 1 ms; the worst key 46-48 ms against 28-55 ms. The
workers lose little: a hand-over costs microseconds. The collect service, which draws nothing, keeps
Python's default. No Textual here.
"""

from __future__ import annotations

import sys

__all__ = ["SCREEN_SWITCH_S", "favour_the_screen"]

SCREEN_SWITCH_S = 0.001


def favour_the_screen() -> float:
    """Set the switch interval for a process with a screen; returns the old one
    (for :func:`sys.setswitchinterval`, when the screen is gone)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(SCREEN_SWITCH_S)
    return old
