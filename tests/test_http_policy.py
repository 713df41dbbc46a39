"""The HTTP policy of sportello_sdk.http: retries, budget, breaker, errors, secrets.

Every exchange goes to an ``httpx.MockTransport``; sleeping only moves a fake clock,
so nothing here waits.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import traceback
from collections.abc import AsyncIterator, Callable
from email.utils import formatdate

import httpx
import pytest

from sportello_sdk.errors import (
    AdapterError,
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    ProtocolError,
    RateLimited,
)
from sportello_sdk.http import ChannelHttp, HttpPolicy, HttpReport, raise_for_status
from sportello_sdk.http_client import secure_context

TOKEN = "123456:AAH-very-secret-bot-token"
BASE = "https://api.example.test"
PATH = f"/bot{TOKEN}/sendMessage"
WALL0 = 1_700_000_000.0

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic and wall time that move only when the policy sleeps (or a test says)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return WALL0 + (self.now - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recorder:
    """A MockTransport handler that answers from a script and keeps what it saw."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.timeouts: list[dict[str, float]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.timeouts.append(dict(request.extensions["timeout"]))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def calls(self) -> int:
        return len(self.requests)


def channel(handler: Handler, clock: FakeClock, policy: HttpPolicy | None = None) -> ChannelHttp:
    return ChannelHttp(
        "support",
        policy or HttpPolicy(),
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        wall=clock.wall,
        rng=random.Random(7),
    )


def refused() -> httpx.ConnectError:
    # Like httpcore's, the message quotes the URL: it must not reach ours.
    error = httpx.ConnectError(f"[Errno 111] Connection refused to {BASE}{PATH}")
    error.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return error


def read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout(f"timed out reading {BASE}{PATH}")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- what is retried ------------------------------------------------------------------


async def test_a_connect_error_is_retried_even_for_a_post(clock: FakeClock) -> None:
    script = Recorder(refused(), refused(), httpx.Response(200, json={"ok": True}))
    async with channel(script, clock).client(base_url=BASE) as client:
        response = await client.post(PATH, json={"text": "hello"})
    assert response.status_code == 200
    assert script.calls == 3
    assert [r.content for r in script.requests] == [b'{"text":"hello"}'] * 3
    # Full jitter: uniform(0, 0.5), then uniform(0, 1.0).
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 0.5
    assert 0 <= clock.sleeps[1] <= 1.0


