"""Which failed exchanges may be tried again, how long to wait, and the circuit breaker.

A request is tried again only when trying cannot do the thing twice:

- it never reached the server (``ConnectError`` other than a TLS failure,
  ``ConnectTimeout``, ``PoolTimeout``): any method;
- the server said to come back (429, or 503 with ``Retry-After``): any method, as the
  request was refused, not done;
- 502/503/504, a read or write timeout, a connection lost or closed mid-answer: only
  an idempotent method (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) or a request carrying an
  ``Idempotency-Key`` header. A POST or PATCH without one whose fate is unknown is
  never sent again on its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

import httpx

from sportello_sdk.http_errors import is_certificate_failure

__all__ = ["IDEMPOTENT_METHODS", "Breaker", "BreakerState", "backoff", "is_safe_to_repeat"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

BreakerState = Literal["closed", "open", "half-open"]

_NOT_SENT = (httpx.ConnectTimeout, httpx.PoolTimeout)
_FATE_UNKNOWN = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
_UNWELL = (
    httpx.TimeoutException,  # the four httpx timeouts
    httpx.NetworkError,  # connect, read, write, close
    httpx.ProxyError,
    httpx.RemoteProtocolError,
    TimeoutError,  # the request's deadline ran out
)
_RETRY_IF_SAFE = frozenset({502, 503, 504})


def is_safe_to_repeat(request: httpx.Request) -> bool:
    """Whether sending the request twice does what sending it once does."""
    return request.method.upper() in IDEMPOTENT_METHODS or "idempotency-key" in request.headers


def exception_retryable(exc: BaseException, safe: bool) -> bool:
    """Whether an exchange that raised ``exc`` may be tried again."""
    if isinstance(exc, httpx.ConnectError):
        return not is_certificate_failure(exc)
    if isinstance(exc, _NOT_SENT):
        return True
    if isinstance(exc, _FATE_UNKNOWN):
        return safe
    return False


def exception_is_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the channel is unwell (counted by the breaker), rather than
    that our request was wrong."""
    return isinstance(exc, _UNWELL)


def status_retryable(code: int, retry_after: float | None, safe: bool) -> bool:
    """Whether an answer with this status may be followed by another try."""
    if code == 429 or (code == 503 and retry_after is not None):
        return True
    return safe and code in _RETRY_IF_SAFE


def backoff(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Capped exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**n))``
    before try ``n + 2`` (``attempt`` counts the tries that failed, from 0)."""
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt, 60))
    return rng.uniform(0.0, ceiling)


@dataclass
class Breaker:
    """Opens after ``threshold`` consecutive failures and fails fast for ``cooldown_s``;
    then lets one trial request through (half-open): its success closes it, its failure
    opens it again. Times are the caller's monotonic clock."""

    threshold: int
    cooldown_s: float
    failures: int = 0
    open_until: float | None = None
    trial: bool = False

    def state(self, now: float) -> BreakerState:
        if self.open_until is None:
            return "closed"
        return "open" if now < self.open_until else "half-open"

    def admit(self, now: float) -> tuple[str | None, bool]:
        """``(why not, None when a request may go now; whether it is the trial)``.
        Admitting in half-open takes the one trial slot."""
        state = self.state(now)
        if state == "closed":
            return None, False
        if state == "open":
            assert self.open_until is not None
            wait = max(1, round(self.open_until - now))
            return f"circuit open after {self.failures} failures; next try in {wait}s", False
        if self.trial:
            why = f"circuit half-open after {self.failures} failures; a trial request is out"
            return why, False
        self.trial = True
        return None, True

    def succeeded(self) -> None:
        self.failures = 0
        self.open_until = None
        self.trial = False

    def failed(self, now: float, trial: bool) -> None:
        self.failures += 1
        if trial or self.failures >= self.threshold:
            self.open_until = now + self.cooldown_s
        if trial:
            self.trial = False

    def release(self, trial: bool) -> None:
        """A request ended without telling (cancelled, or our own request was wrong)."""
        if trial:
            self.trial = False
