"""What an HTTP answer tells besides its body: when to come back, how much of the rate
limit is left, and how the TLS connection was made.

Everything here reads headers or a TLS object and never raises on what a server sends:
an unreadable value is treated as absent. Nothing here keeps a URL, a path or a header
value other than the ones named (rate-limit numbers, ``Strict-Transport-Security``).
"""

from __future__ import annotations

import math
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = [
    "RateLimitInfo",
    "TlsFacts",
    "host_label",
    "parse_rate_limit",
    "parse_retry_after",
    "rate_advice",
    "read_tls_facts",
]

# Values above these are epoch times, not delays: 1e9 s is September 2001 (a delay of
# 31 years is not a rate-limit window); 1e12 is the same instant in milliseconds.
_EPOCH_S = 1e9
_EPOCH_MS = 1e12
_LONGEST_HEADER = 200  # a longer Strict-Transport-Security value is cut to this


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait that a ``Retry-After`` value asks for, or None when there is
    none or it cannot be read.

    ``value`` is delta-seconds (``"120"``) or an HTTP-date; ``now`` is the wall time
    (Unix seconds) a date is measured from, and a date in the past means 0. Negative,
    fractional-exponent or absurd values (``"-5"``, ``"1e400"``, ``"soon"``) give None.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return _finite(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        at = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return max(0.0, at - now)


def _finite(text: str) -> float | None:
    """A non-negative finite number, or None."""
    try:
        number = float(text)
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number


@dataclass(frozen=True)
class RateLimitInfo:
    """The rate limit a channel announced in its last answer that had one.

    ``reset_at`` is wall time (Unix seconds) when the window renews, ``seen_at`` when
    the answer came. Any of the numbers may be unknown.
    """

    limit: int | None
    remaining: int | None
    reset_at: float | None
    seen_at: float


_LIMIT = ("x-ratelimit-limit", "x-rate-limit-limit", "x-rate-limit", "x-ratelimit-total")
_REMAINING = ("x-ratelimit-remaining", "x-rate-limit-remaining")
_RESET = ("x-ratelimit-reset", "x-rate-limit-reset")
_IETF_LIMIT = "ratelimit-limit"
_IETF_REMAINING = "ratelimit-remaining"
_IETF_RESET = "ratelimit-reset"
_FIRST_INT = re.compile(r"\s*(\d{1,15})(?![\d.eE])")
_PARAM = re.compile(r"([A-Za-z][\w-]*)\s*=\s*\"?([^,;\"\s]*)")
_USED_OF = re.compile(r"\s*(\d{1,15})\s*/\s*(\d{1,15})\s*$")


def _int(value: str | None) -> int | None:
    """The first whole number of a value (``"100"``, ``"100, 100;w=60"``), or None."""
    if value is None:
        return None
    match = _FIRST_INT.match(value)
    return int(match.group(1)) if match else None


def _reset_at(value: str | None, now: float) -> float | None:
    """When a window renews: epoch seconds or milliseconds, else a delay (by magnitude)."""
    if value is None:
        return None
    number = _finite(value.strip())
    if number is None:
        delay = parse_retry_after(value, now)  # a few channels send an HTTP-date
        return None if delay is None else now + delay
    if number >= _EPOCH_MS:
        return number / 1000.0
    if number >= _EPOCH_S:
        return number
    return now + number


def _first(headers: httpx.Headers, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return str(value)
    return None


def _params(value: str | None) -> dict[str, str]:
    """``limit=100, remaining=5, reset=30`` or ``"default";r=5;t=30``: the first of each."""
    found: dict[str, str] = {}
    if value is None:
        return found
    for key, raw in _PARAM.findall(value[:_LONGEST_HEADER]):
        found.setdefault(key.lower(), raw)
    return found


def parse_rate_limit(headers: httpx.Headers, now: float) -> RateLimitInfo | None:
    """The rate limit in an answer's headers, or None when it announces none.

    Reads ``X-RateLimit-*`` (GitHub, Zendesk's ``X-Rate-Limit*``, Freshdesk's
    ``X-Ratelimit-Total``), the IETF ``RateLimit-Limit/Remaining/Reset`` and the combined
    ``RateLimit: limit=…, remaining=…, reset=…`` (or its later ``r=…;t=…`` form with
    ``RateLimit-Policy: …;q=…``), and Shopify's ``used/limit`` call counter.
    """
    limit = _int(_first(headers, _LIMIT)) or _int(headers.get(_IETF_LIMIT))
    remaining = _int(_first(headers, _REMAINING))
    if remaining is None:
        remaining = _int(headers.get(_IETF_REMAINING))
    reset_at = _reset_at(_first(headers, _RESET), now)
    if reset_at is None:
        reset_at = _reset_at(headers.get(_IETF_RESET), now)
    combined = _params(headers.get("ratelimit"))
    policy = _params(headers.get("ratelimit-policy"))
    if limit is None:
        limit = _int(combined.get("limit")) or _int(policy.get("q"))
    if remaining is None:
        remaining = _int(combined.get("remaining", combined.get("r")))
    if reset_at is None:
        reset = combined.get("reset", combined.get("t"))
        # The combined header's reset is always a delay, however large.
        delay = _finite(reset) if reset is not None else None
        reset_at = None if delay is None else now + delay
    shopify = _USED_OF.match(headers.get("x-shopify-shop-api-call-limit", ""))
    if shopify and remaining is None:
        used, of = int(shopify.group(1)), int(shopify.group(2))
        limit, remaining = of, max(0, of - used)
    if limit is None and remaining is None and reset_at is None:
        return None
    return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at, seen_at=now)


def rate_advice(
    info: RateLimitInfo | None,
    retry_until: float | None,
    now: float,
    *,
    fraction: float,
    low_remaining: int,
    window_s: float,
) -> tuple[float | None, float | None]:
    """``(slow_down_until, suggested_interval_s)`` for polling now.

    ``slow_down_until`` (wall time) is the later of a ``Retry-After`` and the reset of
    an exhausted window. ``suggested_interval_s`` spreads the remaining requests until
    the reset once fewer than ``fraction`` of the limit are left (``low_remaining`` or
    fewer when the limit is unknown); a window without a reset is taken as ``window_s``
    long from when it was seen. Advice about a window that has renewed is dropped.
    """
    slow_until = retry_until if retry_until is not None and retry_until > now else None
    if info is None or info.remaining is None:
        return slow_until, None
    ends = info.reset_at if info.reset_at is not None else info.seen_at + window_s
    if ends <= now:
        return slow_until, None
    if info.remaining <= 0:
        slow_until = ends if slow_until is None else max(slow_until, ends)
        return slow_until, ends - now
    low = info.remaining < fraction * info.limit if info.limit else info.remaining <= low_remaining
    if not low:
        return slow_until, None
    return slow_until, (ends - now) / info.remaining


@dataclass(frozen=True)
class TlsFacts:
    """How the last HTTPS answer from one host was secured (for the security checklist).

    ``not_before``/``not_after`` are Unix times of the server certificate's validity;
    ``hsts`` the ``Strict-Transport-Security`` header if the answer had one; ``seen_at``
    the wall time of the answer. A field is None when the connection did not tell.
    """

    host: str
    tls_version: str | None
    cipher: str | None
    not_before: float | None
    not_after: float | None
    hsts: str | None
    seen_at: float


def host_label(url: httpx.URL) -> str:
    """The host (and a port that is not the scheme's default) of a URL: never its
    user, password, path or query."""
    host = url.host or "?"
    if ":" in host:
        host = f"[{host}]"
    return host if url.port is None else f"{host}:{url.port}"


def read_tls_facts(request: httpx.Request, response: httpx.Response, now: float) -> TlsFacts | None:
    """The TLS facts of an answer that came over HTTPS, or None for plain HTTP.

    The TLS object is ``response.extensions["network_stream"].get_extra_info(
    "ssl_object")`` with httpcore's transports; test transports have none, and then
    only the HSTS header is recorded.
    """
    if request.url.scheme != "https":
        return None
    version: str | None = None
    cipher: str | None = None
    not_before: float | None = None
    not_after: float | None = None
    ssl_object = _ssl_object(response.extensions)
    if ssl_object is not None:
        version = _call_str(ssl_object, "version")
        try:
            described = ssl_object.cipher()
            cipher = str(described[0]) if described else None
        except (AttributeError, ssl.SSLError, ValueError, TypeError, IndexError):
            cipher = None
        not_before, not_after = _validity(ssl_object)
    hsts = response.headers.get("strict-transport-security")
    return TlsFacts(
        host=host_label(request.url),
        tls_version=version,
        cipher=cipher,
        not_before=not_before,
        not_after=not_after,
        hsts=hsts.strip()[:_LONGEST_HEADER] if hsts is not None else None,
        seen_at=now,
    )


def _ssl_object(extensions: Mapping[str, Any]) -> Any:
    stream = extensions.get("network_stream")
    get_extra_info = getattr(stream, "get_extra_info", None)
    if get_extra_info is None:
        return None
    try:
        return get_extra_info("ssl_object")
    except Exception:  # a stream of another library: no facts rather than a failure
        return None


def _call_str(obj: Any, name: str) -> str | None:
    try:
        value = getattr(obj, name)()
    except (AttributeError, ssl.SSLError, ValueError, TypeError):
        return None
    return str(value) if value else None


def _validity(ssl_object: Any) -> tuple[float | None, float | None]:
    try:
        cert = ssl_object.getpeercert()
    except (AttributeError, ssl.SSLError, ValueError, TypeError):
        return None, None
    if not isinstance(cert, dict):
        return None, None
    return _cert_time(cert.get("notBefore")), _cert_time(cert.get("notAfter"))


def _cert_time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return float(ssl.cert_time_to_seconds(value))
    except (ValueError, OverflowError):
        return None
