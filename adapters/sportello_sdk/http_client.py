"""The AsyncClient a channel gets: its transport is the policy, its TLS is checked.

Kept apart from :mod:`sportello_sdk.http` so that what httpx allows a client to do
around its transport (``verify=False``, ``mounts``, a ``proxy``) is refused in one place.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sportello_sdk.errors import ConfigurationError
from sportello_sdk.http_errors import transport_error

__all__ = ["PolicyClient", "PolicyTransport", "build_client", "secure_context"]

Exchange = Callable[[httpx.AsyncBaseTransport, httpx.Request], Awaitable[httpx.Response]]
Budget = Callable[[httpx.Timeout], httpx.Timeout]

# Client options that would send requests around the policy transport, or that httpx
# ignores once a transport is given (a client certificate belongs in verify=).
_BYPASSES = ("transport", "mounts", "proxy", "proxies", "app", "cert")


_default_context: ssl.SSLContext | None = None
_default_lock = threading.Lock()


def default_context() -> ssl.SSLContext:
    """httpx's default context (certifi, or SSL_CERT_FILE) with TLS 1.2 at least, made
    once per process: loading the CA bundle costs ~50 ms of CPU holding the GIL, which
    fifty channels connecting at once turned into seconds of every channel's loop."""
    global _default_context
    with _default_lock:
        if _default_context is None:
            _default_context = secure_context(httpx.create_ssl_context())
        return _default_context


def secure_context(context: ssl.SSLContext | None = None) -> ssl.SSLContext:
    """``context`` (the shared default when None) with TLS 1.2 at least."""
    if context is None:
        return default_context()
    if context.minimum_version < ssl.TLSVersion.TLSv1_2:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class PolicyTransport(httpx.AsyncBaseTransport):
    """Sends each request through ``exchange`` (the channel's policy) over ``inner``."""

    def __init__(self, exchange: Exchange, inner: httpx.AsyncBaseTransport) -> None:
        self._exchange = exchange
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._exchange(self._inner, request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class PolicyClient(httpx.AsyncClient):
    """An AsyncClient whose default timeouts follow the channel's budget at each
    request, and whose own httpx errors (redirects, decoding, a bad URL) are adapter
    errors too, named by method and host only."""

    def __init__(self, label: str, budget: Budget, base: httpx.Timeout, **kwargs: Any) -> None:
        self._label = label
        self._budget = budget
        self._base_timeout = base
        super().__init__(timeout=base, **kwargs)

    @property
    def timeout(self) -> httpx.Timeout:
        return self._budget(self._base_timeout)

    @timeout.setter
    def timeout(self, timeout: Any) -> None:
        self._base_timeout = httpx.Timeout(timeout)

    def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
        try:
            return super().build_request(*args, **kwargs)
        except httpx.InvalidURL:
            pass
        raise ConfigurationError(f"{self._label}: the request's URL is not valid") from None

    async def send(self, request: httpx.Request, *args: Any, **kwargs: Any) -> httpx.Response:
        failure: httpx.HTTPError
        try:
            return await super().send(request, *args, **kwargs)
        except httpx.HTTPError as exc:
            failure = exc
        raise transport_error(failure, request) from None


def build_client(
    label: str,
    options: dict[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None,
    exchange: Exchange,
    budget: Budget,
    default_timeout: httpx.Timeout,
) -> httpx.AsyncClient:
    """A :class:`PolicyClient` from AsyncClient ``options``, over ``transport`` or a new
    ``httpx.AsyncHTTPTransport`` that verifies certificates (TLS 1.2 at least)."""
    for name in _BYPASSES:
        if name in options:
            raise ConfigurationError(
                f"{label}: the HTTP client option {name}= would bypass the HTTP policy"
                " (give ChannelHttp a transport instead)"
            )
    verify = options.pop("verify", True)
    if verify is False:
        raise ConfigurationError(
            f"{label}: TLS certificate verification cannot be turned off (verify=False)"
        )
    context: ssl.SSLContext | None = None
    if isinstance(verify, ssl.SSLContext):
        if verify.verify_mode != ssl.CERT_REQUIRED or not verify.check_hostname:
            raise ConfigurationError(
                f"{label}: the SSL context given as verify= does not check certificates"
            )
        if transport is not None:
            raise ConfigurationError(
                f"{label}: verify= has no effect on the transport given to ChannelHttp"
            )
        context = verify
    elif verify is not True:
        raise ConfigurationError(f"{label}: verify= must be True or an ssl.SSLContext")
    inner = transport or httpx.AsyncHTTPTransport(verify=secure_context(context))
    options.setdefault("follow_redirects", False)
    given = options.pop("timeout", None)
    base = httpx.Timeout(given) if given is not None else default_timeout
    return PolicyClient(label, budget, base, transport=PolicyTransport(exchange, inner), **options)
