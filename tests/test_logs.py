"""The dashboard's log file: private, the only place messages go, and redacted."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from sportello.core.logs import HTTP_LOGGERS, log_to_file
from sportello_sdk import redaction


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, its handlers and level (and httpx's levels) put back after."""
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in HTTP_LOGGERS}
    redaction.forget_all()
    try:
        yield root
    finally:
        redaction.forget_all()
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_log_file_is_private_and_receives_messages(
    tmp_path: Path, root_logger: logging.Logger
) -> None:
    path = log_to_file(tmp_path / "logs" / "sportello.log")
    logging.getLogger("sportello.core.collector").warning("channel %s: timed out", "email")
    for handler in root_logger.handlers:
        handler.flush()
    assert path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0
    assert "channel email: timed out" in path.read_text(encoding="utf-8")
    assert not any(
        isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
        for h in root_logger.handlers
    ), "messages would still reach the terminal"


def test_log_file_is_redacted_and_has_no_http_request_lines(
    tmp_path: Path, root_logger: logging.Logger
) -> None:
    token = "123456789:AAH-tok3n_S3cret-Value"
    path = log_to_file(tmp_path / "logs" / "sportello.log")
    assert all(redaction.LOG_FILTER in h.filters for h in root_logger.handlers)
    redaction.register(token)
    logging.getLogger("sportello.channel.telegram").warning("refused: %s", token.upper())
    logging.getLogger("httpx").info("HTTP Request: GET https://api.telegram.org/bot%s/", token)
    for handler in root_logger.handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "refused: •••" in text
    assert token.lower() not in text.lower()
    assert "HTTP Request" not in text, "httpx's request lines are off by default"
