"""One HTTP policy for every HTTP adapter: an httpx transport the SDK hands out.

An adapter builds one :class:`ChannelHttp` per channel and takes its clients from
:meth:`ChannelHttp.client`. Every request then goes through the same policy:

- timeouts (connect, read, write, pool) cut to the budget the collector gave with
  :meth:`ChannelHttp.begin`; retries and their waits stay inside it;
- retries only of what cannot be done twice (see :mod:`sportello_sdk.http_retry`), with
  capped exponential backoff and full jitter, or the wait ``Retry-After`` asked for;
- a circuit breaker per channel that fails fast while the channel is down;
- failures as the errors of :mod:`sportello_sdk.errors`
  (:mod:`sportello_sdk.http_errors`), whose messages name the method and host, never
  the path, the query or a header value;
- what the answers said, in :meth:`ChannelHttp.report`: the breaker, advice to poll
  more slowly before a rate limit is hit, and TLS facts per host.

The answer's body is read inside the policy (so a timeout while reading it is retried
like any other) and handed to the client whole; nothing here logs.

::

    http = ChannelHttp(channel_id)
    client = http.client(base_url="https://api.example.com", headers={...})
    http.begin(20.0)                      # the collector, before fetch() or act()
    response = await client.get("/tickets")
    raise_for_status(response)
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any

import httpx

from sportello_sdk.errors import AdapterError, ConnectionFailed, ProtocolError
from sportello_sdk.http_client import build_client
from sportello_sdk.http_errors import origin, raise_for_status, retry_after_of, transport_error
from sportello_sdk.http_facts import (
    RateLimitInfo,
    TlsFacts,
    parse_rate_limit,
    parse_retry_after,
    rate_advice,
    read_tls_facts,
)
from sportello_sdk.http_policy import HttpPolicy, HttpReport
from sportello_sdk.http_retry import (
    IDEMPOTENT_METHODS,
    Breaker,
    BreakerState,
    backoff,
    exception_is_failure,
    exception_retryable,
    is_safe_to_repeat,
    status_retryable,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "BreakerState",
    "ChannelHttp",
    "HttpPolicy",
    "HttpReport",
    "RateLimitInfo",
    "TlsFacts",
    "parse_retry_after",
    "raise_for_status",
]

Sleep = Callable[[float], Awaitable[Any]]

_TIMEOUTS = ("connect", "read", "write", "pool")
# Deadlines set by begin() in this task (and the tasks it starts), per ChannelHttp.
_DEADLINES: ContextVar[Mapping[int, float] | None] = ContextVar(
    "sportello_sdk_http_deadlines", default=None
)
_SERIALS = itertools.count(1)
DEFAULT_POLICY = HttpPolicy()  # frozen: one shared instance is the default
_TIMEOUT_USED: dict[type[Exception], str] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


class _TooLarge(Exception):
    pass


class ChannelHttp:
    """The HTTP state of one channel: its breaker, its deadline and what it observed."""

    def __init__(
        self,
        channel_id: str,
        policy: HttpPolicy = DEFAULT_POLICY,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.channel_id = channel_id
        self.policy = policy
        self._transport = transport
        self._sleep = sleep
        self._monotonic = monotonic
        self._wall = wall
        self._rng = rng if rng is not None else random.Random()
        self._breaker = Breaker(policy.breaker_threshold, policy.breaker_cooldown_s)
        self._key = next(_SERIALS)
        self._deadline: float | None = None
        self._rate: RateLimitInfo | None = None
        self._retry_until: float | None = None
        self._tls: dict[str, TlsFacts] = {}
        self._last_failure: str | None = None

    def __repr__(self) -> str:
        return f"ChannelHttp({self.channel_id!r})"

    # -- the budget ---------------------------------------------------------------

    def begin(self, budget_s: float) -> None:
        """Start a fetch or an action that must end within ``budget_s`` seconds.

        Requests started before that deadline keep to it (their timeouts, retries and
        waits); one started after it has passed gets the policy's default budget. The
        deadline holds for the task that called this and the tasks it starts, so a
        fetch and an action of the same channel running at once keep their own.
        """
        deadline = self._monotonic() + max(0.0, budget_s)
        self._deadline = deadline
        deadlines = dict(_DEADLINES.get() or {})
        deadlines[self._key] = deadline
        _DEADLINES.set(deadlines)

    def _window(self, now: float) -> float | None:
        deadlines = _DEADLINES.get()
        if deadlines is not None and self._key in deadlines:
            mine: float | None = deadlines[self._key]
        else:
            mine = self._deadline
        return mine if mine is not None and mine > now else None

    def _deadline_from(self, now: float) -> float:
        window = self._window(now)
        return window if window is not None else now + self.policy.default_budget_s

    def _cut(self, limits: Mapping[str, float | None], left: float) -> dict[str, float]:
        return {name: min(left, limits.get(name) or left) for name in _TIMEOUTS}

    def budget_timeout(self, base: httpx.Timeout | None = None) -> httpx.Timeout:
        """``base`` (the policy's timeouts by default) cut to the budget left now."""
        now = self._monotonic()
        left = max(0.01, self._deadline_from(now) - now - self.policy.deadline_margin_s)
        limits = (base or self.policy.timeout()).as_dict()
        return httpx.Timeout(**self._cut(limits, left))

    # -- clients ------------------------------------------------------------------

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` whose requests go through this channel's policy.

        Takes ``httpx.AsyncClient``'s options (``base_url``, ``headers``, ``auth``,
        ``params``, ``timeout`` as upper bounds, ``follow_redirects``: off unless
        given). ``verify`` may be True or an ``ssl.SSLContext`` that checks
        certificates (for a private CA; its minimum is raised to TLS 1.2) when
        ChannelHttp was given no transport; ``verify=False`` and the options that would
        bypass the policy (``transport``, ``mounts``, ``proxy``, ``cert``) raise
        ConfigurationError.
        """
        return build_client(
            f"channel {self.channel_id}",
            dict(kwargs),
            transport=self._transport,
            exchange=self._exchange,
            budget=self.budget_timeout,
            default_timeout=self.policy.timeout(),
        )

    # -- one request --------------------------------------------------------------

    async def _exchange(
        self, inner: httpx.AsyncBaseTransport, request: httpx.Request
    ) -> httpx.Response:
        policy = self.policy
        deadline = self._deadline_from(self._monotonic())
        safe = is_safe_to_repeat(request)
        await request.aread()  # a body that can be sent again
        tries = 0
        while True:
            now = self._monotonic()
            left = deadline - policy.deadline_margin_s - now
            if left > 0:
                refusal, trial = self._breaker.admit(now)
            else:
                refusal, trial = "no time left in the budget", False
            if refusal is not None:
                refused = ConnectionFailed(f"{origin(request)}: {refusal}")
                self._last_failure = refused.message
                raise refused from None
            response: httpx.Response | None = None
            failure: Exception | None = None
            limits: dict[str, float] = {}
            try:
                limits = self._cut(request.extensions.get("timeout", {}), left)
                response = await self._attempt(inner, request, limits, left)
            except (httpx.TransportError, TimeoutError, _TooLarge) as exc:
                failure = exc
            except BaseException:
                self._breaker.release(trial)
                raise
            tries += 1
            wait: float | None = None
            if failure is not None:
                if exception_is_failure(failure):
                    self._breaker.failed(self._monotonic(), trial)
                else:
                    self._breaker.release(trial)
                retry = exception_retryable(failure, safe)
            else:
                assert response is not None
                code = response.status_code
                self._observe(response)
                if code >= 500:
                    self._breaker.failed(self._monotonic(), trial)
                else:
                    self._breaker.succeeded()
                wait = retry_after_of(response, self._wall()) if code in (429, 503) else None
                retry = status_retryable(code, wait, safe)
            if retry and tries < policy.max_attempts:
                if wait is None:
                    wait = backoff(
                        tries - 1, policy.backoff_base_s, policy.backoff_cap_s, self._rng
                    )
                now = self._monotonic()
                room = deadline - policy.deadline_margin_s - (now + wait)
                if room >= policy.min_attempt_s and self._breaker.state(now + wait) != "open":
                    if response is not None:
                        await response.aclose()
                    await self._sleep(wait)
                    continue
            if failure is not None:
                error = self._error(failure, request, limits, left, tries)
                self._last_failure = error.message
                raise error from None
            assert response is not None
            if response.status_code >= 500 or response.status_code == 429:
                self._last_failure = f"{origin(request)}: HTTP {response.status_code}"
            return response

    async def _attempt(
        self,
        inner: httpx.AsyncBaseTransport,
        request: httpx.Request,
        limits: dict[str, float],
        left: float,
    ) -> httpx.Response:
        """One exchange, its body read whole, within ``left`` seconds at most."""
        request.extensions = {**request.extensions, "timeout": limits}
        # httpx's own timeouts come first; this one only stops a trickling answer.
        async with asyncio.timeout(left + self.policy.deadline_margin_s / 2):
            answer = await inner.handle_async_request(request)
            try:
                facts = read_tls_facts(request, answer, self._wall())
                if facts is not None:
                    self._tls[facts.host] = facts
                body = await self._read(answer)
            finally:
                await answer.aclose()
        extensions = {k: v for k, v in answer.extensions.items() if k != "network_stream"}
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            stream=httpx.ByteStream(body),
            extensions=extensions,
            request=request,
        )

    async def _read(self, answer: httpx.Response) -> bytes:
        stream = answer.stream
        if not isinstance(stream, httpx.AsyncByteStream):
            raise TypeError("the transport gave a synchronous stream to an async client")
        chunks: list[bytes] = []
        size = 0
        async for chunk in stream:
            size += len(chunk)
            if size > self.policy.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _observe(self, response: httpx.Response) -> None:
        now = self._wall()
        info = parse_rate_limit(response.headers, now)
        if info is not None:
            self._rate = info
        if response.status_code in (429, 503):
            delay = parse_retry_after(response.headers.get("retry-after"), now)
            if delay is not None:
                self._retry_until = now + delay

    def _error(
        self,
        failure: Exception,
        request: httpx.Request,
        limits: Mapping[str, float],
        left: float,
        tries: int,
    ) -> AdapterError:
        if isinstance(failure, _TooLarge):
            mib = self.policy.max_body_bytes / (1024 * 1024)
            error: AdapterError = ProtocolError(
                f"{origin(request)}: the answer is larger than {mib:g} MiB"
            )
        else:
            used = _TIMEOUT_USED.get(type(failure))
            timeout_s = limits.get(used) if used else left
            error = transport_error(failure, request, timeout_s=timeout_s)
        if tries > 1:
            error = type(error)(f"{error.message} ({tries} tries)")
        return error

    # -- what it saw --------------------------------------------------------------

    def report(self) -> HttpReport:
        """The breaker, the rate-limit advice and the TLS facts, as of now.

        Safe to call from another thread than the one making the requests (the
        collector's): it only reads, and copies the table of TLS facts at once.
        """
        now, wall = self._monotonic(), self._wall()
        state = self._breaker.state(now)
        open_until = self._breaker.open_until
        policy = self.policy
        slow_until, interval = rate_advice(
            self._rate,
            self._retry_until,
            wall,
            fraction=policy.slow_down_fraction,
            low_remaining=policy.slow_down_remaining,
            window_s=policy.rate_window_s,
        )
        return HttpReport(
            channel_id=self.channel_id,
            breaker_state=state,
            open_until=wall + (open_until - now)
            if open_until is not None and state == "open"
            else None,
            consecutive_failures=self._breaker.failures,
            slow_down_until=slow_until,
            suggested_interval_s=interval,
            rate_limit=self._rate,
            tls=tuple(facts for _, facts in sorted(dict(self._tls).items())),
            last_failure=self._last_failure,
        )