async def test_a_post_whose_answer_timed_out_is_never_sent_again(clock: FakeClock) -> None:
    script = Recorder(read_timeout(), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        with pytest.raises(ConnectionFailed, match=r"^POST api\.example\.test: no answer"):
            await client.post(PATH, json={"text": "hello"})
    assert script.calls == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
        httpx.WriteTimeout("write timed out"),
    ],
    ids=["remote-protocol", "read-error", "write-timeout"],
)
async def test_a_post_of_unknown_fate_is_not_retried(clock: FakeClock, failure: Exception) -> None:
    script = Recorder(failure, httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        with pytest.raises(ConnectionFailed):
            await client.post(PATH, content=b"x")
    assert script.calls == 1


async def test_a_get_whose_answer_timed_out_is_retried(clock: FakeClock) -> None:
    script = Recorder(read_timeout(), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        response = await client.get("/tickets")
    assert response.status_code == 200
    assert script.calls == 2


async def test_a_post_with_an_idempotency_key_is_retried(clock: FakeClock) -> None:
    script = Recorder(read_timeout(), httpx.Response(502), httpx.Response(201))
    async with channel(script, clock).client(base_url=BASE) as client:
        response = await client.post(PATH, content=b"x", headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201
    assert script.calls == 3


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
async def test_502_503_504_are_retried_for_idempotent_methods(
    clock: FakeClock, method: str
) -> None:
    script = Recorder(
        httpx.Response(502), httpx.Response(503), httpx.Response(504), httpx.Response(200)
    )
    async with channel(script, clock).client(base_url=BASE) as client:
        response = await client.request(method, "/tickets/1")
    assert response.status_code == 200
    assert script.calls == 4


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("status", [502, 503, 504])
async def test_502_503_504_are_not_retried_for_a_post_or_patch(
    clock: FakeClock, method: str, status: int
) -> None:
    script = Recorder(httpx.Response(status), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        response = await client.request(method, PATH, content=b"x")
    assert response.status_code == status
    assert script.calls == 1
    with pytest.raises(ConnectionFailed, match=f"^{method} api.example.test: HTTP {status}"):
        raise_for_status(response)


async def test_500_is_not_retried_even_for_a_get(clock: FakeClock) -> None:
    script = Recorder(httpx.Response(500), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        assert (await client.get("/tickets")).status_code == 500
    assert script.calls == 1


async def test_a_4xx_is_returned_untried(clock: FakeClock) -> None:
    script = Recorder(httpx.Response(404), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        assert (await client.get("/tickets/9")).status_code == 404
    assert script.calls == 1


async def test_429_waits_the_retry_after_seconds_even_for_a_post(clock: FakeClock) -> None:
    script = Recorder(httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        response = await client.post(PATH, content=b"x")
    assert response.status_code == 200
    assert clock.sleeps == [3.0]


async def test_429_waits_until_the_retry_after_date(clock: FakeClock) -> None:
    date = formatdate(clock.wall() + 7, usegmt=True)
    script = Recorder(httpx.Response(429, headers={"Retry-After": date}), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        assert (await client.get("/tickets")).status_code == 200
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize("header", [None, "soon"], ids=["missing", "garbage"])
async def test_429_without_a_readable_retry_after_backs_off(
    clock: FakeClock, header: str | None
) -> None:
    headers = {"Retry-After": header} if header else {}
    script = Recorder(httpx.Response(429, headers=headers), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        assert (await client.get("/tickets")).status_code == 200
    assert len(clock.sleeps) == 1
    assert 0 <= clock.sleeps[0] <= 0.5


async def test_429_waits_for_the_reset_of_an_exhausted_window(clock: FakeClock) -> None:
    exhausted = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(clock.wall()) + 4)}
    script = Recorder(httpx.Response(429, headers=exhausted), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        assert (await client.get("/tickets")).status_code == 200
    assert clock.sleeps == [4.0]


async def test_503_with_retry_after_is_retried_even_for_a_post(clock: FakeClock) -> None:
    script = Recorder(httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        assert (await client.post(PATH, content=b"x")).status_code == 200
    assert clock.sleeps == [2.0]


async def test_a_retry_after_longer_than_the_budget_is_left_to_the_caller(
    clock: FakeClock,
) -> None:
    script = Recorder(httpx.Response(429, headers={"Retry-After": "120"}), httpx.Response(200))
    http = channel(script, clock)
    http.begin(10.0)
    async with http.client(base_url=BASE) as client:
        response = await client.get("/tickets")
    assert response.status_code == 429
    assert script.calls == 1
    assert clock.sleeps == []
    with pytest.raises(RateLimited) as caught:
        raise_for_status(response)
    assert caught.value.retry_after == pytest.approx(120, abs=1)
    assert http.report().slow_down_until == clock.wall() + 120


async def test_a_certificate_failure_is_not_retried(clock: FakeClock) -> None:
    failure = httpx.ConnectError("certificate verify failed")
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    failure.__cause__ = cause
    script = Recorder(failure, httpx.Response(200))
    async with channel(script, clock).client(base_url=BASE) as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.get("/tickets")
    assert str(caught.value) == (
        "GET api.example.test: certificate verify failed: self-signed certificate"
    )
    assert script.calls == 1


async def test_attempts_stop_at_max_attempts(clock: FakeClock) -> None:
    script = Recorder(refused())
    async with channel(script, clock).client(base_url=BASE) as client:
        with pytest.raises(ConnectionFailed, match=r"connection refused \(4 tries\)$"):
            await client.get("/tickets")
    assert script.calls == 4


# -- the budget -------------------------------------------------------------------------


async def test_retries_never_go_past_the_deadline(clock: FakeClock) -> None:
    policy = HttpPolicy(
        max_attempts=100, backoff_base_s=1.0, backoff_cap_s=4.0, breaker_threshold=1000
    )
    script = Recorder(refused())
    http = channel(script, clock, policy)
    start = clock.now
    http.begin(10.0)
    async with http.client(base_url=BASE) as client:
        with pytest.raises(ConnectionFailed):
            await client.get("/tickets")
    deadline = start + 10.0
    assert clock.now <= deadline - policy.deadline_margin_s
    assert 2 <= script.calls < 100
    # Every try had a timeout that ends before the deadline.
    moments = [start, *(start + sum(clock.sleeps[:n]) for n in range(1, len(clock.sleeps) + 1))]
    for at, limits in zip(moments, script.timeouts, strict=True):
        assert max(limits.values()) <= deadline - at


async def test_timeouts_are_cut_to_what_is_left_of_the_budget(clock: FakeClock) -> None:
    script = Recorder(httpx.Response(200))
    http = channel(script, clock)
    async with http.client(base_url=BASE) as client:
        assert client.timeout == httpx.Timeout(connect=10.0, read=29.75, write=29.75, pool=5.0)
        http.begin(2.0)
        assert client.timeout == httpx.Timeout(1.75)
        await client.get("/tickets")
        assert script.timeouts[-1] == {"connect": 1.75, "read": 1.75, "write": 1.75, "pool": 1.75}
        http.begin(60.0)  # a client made under a short budget is not stuck with it
        await client.get("/tickets")
        assert script.timeouts[-1] == {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 5.0}
        clock.now += 61.0  # the begin() window is over: the default budget again
        await client.get("/tickets", timeout=httpx.Timeout(45.0))
        assert script.timeouts[-1]["read"] == 29.75


async def test_no_request_is_made_once_the_budget_is_spent(clock: FakeClock) -> None:
    script = Recorder(httpx.Response(200))
    http = channel(script, clock)
    http.begin(0.2)  # less than the margin kept before the deadline
    async with http.client(base_url=BASE) as client:
        with pytest.raises(ConnectionFailed, match="no time left in the budget"):
            await client.get("/tickets")
    assert script.calls == 0


async def test_each_task_keeps_the_budget_it_began(clock: FakeClock) -> None:
    script = Recorder(httpx.Response(200))
    http = channel(script, clock)

    async def job(budget_s: float) -> float:
        http.begin(budget_s)
        await asyncio.sleep(0)  # the other task begins in between
        async with http.client(base_url=BASE) as client:
            response = await client.get("/tickets")
        return float(response.request.extensions["timeout"]["read"])

    short, long = await asyncio.gather(job(3.0), job(50.0))
    assert short == 2.75
    assert long == 30.0


# -- the breaker ------------------------------------------------------------------------


async def test_the_breaker_opens_fails_fast_half_opens_and_closes(clock: FakeClock) -> None:
    policy = HttpPolicy(breaker_threshold=3, breaker_cooldown_s=60.0, max_attempts=1)
    script = Recorder(httpx.Response(500), httpx.Response(500), refused(), httpx.Response(200))
    http = channel(script, clock, policy)
    async with http.client(base_url=BASE) as client:
        for _ in range(2):
            await client.get("/tickets")
        with pytest.raises(ConnectionFailed):
            await client.get("/tickets")
        report = http.report()
        assert report.breaker_state == "open"
        assert report.consecutive_failures == 3
        assert report.open_until == clock.wall() + 60.0

        clock.now += 30.0
        with pytest.raises(ConnectionFailed) as caught:
            await client.get("/tickets")
        assert str(caught.value) == (
            "GET api.example.test: circuit open after 3 failures; next try in 30s"
        )
        assert script.calls == 3  # failed fast: the transport was not called

        clock.now += 30.0
        assert http.report().breaker_state == "half-open"
        assert http.report().open_until is None
        assert (await client.get("/tickets")).status_code == 200
    report = http.report()
    assert report.breaker_state == "closed"
    assert report.consecutive_failures == 0
    assert script.calls == 4


async def test_a_failed_trial_opens_the_breaker_again(clock: FakeClock) -> None:
    policy = HttpPolicy(breaker_threshold=2, breaker_cooldown_s=10.0, max_attempts=1)
    script = Recorder(httpx.Response(503))
    http = channel(script, clock, policy)
    async with http.client(base_url=BASE) as client:
        await client.get("/a")
        await client.get("/a")
        clock.now += 10.0
        await client.get("/a")  # the trial fails
        assert http.report().breaker_state == "open"
        with pytest.raises(ConnectionFailed, match="circuit open after 3 failures"):
            await client.get("/a")
    assert script.calls == 3


async def test_half_open_lets_one_trial_through_at_a_time(clock: FakeClock) -> None:
    policy = HttpPolicy(breaker_threshold=1, breaker_cooldown_s=5.0, max_attempts=1)
    release = asyncio.Event()
    trial_sent = asyncio.Event()
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(500)
        trial_sent.set()
        await release.wait()
        return httpx.Response(200)

    http = ChannelHttp(
        "support",
        policy,
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        wall=clock.wall,
    )
    async with http.client(base_url=BASE) as client:
        await client.get("/a")
        clock.now += 5.0
        trial = asyncio.create_task(client.get("/a"))
        await trial_sent.wait()
        with pytest.raises(ConnectionFailed, match="a trial request is out"):
            await asyncio.wait_for(client.get("/a"), 1.0)  # not held up behind the trial
        release.set()
        assert (await trial).status_code == 200
    assert http.report().breaker_state == "closed"
    assert calls == 2


async def test_a_cancelled_trial_frees_the_slot(clock: FakeClock) -> None:
    policy = HttpPolicy(breaker_threshold=1, breaker_cooldown_s=5.0, max_attempts=1)
    hang = asyncio.Event()
    trial_sent = asyncio.Event()
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 2:
            trial_sent.set()
            await hang.wait()
        return httpx.Response(500 if calls == 1 else 200)

    http = ChannelHttp(
        "support", policy, transport=httpx.MockTransport(handler), monotonic=clock.monotonic
    )
    async with http.client(base_url=BASE) as client:
        await client.get("/a")
        clock.now += 5.0
        trial = asyncio.create_task(client.get("/a"))
        await trial_sent.wait()
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
        assert (await client.get("/a")).status_code == 200
    assert http.report().breaker_state == "closed"


async def test_4xx_answers_do_not_open_the_breaker(clock: FakeClock) -> None:
    policy = HttpPolicy(breaker_threshold=2, max_attempts=1)
    script = Recorder(httpx.Response(404), httpx.Response(401), httpx.Response(429))
    http = channel(script, clock, policy)
    async with http.client(base_url=BASE) as client:
        for _ in range(5):
            await client.get("/a")
    assert http.report().breaker_state == "closed"
    assert http.report().consecutive_failures == 0


async def test_a_success_resets_the_count_of_failures(clock: FakeClock) -> None:
    policy = HttpPolicy(breaker_threshold=3, max_attempts=1)
    script = Recorder(
        httpx.Response(500), httpx.Response(500), httpx.Response(200), httpx.Response(500)
    )
    http = channel(script, clock, policy)
    async with http.client(base_url=BASE) as client:
        for _ in range(4):
            await client.get("/a")
    assert http.report().breaker_state == "closed"
    assert http.report().consecutive_failures == 1


# -- errors -----------------------------------------------------------------------------


def answer(status: int, method: str = "GET", **headers: str) -> httpx.Response:
    request = httpx.Request(method, f"{BASE}{PATH}?token={TOKEN}")
    return httpx.Response(status, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (401, AuthenticationFailed, "GET api.example.test: HTTP 401 Unauthorized"),
        (403, AuthenticationFailed, "GET api.example.test: HTTP 403 Forbidden"),
        (404, ProtocolError, "GET api.example.test: HTTP 404 Not Found"),
        (410, ProtocolError, "GET api.example.test: HTTP 410 Gone"),
        (429, RateLimited, "GET api.example.test: HTTP 429 Too Many Requests"),
        (400, ProtocolError, "GET api.example.test: HTTP 400 Bad Request"),
        (422, ProtocolError, "GET api.example.test: HTTP 422 Unprocessable Entity"),
        (500, ConnectionFailed, "GET api.example.test: HTTP 500 Internal Server Error"),
        (503, ConnectionFailed, "GET api.example.test: HTTP 503 Service Unavailable"),
        (302, ProtocolError, "GET api.example.test: HTTP 302 Found"),
    ],
)
def test_raise_for_status_maps_to_the_adapter_errors(
    status: int, error: type[AdapterError], text: str
) -> None:
    with pytest.raises(error) as caught:
        raise_for_status(answer(status))
    assert type(caught.value) is error
    assert str(caught.value).startswith(text)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("status", [200, 201, 204, 304])
def test_raise_for_status_passes_success(status: int) -> None:
    raise_for_status(answer(status))


def test_a_429_carries_its_retry_after() -> None:
    with pytest.raises(RateLimited) as caught:
        raise_for_status(answer(429, **{"Retry-After": "30"}))
    assert caught.value.retry_after == 30.0
    assert str(caught.value).endswith("try again in 30s")
    with pytest.raises(RateLimited) as caught:
        raise_for_status(answer(429))
    assert caught.value.retry_after is None


def test_the_server_reason_text_is_not_repeated() -> None:
    request = httpx.Request("GET", f"{BASE}/x")
    hostile = httpx.Response(
        500, request=request, extensions={"reason_phrase": f"Oops {TOKEN}".encode()}
    )
    with pytest.raises(ConnectionFailed) as caught:
        raise_for_status(hostile)
    assert str(caught.value) == "GET api.example.test: HTTP 500 Internal Server Error"


def _secret_free(thing: object) -> None:
    for text in (str(thing), repr(thing)):
        assert TOKEN not in text
        assert "sendMessage" not in text


@pytest.mark.parametrize(
    "failure",
    [
        refused(),
        read_timeout(),
        httpx.ConnectTimeout(f"connect to {BASE}{PATH}"),
        httpx.PoolTimeout(f"pool {PATH}"),
        httpx.RemoteProtocolError(f"illegal status line from {PATH}"),
        httpx.LocalProtocolError(f"Illegal header value b'Bearer {TOKEN}'"),
        httpx.ProxyError(f"proxy said no to {PATH}"),
        httpx.UnsupportedProtocol(f"no scheme in {PATH}"),
    ],
    ids=lambda exc: type(exc).__name__,
)
async def test_no_message_or_report_names_the_path_query_or_a_header(
    clock: FakeClock, failure: Exception
) -> None:
    script = Recorder(failure)
    http = channel(script, clock, HttpPolicy(breaker_threshold=1))
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Api-Key": TOKEN}
    async with http.client(base_url=BASE, headers=headers, params={"token": TOKEN}) as client:
        with pytest.raises(AdapterError) as caught:
            await client.post(PATH, params={"key": TOKEN}, content=b"x")
        error = caught.value
        assert str(error).startswith("POST api.example.test: ")
        _secret_free(error)
        _secret_free(error.args)
        assert error.__cause__ is None
        assert error.__context__ is None
        assert TOKEN not in "".join(traceback.format_exception(error))
        with pytest.raises(AdapterError) as again:  # the breaker is open now
            await client.post(PATH, params={"key": TOKEN}, content=b"x")
        _secret_free(again.value)
    _secret_free(http.report())
    _secret_free(http)


async def test_status_errors_and_reports_name_no_secret(clock: FakeClock) -> None:
    script = Recorder(
        httpx.Response(401),
        httpx.Response(429, headers={"Retry-After": "5000"}),
        httpx.Response(500),
    )
    http = channel(script, clock, HttpPolicy(max_attempts=1))
    async with http.client(base_url=f"https://user:{TOKEN}@api.example.test") as client:
        for _ in range(3):
            response = await client.get(PATH, params={"token": TOKEN})
            with pytest.raises(AdapterError) as caught:
                raise_for_status(response)
            _secret_free(caught.value)
    _secret_free(http.report())


async def test_client_level_failures_are_adapter_errors_too(clock: FakeClock) -> None:
    loop = Recorder(httpx.Response(302, headers={"Location": f"{BASE}{PATH}"}))
    async with channel(loop, clock).client(base_url=BASE, follow_redirects=True) as client:
        with pytest.raises(ProtocolError, match=r"^GET api\.example\.test: too many redirects$"):
            await client.get(PATH)
    gzip = {"Content-Encoding": "gzip"}
    broken = Recorder(httpx.Response(200, headers=gzip, stream=httpx.ByteStream(b"not gzip")))
    async with channel(broken, clock).client(base_url=BASE) as client:
        with pytest.raises(ProtocolError, match="encoding cannot be decoded"):
            await client.get(PATH)
        with pytest.raises(ConfigurationError, match="URL is not valid") as caught:
            await client.get(f"https://api.example.test:{TOKEN}/x")
        _secret_free(caught.value)


async def test_a_body_larger_than_the_limit_is_refused(clock: FakeClock) -> None:
    script = Recorder(httpx.Response(200, content=b"x" * 2048))
    http = channel(script, clock, HttpPolicy(max_body_bytes=1024))
    async with http.client(base_url=BASE) as client:
        with pytest.raises(ProtocolError, match="larger than"):
            await client.get("/big")


async def test_the_body_is_read_inside_the_policy(clock: FakeClock) -> None:
    class Trickle(httpx.AsyncByteStream):
        def __init__(self) -> None:
            self.fail = True

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"half"
            if self.fail:
                self.fail = False
                raise httpx.ReadError("lost")
            yield b" and half"

    stream = Trickle()
    script = Recorder(httpx.Response(200, stream=stream))
    async with channel(script, clock).client(base_url=BASE) as client:
        response = await client.get("/t")  # the read error mid-body is retried
    assert response.text == "half and half"
    assert script.calls == 2


async def test_an_answer_that_trickles_forever_is_cut_at_the_deadline() -> None:
    class Forever(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            while True:  # each chunk in time for a read timeout, the whole never
                await asyncio.sleep(0.02)
                yield b"."

    http = ChannelHttp(
        "support",
        HttpPolicy(deadline_margin_s=0.1),
        transport=httpx.MockTransport(lambda request: httpx.Response(200, stream=Forever())),
    )
    async with http.client(base_url=BASE) as client:
        http.begin(0.5)
        started = asyncio.get_running_loop().time()
        with pytest.raises(ConnectionFailed, match="no answer within the time left"):
            await client.post(PATH, content=b"x")
        assert asyncio.get_running_loop().time() - started < 0.5


# -- the client ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"verify": False},
        {"transport": httpx.MockTransport(lambda r: httpx.Response(200))},
        {"mounts": {}},
        {"proxy": "http://proxy.test:3128"},
        {"verify": "/etc/ssl/certs/ca.pem"},
    ],
    ids=["verify-false", "transport", "mounts", "proxy", "verify-str"],
)
def test_options_that_would_bypass_the_policy_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match=r"^channel support: "):
        ChannelHttp("support").client(**options)


def test_verify_false_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"cannot be turned off \(verify=False\)"):
        ChannelHttp("support").client(verify=False)


def test_an_ssl_context_that_does_not_verify_is_refused() -> None:
    unchecked = ssl.create_default_context()
    unchecked.check_hostname = False
    unchecked.verify_mode = ssl.CERT_NONE
    with pytest.raises(ConfigurationError, match="does not check certificates"):
        ChannelHttp("support").client(verify=unchecked)


async def test_redirects_are_off_unless_asked_and_options_pass_through() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    http = ChannelHttp("support", transport=httpx.MockTransport(handler))
    async with http.client(
        base_url=BASE, headers={"X-Api-Key": "k"}, auth=("me", "pw"), params={"a": "1"}
    ) as client:
        assert client.follow_redirects is False
        await client.get("/x")
    assert seen[0].headers["x-api-key"] == "k"
    assert seen[0].headers["authorization"].startswith("Basic ")
    assert seen[0].url.params["a"] == "1"
    async with http.client(follow_redirects=True) as client:
        assert client.follow_redirects is True


def test_tls_is_verified_with_tls_1_2_at_least() -> None:
    context = secure_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    old = ssl.create_default_context()
    old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    assert secure_context(old).minimum_version == ssl.TLSVersion.TLSv1_2


def test_the_policy_refuses_nonsense() -> None:
    with pytest.raises(ConfigurationError):
        HttpPolicy(max_attempts=0)
    with pytest.raises(ConfigurationError, match="backoff_base_s"):
        HttpPolicy(backoff_base_s=-1)


def test_a_new_channel_reports_nothing_seen() -> None:
    assert ChannelHttp("support").report() == HttpReport(
        channel_id="support",
        breaker_state="closed",
        open_until=None,
        consecutive_failures=0,
        slow_down_until=None,
        suggested_interval_s=None,
        rate_limit=None,
        tls=(),
        last_failure=None,
    )


def test_the_public_surface_is_pinned() -> None:
    import sportello_sdk.http as module

    assert sorted(module.__all__) == [
        "BreakerState",
        "ChannelHttp",
        "HttpPolicy",
        "HttpReport",
        "IDEMPOTENT_METHODS",
        "RateLimitInfo",
        "TlsFacts",
        "parse_retry_after",
        "raise_for_status",
    ]
