"""The dashboard's log file: private, and the only place messages go."""

from __future__ import annotations

import logging
from pathlib import Path

from sportello.core.logs import log_to_file


def test_log_file_is_private_and_receives_messages(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        path = log_to_file(tmp_path / "logs" / "sportello.log")
        logging.getLogger("sportello.core.collector").warning("channel %s: timed out", "email")
        for handler in root.handlers:
            handler.flush()
        assert path.stat().st_mode & 0o077 == 0
        assert path.parent.stat().st_mode & 0o077 == 0
        assert "channel email: timed out" in path.read_text(encoding="utf-8")
        assert not any(
            isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
            for h in root.handlers
        ), "messages would still reach the terminal"
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
