"""The knobs of the HTTP policy, and the report of what one channel's HTTP saw."""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

from sportello_sdk.errors import ConfigurationError
from sportello_sdk.http_facts import RateLimitInfo, TlsFacts
from sportello_sdk.http_retry import BreakerState

__all__ = ["HttpPolicy", "HttpReport"]


@dataclass(frozen=True)
class HttpPolicy:
    """The knobs of the policy; the defaults suit a support channel's API."""

    max_attempts: int = 4  # tries of one request, the first included
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 8.0
    breaker_threshold: int = 5  # consecutive failed exchanges that open the circuit
    breaker_cooldown_s: float = 60.0
    default_budget_s: float = 30.0  # per request, outside any begin()
    deadline_margin_s: float = 0.25  # kept free before the deadline
    min_attempt_s: float = 0.5  # no retry unless at least this is left for it
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    write_timeout_s: float = 30.0
    pool_timeout_s: float = 5.0
    slow_down_fraction: float = 0.10  # slow down once fewer than this share is left…
    slow_down_remaining: int = 5  # …or this many requests, when the limit is unknown
    rate_window_s: float = 60.0  # assumed window when a channel gives no reset
    max_body_bytes: int = 32 * 1024 * 1024

    def __post_init__(self) -> None:
        numbers = {name: float(value) for name, value in vars(self).items()}
        if self.max_attempts < 1 or self.breaker_threshold < 1:
            raise ConfigurationError("max_attempts and breaker_threshold must be at least 1")
        bad = [name for name, value in numbers.items() if not math.isfinite(value) or value < 0]
        if bad:
            raise ConfigurationError(f"HTTP policy: {', '.join(bad)} must be 0 or more")

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout_s,
            read=self.read_timeout_s,
            write=self.write_timeout_s,
            pool=self.pool_timeout_s,
        )


@dataclass(frozen=True)
class HttpReport:
    """What one channel's HTTP saw, as plain data. Times are wall (Unix) seconds.

    ``consecutive_failures`` counts failed tries (each retry is one), reset by any
    answer below 500; ``open_until`` is set while the breaker is open.
    ``slow_down_until`` says not to poll before then (a ``Retry-After``, or an exhausted
    window); ``suggested_interval_s`` the pace that spreads what is left of the rate
    limit until it renews. ``tls`` has the last facts of each host answered over
    HTTPS, by host.
    """

    channel_id: str
    breaker_state: BreakerState
    open_until: float | None
    consecutive_failures: int
    slow_down_until: float | None
    suggested_interval_s: float | None
    rate_limit: RateLimitInfo | None
    tls: tuple[TlsFacts, ...]
    last_failure: str | None
