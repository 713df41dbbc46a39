"""Where messages go while the dashboard owns the terminal: a private log file.

The screen is drawn on the terminal, so a warning written there would tear it.
The file is created 0600 in a 0700 folder, rotated at 1 MB (three kept). What is
logged is already free of secrets (adapter errors are redacted by the collector)
and of control characters.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from platformdirs import user_log_path

MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def default_log_path() -> Path:
    return user_log_path("sportello") / "sportello.log"


def log_to_file(path: Path | None = None, level: int = logging.INFO) -> Path:
    """Send every log record to ``path`` (and nowhere else); returns the path."""
    path = path or default_log_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return path
