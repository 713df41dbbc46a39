"""Adapters with the ordinary bugs plug-ins carry, for the isolation tests.

Each is its own session (see :class:`tests.engine_fakes.FakeAdapter`). What they
share with a test crosses threads: the collector runs every session in the
channel's own thread, so the counters are plain ints and the signals
``threading.Event``s.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from sportello_sdk import ChannelState, ConnectionFailed, RateLimited
from tests.engine_fakes import FakeAdapter, conversation


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no words for this")


class NotAnException(BaseException):
    """Neither Exception nor a cancellation: a TaskGroup would stop every channel."""


class ExceptionAsMessage(FakeAdapter):
    name: ClassVar[str] = "exc-message"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise ConnectionFailed(Unprintable())


class NoInit(ConnectionFailed):
    """An adapter error whose __init__ skips ours: it has no message."""

    def __init__(self, code: int) -> None:
        self.code = code

    def __str__(self) -> str:
        return f"code {self.code}"


class SkipsInit(FakeAdapter):
    name: ClassVar[str] = "skips-init"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise NoInit(42)


class UnprintableError(FakeAdapter):
    name: ClassVar[str] = "unprintable"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise Unprintable()


class TextRetryAfter(FakeAdapter):
    name: ClassVar[str] = "text-retry-after"
    value: ClassVar[object] = "120"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise RateLimited("slow down", retry_after=type(self).value)


class BaseExceptionRaiser(FakeAdapter):
    name: ClassVar[str] = "base-exception"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise NotAnException("boom")


class Exits(FakeAdapter):
    name: ClassVar[str] = "exits"
    how: ClassVar[type[BaseException]] = SystemExit

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise type(self).how(3)


class Blocks(FakeAdapter):
    """The ``requests.get()`` bug: a blocking call inside ``fetch``."""

    name: ClassVar[str] = "blocks"
    seconds: ClassVar[float] = float(os.environ.get("MISBEHAVING_BLOCK_S", "1.5"))
    polls: ClassVar[int] = 0

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        type(self).polls += 1
        time.sleep(type(self).seconds)  # noqa: ASYNC251 - the bug under test
        return ChannelState((conversation("b1"),))


class CancelsItself(FakeAdapter):
    """Awaits a helper task that was cancelled: CancelledError nobody asked for."""

    name: ClassVar[str] = "cancels-itself"
    polls: ClassVar[int] = 0

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        type(self).polls += 1
        helper = asyncio.create_task(asyncio.sleep(10))
        await asyncio.sleep(0)
        helper.cancel()
        await helper
        return ChannelState()


class Swallows(FakeAdapter):
    """A reconnect loop that swallows every cancellation."""

    name: ClassVar[str] = "swallows"
    started: ClassVar[threading.Event] = threading.Event()

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        type(self).started.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                continue
        return ChannelState()


class Counts(FakeAdapter):
    """A well-behaved channel that counts its polls and when they happened."""

    name: ClassVar[str] = "counts"
    at: ClassVar[list[float]] = []

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        type(self).at.append(time.monotonic())
        return ChannelState((conversation("c1"),))


class Slow(FakeAdapter):
    """A well-behaved channel whose every poll takes a while (a slow API)."""

    name: ClassVar[str] = "slow"
    seconds: ClassVar[float] = 0.3
    starts: ClassVar[list[float]] = []

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        type(self).starts.append(time.monotonic())
        await asyncio.sleep(type(self).seconds)
        return ChannelState((conversation("s1"),))


class Remembers(FakeAdapter):
    """An incremental channel: its cursor goes up by one per fetch."""

    name: ClassVar[str] = "remembers"
    seen: ClassVar[list[dict[str, Any]]] = []

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        type(self).seen.append(dict(memory))
        cursor = int(memory.get("cursor", 0)) + 1
        return ChannelState(
            (conversation(f"r{cursor}"),), complete=False, memory={"cursor": cursor}
        )


MISBEHAVING = {
    cls.name: cls
    for cls in (
        ExceptionAsMessage,
        SkipsInit,
        UnprintableError,
        TextRetryAfter,
        BaseExceptionRaiser,
        Exits,
        Blocks,
        CancelsItself,
        Swallows,
        Counts,
        Slow,
        Remembers,
    )
}
