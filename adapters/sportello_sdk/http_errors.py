"""HTTP failures as the adapter errors of :mod:`sportello_sdk.errors`.

::

    HTTP status                          adapter error
     ├── 3xx (but 304)                   ProtocolError      redirects are not followed
     ├── 401, 403                        AuthenticationFailed
     ├── 404, 410                        ProtocolError      naming the status
     ├── 429                             RateLimited        retry_after from Retry-After
     ├── other 4xx                       ProtocolError
     └── 5xx                             ConnectionFailed

    httpx exception                      adapter error
     ├── ConnectError, ProxyError        ConnectionFailed   refused, DNS, TLS/certificate
     ├── TimeoutException (all four)     ConnectionFailed
     ├── ReadError, WriteError           ConnectionFailed
     ├── RemoteProtocolError             ConnectionFailed if the server hung up, else
     │                                   ProtocolError
     ├── LocalProtocolError              ProtocolError      (a header we cannot send)
     ├── UnsupportedProtocol             ConfigurationError
     └── TooManyRedirects, DecodingError ProtocolError

Every message starts ``METHOD host:`` and then says what happened in a few words of our
own: never the URL's path or query (a Telegram token is in the path), never a header
value, never an exception's own text (which may quote either). The reasons kept are
short and secret-free: "connection refused", "certificate verify failed: self-signed
certificate".
"""

from __future__ import annotations

import errno
import math
import os
import socket
import ssl
import time

import httpx

from sportello_sdk.errors import (
    AdapterError,
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    ProtocolError,
    RateLimited,
)
from sportello_sdk.http_facts import host_label, parse_rate_limit, parse_retry_after

__all__ = ["origin", "raise_for_status", "transport_error"]


def origin(request: httpx.Request) -> str:
    """``"GET api.example.com"``: the method and host that start every message."""
    return f"{request.method} {host_label(request.url)}"


def _response_origin(response: httpx.Response) -> str:
    try:
        return origin(response.request)
    except RuntimeError:  # a Response built without its request
        return "HTTP the channel"


def _status(code: int) -> str:
    phrase = httpx.codes.get_reason_phrase(code)  # ours, not the server's reason text
    return f"HTTP {code} {phrase}" if phrase else f"HTTP {code}"


def retry_after_of(response: httpx.Response, now: float) -> float | None:
    """Seconds a 429/503 asks us to wait: ``Retry-After``, else the reset of an exhausted
    rate-limit window, else None."""
    delay = parse_retry_after(response.headers.get("retry-after"), now)
    if delay is not None:
        return delay
    info = parse_rate_limit(response.headers, now)
    if info is not None and info.remaining == 0 and info.reset_at is not None:
        return max(0.0, info.reset_at - now)
    return None


def raise_for_status(response: httpx.Response) -> None:
    """Raise the adapter error a status means; return for 1xx, 2xx and 304."""
    code = response.status_code
    if code < 300 or code == 304:
        return
    where = _response_origin(response)
    status = _status(code)
    if code < 400:
        raise ProtocolError(f"{where}: {status}: redirects are not followed")
    if code in (401, 403):
        raise AuthenticationFailed(f"{where}: {status}: the channel refused the credentials")
    if code in (404, 410):
        raise ProtocolError(f"{where}: {status}: nothing at that address (or no longer)")
    if code == 429:
        retry_after = retry_after_of(response, time.time())
        when = f"; try again in {math.ceil(retry_after)}s" if retry_after is not None else ""
        raise RateLimited(f"{where}: {status}{when}", retry_after=retry_after)
    if code >= 500:
        raise ConnectionFailed(f"{where}: {status}")
    raise ProtocolError(f"{where}: {status}")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (httpx → httpcore → ssl/OSError), at most 8 deep."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 8 and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_certificate_failure(exc: BaseException) -> bool:
    """Whether a connection failed on the TLS handshake (retrying will not help)."""
    return any(isinstance(link, ssl.SSLError) for link in _chain(exc))


def _os_reason(exc: BaseException) -> str | None:
    for link in _chain(exc):
        if isinstance(link, ssl.SSLCertVerificationError):
            detail = link.verify_message or "untrusted"
            return f"certificate verify failed: {detail}"
        if isinstance(link, ssl.SSLError):
            return f"TLS handshake failed: {link.reason or 'error'}"
        if isinstance(link, socket.gaierror):
            return "host name not found"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused"
        if isinstance(link, ConnectionResetError):
            return "connection reset"
        if (
            isinstance(link, OSError)
            and isinstance(link.errno, int)
            and link.errno in errno.errorcode
        ):
            return os.strerror(link.errno).lower()
    return None


def _seconds(value: float | None) -> str:
    return "" if value is None else f" after {value:.1f}s"


def transport_error(
    exc: BaseException, request: httpx.Request, *, timeout_s: float | None = None
) -> AdapterError:
    """The adapter error for an exception raised while sending ``request``.

    ``timeout_s`` is the timeout that ran out, named in the message of a timeout.
    """
    where = origin(request)
    failure: AdapterError
    if isinstance(exc, httpx.ConnectTimeout):
        failure = ConnectionFailed(f"{where}: connect timed out{_seconds(timeout_s)}")
    elif isinstance(exc, httpx.PoolTimeout):
        failure = ConnectionFailed(f"{where}: no free connection{_seconds(timeout_s)}")
    elif isinstance(exc, httpx.ReadTimeout):
        failure = ConnectionFailed(f"{where}: no answer{_seconds(timeout_s)}")
    elif isinstance(exc, httpx.WriteTimeout):
        failure = ConnectionFailed(f"{where}: sending timed out{_seconds(timeout_s)}")
    elif isinstance(exc, httpx.TimeoutException | TimeoutError):
        failure = ConnectionFailed(f"{where}: no answer within the time left{_seconds(timeout_s)}")
    elif isinstance(exc, httpx.ProxyError):
        failure = ConnectionFailed(f"{where}: the proxy refused the connection")
    elif isinstance(exc, httpx.ConnectError):
        failure = ConnectionFailed(f"{where}: {_os_reason(exc) or 'could not connect'}")
    elif isinstance(exc, httpx.ReadError):
        failure = ConnectionFailed(f"{where}: connection lost while reading the answer")
    elif isinstance(exc, httpx.WriteError):
        failure = ConnectionFailed(f"{where}: connection lost while sending")
    elif isinstance(exc, httpx.RemoteProtocolError):
        if "disconnect" in str(exc).lower():
            failure = ConnectionFailed(f"{where}: the server closed the connection unanswered")
        else:
            failure = ProtocolError(f"{where}: the answer is not valid HTTP")
    elif isinstance(exc, httpx.LocalProtocolError):
        failure = ProtocolError(f"{where}: the request cannot be sent (an invalid header?)")
    elif isinstance(exc, httpx.UnsupportedProtocol):
        failure = ConfigurationError(f"{where}: the URL's scheme is not http or https")
    elif isinstance(exc, httpx.TooManyRedirects):
        failure = ProtocolError(f"{where}: too many redirects")
    elif isinstance(exc, httpx.DecodingError):
        failure = ProtocolError(f"{where}: the answer's encoding cannot be decoded")
    else:
        failure = ConnectionFailed(f"{where}: {type(exc).__name__}")
    return failure
