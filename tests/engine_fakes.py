"""Fake adapters and a config builder for engine tests (no YAML, no entry points)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sportello.core.settings import Business, Channel, Config, OpenHours
from sportello_sdk import (
    Adapter,
    AuthenticationFailed,
    ChannelState,
    ConnectionFailed,
    Conversation,
    Customer,
    Option,
    RateLimited,
)
from sportello_sdk.base import ChannelContext, Session

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def conversation(external_id: str, minutes_ago: float = 10) -> Conversation:
    at = NOW - timedelta(minutes=minutes_ago)
    return Conversation(
        external_id=external_id,
        customer=Customer(name="Ana", email="ana@example.com"),
        subject=f"subject {external_id}",
        first_customer_message_at=at,
        waiting_since=at,
    )


class DeclarationOnly(Adapter):
    """A declaration for config tests: it never connects."""

    name: ClassVar[str] = "declaration"

    @classmethod
    async def connect(cls, context: ChannelContext) -> Session:
        raise ConnectionFailed("a declaration only")


class FakeAdapter(Adapter, Session):
    """A test adapter that is its own session: ``connect`` makes one per channel."""

    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        self.channel_id = context.channel_id
        self.config = dict(context.options)
        self.clock = context.clock

    @classmethod
    async def connect(cls, context: ChannelContext) -> Session:
        return cls(context)


class GoodAdapter(FakeAdapter):
    name: ClassVar[str] = "good"
    options = (Option("count", default=2),)
    polls = 0

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        type(self).polls += 1
        count = int(self.config.get("count", 2))
        return ChannelState(tuple(conversation(f"g{i}") for i in range(count)))


class HangingAdapter(FakeAdapter):
    name: ClassVar[str] = "hang"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        await asyncio.sleep(3600)
        return ChannelState()


class RaisingAdapter(FakeAdapter):
    name: ClassVar[str] = "raise"
    options = (Option("token", secret=True),)

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise ZeroDivisionError("token=s3cr3t-value leaked in a bug")


class GarbageAdapter(FakeAdapter):
    name: ClassVar[str] = "garbage"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        return {"conversations": "lots"}  # type: ignore[return-value]


class NaiveTimeAdapter(FakeAdapter):
    name: ClassVar[str] = "naive"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        conv = conversation("n1")
        naive = datetime(2026, 11, 24, 9, 0)  # no time zone
        bad = Conversation(conv.external_id, conv.customer, conv.subject, naive, naive)
        return ChannelState((bad,))


class LimitedAdapter(FakeAdapter):
    name: ClassVar[str] = "limited"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise RateLimited("Too Many Requests", retry_after=35)


class RefusedAdapter(FakeAdapter):
    name: ClassVar[str] = "refused"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise AuthenticationFailed("the token was refused")


class SwallowingAdapter(FakeAdapter):
    """A plug-in that catches the cancellation meant to stop it and returns."""

    name: ClassVar[str] = "swallow"
    fetching = threading.Event()  # set in the channel's own thread
    swallowing = True

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        type(self).fetching.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if not type(self).swallowing:
                raise
        return ChannelState()


FAKES: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (
        GoodAdapter,
        HangingAdapter,
        RaisingAdapter,
        GarbageAdapter,
        NaiveTimeAdapter,
        LimitedAdapter,
        RefusedAdapter,
        SwallowingAdapter,
    )
}


def load_fake(name: str) -> type[Adapter]:
    return FAKES[name]


def resolve_plain(channel: Channel, cls: type[Adapter]) -> dict[str, Any]:
    return dict(channel.options)


def make_config(store_path: Path, adapters: Mapping[str, str], timeout_s: float = 0.3) -> Config:
    """A config with one channel per (id → adapter name), 24/7 hours."""
    week = tuple(() for _ in range(7))
    hours = OpenHours(weekly=week, timezone=ROME)
    business = Business(name="Test shop", timezone=ROME, hours=hours)
    channels = tuple(
        Channel(
            id=cid,
            label=cid.title(),
            adapter=name,
            expectation=timedelta(minutes=5),
            hours=None,
            poll_interval=timedelta(seconds=0.05),
            timeout=timedelta(seconds=timeout_s),
        )
        for cid, name in adapters.items()
    )
    return Config(business=business, channels=channels, store_path=store_path)
