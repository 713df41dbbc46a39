"""Leaving cleanly when the terminal goes away or the system asks us to stop.

Over SSH the terminal can vanish at any time: a dropped connection, a closed
laptop, ``tmux kill-server``. The kernel then sends SIGHUP, but only to the
session's leader, and when that leader survives it (a ``make`` or a shell that
ignores it) nobody tells us. Textual's input thread then reads end-of-file from
the dead terminal in a loop, burning a core, and the process would keep the
collector lock forever. So:

- SIGHUP and SIGTERM end the app the normal way (the store is closed, the lock
  released, the terminal restored when there still is one);
- every few seconds the terminal is asked for its settings: a hung-up terminal
  answers with an error, and the app ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import termios

from textual.app import App

log = logging.getLogger(__name__)

CHECK_EVERY_S = 3.0
EXIT_HANGUP = 129  # 128 + SIGHUP, as a shell reports it
EXIT_TERMINATED = 143  # 128 + SIGTERM


def terminal_fd() -> int | None:
    """The terminal we draw on (Textual's driver reads stdin), if there is one."""
    stream = sys.__stdin__
    if stream is None:
        return None
    with contextlib.suppress(OSError, ValueError):
        fd = stream.fileno()
        if os.isatty(fd):
            return fd
    return None


def terminal_gone(fd: int) -> bool:
    """True when ``fd`` is a terminal that has been hung up."""
    try:
        termios.tcgetattr(fd)
    except termios.error:  # EIO once hung up; not an OSError
        return True
    return False


def watch_terminal(app: App[int]) -> None:
    """Install the signal handlers and the hang-up check; call it from ``on_mount``.

    Not for a headless app (tests): it has no terminal, and its process's signals
    are not its own.
    """
    if app.is_headless:
        return
    loop = asyncio.get_running_loop()
    for sig, code, why in (
        (signal.SIGHUP, EXIT_HANGUP, "the terminal hung up"),
        (signal.SIGTERM, EXIT_TERMINATED, "asked to stop (SIGTERM)"),
    ):
        # Not in the main thread (a test harness): the signals keep their defaults.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, _leave, app, code, why)
    fd = terminal_fd()
    if fd is None:
        return

    def check() -> None:
        if terminal_gone(fd):
            _leave(app, EXIT_HANGUP, "the terminal is gone")

    app.set_interval(CHECK_EVERY_S, check, name="terminal-watch")


def _leave(app: App[int], code: int, why: str) -> None:
    if app.return_code is not None:  # already leaving
        return
    log.warning("%s; closing the dashboard", why)
    app.exit(code)
