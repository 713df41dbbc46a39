"""Errors an adapter raises. Every one carries a message fit to show a user.

::

    AdapterError                    any failure of one channel
     ├── ConfigurationError         options that cannot work (bad URL, unknown mailbox)
     ├── ConnectionFailed           network down, DNS, refused, TLS, timeouts
     ├── AuthenticationFailed       the channel refused our credentials
     ├── RateLimited                slow down; ``retry_after`` seconds when the channel said
     ├── ProtocolError              the channel answered something we cannot read
     ├── ActionRefused              the channel refused this action (conversation gone…)
     └── NotSupported               the adapter cannot do this (reply on a read-only channel)

``retryable`` says whether trying the same action again later may work: the
outbox retries those with backoff and leaves the others failed for the user.

Messages must never contain secrets: no tokens, no passwords, no URLs with tokens.
Whatever an adapter passes as the message (an exception, ``None``, an object whose
``__str__`` raises) becomes text here, once, so showing an error can never fail.
"""

from __future__ import annotations

import math
import time

MESSAGE_LIMIT = 2000


def safe_text(value: object, limit: int = MESSAGE_LIMIT) -> str:
    """``str(value)``, or the name of its type when that fails; bounded."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = str(value)
        except BaseException:
            text = ""
        if isinstance(value, BaseException):
            name = type(value).__name__
            text = f"{name}: {text}" if text else name
        elif not isinstance(text, str):
            text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(exc: BaseException) -> str:
    """An exception in words, never raising: ``ValueError: bad value``."""
    if isinstance(exc, AdapterError):
        # A subclass may skip our __init__ (no message) or set one that is not text.
        message = getattr(exc, "message", None)
        if isinstance(message, str):
            return message if len(message) <= MESSAGE_LIMIT else safe_text(message)
        return safe_text(exc)
    return safe_text(exc)


def seconds_or_none(value: object, now: float | None = None) -> float | None:
    """A ``retry_after`` as given by an adapter (a number, the header's text in
    seconds or as an HTTP date, garbage) as seconds from now, or ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            from email.utils import parsedate_to_datetime  # rare: not at start-up

            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            if when.tzinfo is None:
                return None
            seconds = when.timestamp() - (time.time() if now is None else now)
    else:
        return None
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, min(seconds, 7 * 86400.0))


class AdapterError(Exception):
    """Base of every adapter failure."""

    retryable: bool = True

    def __init__(self, message: object = "") -> None:
        text = safe_text(message)
        super().__init__(text)
        self.message = text

    def __str__(self) -> str:
        return self.message


class ConfigurationError(AdapterError):
    """The channel's options cannot work."""

    retryable = False


class ConnectionFailed(AdapterError):
    """The channel could not be reached."""


class AuthenticationFailed(AdapterError):
    """The channel refused the credentials."""

    retryable = False


class RateLimited(AdapterError):
    """The channel asked us to slow down."""

    def __init__(self, message: object = "", retry_after: object = None) -> None:
        super().__init__(message)
        self.retry_after: float | None = seconds_or_none(retry_after)


class ProtocolError(AdapterError):
    """The channel answered something that cannot be understood."""


class ActionRefused(AdapterError):
    """The channel refused this action (the conversation is gone, the text too long)."""

    retryable = False


class NotSupported(AdapterError):
    """The adapter cannot perform this operation."""

    retryable = False
