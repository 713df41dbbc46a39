"""Where messages go while the dashboard owns the terminal: a private log file.

The screen is drawn on the terminal, so a warning written there would tear it.
The file is created 0600 in a 0700 folder, rotated at 1 MB (three kept).

Every log line of the process, wherever it goes (this file, stderr, a handler an
adapter or a library adds later), passes the SDK's redaction first
(:func:`secure_logging`): no form of a secret reaches a log. httpx's and
httpcore's request lines are off unless asked for (``-v -v``, or
``SPORTELLO_HTTP_LOG=1``): their URLs may carry a token (Telegram's ``/bot<token>/``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from sportello_sdk.redaction import install_log_redaction

MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HTTP_LOG_ENV = "SPORTELLO_HTTP_LOG"
HTTP_LOGGERS = ("httpx", "httpcore")
HTTP_LOG_VERBOSITY = 2
"""``-v -v`` lets httpx's request lines through."""


def http_log_wanted(verbosity: int = 0, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the user asked for httpx's request log (``-v -v`` or the variable)."""
    env = os.environ if environ is None else environ
    flag = env.get(HTTP_LOG_ENV, "").strip().lower()
    return verbosity >= HTTP_LOG_VERBOSITY or flag in {"1", "true", "yes", "on"}


def secure_logging(verbosity: int = 0, environ: Mapping[str, str] | None = None) -> None:
    """Redact every log record of the process (every handler, also those added
    later) and hold httpx's request lines back at WARNING unless asked for."""
    install_log_redaction()
    level = logging.NOTSET if http_log_wanted(verbosity, environ) else logging.WARNING
    for name in HTTP_LOGGERS:
        logging.getLogger(name).setLevel(level)


def default_log_path() -> Path:
    from platformdirs import user_log_path  # only where a log file is written

    return user_log_path("sportello") / "sportello.log"


def log_to_file(path: Path | None = None, level: int = logging.INFO) -> Path:
    """Send every log record to ``path`` (and nowhere else), redacted; returns the path.

    httpx's request lines are left out unless ``SPORTELLO_HTTP_LOG`` asks for them
    (the caller's ``-v -v``: :func:`secure_logging` again)."""
    path = path or default_log_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    import logging.handlers  # only where a log file is written (not for --once)

    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    secure_logging()
    return path
