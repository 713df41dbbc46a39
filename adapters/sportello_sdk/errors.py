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
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every adapter failure."""

    retryable: bool = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

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

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProtocolError(AdapterError):
    """The channel answered something that cannot be understood."""


class ActionRefused(AdapterError):
    """The channel refused this action (the conversation is gone, the text too long)."""

    retryable = False


class NotSupported(AdapterError):
    """The adapter cannot perform this operation."""

    retryable = False
