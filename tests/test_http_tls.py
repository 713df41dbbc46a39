"""The HTTP policy against real sockets on loopback: a TLS handshake with a trustme
certificate (the facts recorded for the security checklist), a certificate we do
not trust, and a server that never answers."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
import trustme

from sportello_sdk.errors import ConnectionFailed
from sportello_sdk.http import ChannelHttp, HttpPolicy

TOKEN = "987654:secret-in-the-path"
NOT_BEFORE = datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2031, 6, 30, 12, 0, tzinfo=UTC)
HSTS = "max-age=63072000; includeSubDomains"

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    cert = ca.issue_cert("localhost", not_before=NOT_BEFORE, not_after=NOT_AFTER)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.fixture
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@asynccontextmanager
async def serving(serve: Serve, context: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A server on 127.0.0.1; yields its port."""
    writers: list[asyncio.StreamWriter] = []
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writers.append(writer)
        try:
            await serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


async def answer_with_hsts(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    body = b'{"ok": true}'
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Strict-Transport-Security: {HSTS}\r\n".encode()
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client hangs up


async def test_a_real_handshake_records_the_tls_facts(
    server_context: ssl.SSLContext, trusting: ssl.SSLContext
) -> None:
    http = ChannelHttp("support")
    async with serving(answer_with_hsts, server_context) as port:
        client = http.client(base_url=f"https://localhost:{port}", verify=trusting)
        async with client:
            http.begin(10.0)
            response = await client.get(f"/bot{TOKEN}/getUpdates")
    assert response.json() == {"ok": True}
    (facts,) = http.report().tls
    assert facts.host == f"localhost:{port}"
    assert facts.tls_version in {"TLSv1.2", "TLSv1.3"}
    assert facts.cipher
    assert facts.not_after == NOT_AFTER.timestamp()
    assert facts.not_before == NOT_BEFORE.timestamp()
    assert facts.hsts == HSTS
    assert abs(facts.seen_at - time.time()) < 60
    assert TOKEN not in repr(http.report())
    assert "network_stream" not in response.extensions  # nothing left holding the socket


async def test_hsts_over_plain_http_is_not_recorded() -> None:
    http = ChannelHttp("support")
    async with serving(answer_with_hsts) as port, http.client() as client:
        response = await client.get(f"http://127.0.0.1:{port}/")
    assert response.headers["strict-transport-security"] == HSTS
    assert http.report().tls == ()


async def test_a_certificate_we_do_not_trust_fails_once_and_says_why(
    server_context: ssl.SSLContext,
) -> None:
    http = ChannelHttp("support")  # the default trust store: no trustme CA in it
    async with serving(answer_with_hsts, server_context) as port, http.client() as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.get(f"https://localhost:{port}/bot{TOKEN}/getUpdates")
    message = str(caught.value)
    assert message.startswith(f"GET localhost:{port}: certificate verify failed")
    assert "tries" not in message  # not retried
    assert TOKEN not in message
    assert http.report().consecutive_failures == 1
    assert http.report().tls == ()


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_server_that_never_answers_times_out_within_the_budget(method: str) -> None:
    http = ChannelHttp("support", HttpPolicy(deadline_margin_s=0.2, min_attempt_s=0.3))
    async with serving(never_answer) as port, http.client() as client:
        http.begin(1.0)
        started = time.monotonic()
        with pytest.raises(ConnectionFailed) as caught:
            await client.request(method, f"http://127.0.0.1:{port}/bot{TOKEN}/x", content=b"x")
        elapsed = time.monotonic() - started
    assert 0.5 < elapsed < 1.0
    assert str(caught.value).startswith(f"{method} 127.0.0.1:{port}: no answer after 0.8s")
    assert TOKEN not in str(caught.value)


def test_the_ca_bundle_is_loaded_once_for_every_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading it costs ~50 ms holding the GIL: fifty channels connecting at once made
    every channel's loop look blocked."""
    import httpx

    from sportello_sdk import http_client
    from sportello_sdk.http import ChannelHttp

    made: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> object:
        context = real()
        made.append(context)
        return context

    monkeypatch.setattr(http_client, "_default_context", None)
    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    clients = [ChannelHttp(f"c{i}").client() for i in range(5)]
    assert len(made) == 1
    assert made[0].minimum_version >= ssl.TLSVersion.TLSv1_2  # type: ignore[attr-defined]
    for client in clients:
        asyncio.run(client.aclose())
