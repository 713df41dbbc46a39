"""Fake adapters and a config builder for engine tests (no YAML, no entry points)."""

from __future__ import annotations

import asyncio
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
    Conversation,
    Customer,
    Option,
    RateLimited,
)

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


class GoodAdapter(Adapter):
    name: ClassVar[str] = "good"
    options = (Option("count", default=2),)
    polls = 0

    async def fetch(self) -> ChannelState:
        type(self).polls += 1
        count = int(self.config.get("count", 2))
        return ChannelState(tuple(conversation(f"g{i}") for i in range(count)))


class HangingAdapter(Adapter):
    name: ClassVar[str] = "hang"

    async def fetch(self) -> ChannelState:
        await asyncio.sleep(3600)
        return ChannelState()


class RaisingAdapter(Adapter):
    name: ClassVar[str] = "raise"

    async def fetch(self) -> ChannelState:
        raise ZeroDivisionError("token=s3cr3t-value leaked in a bug")


class GarbageAdapter(Adapter):
    name: ClassVar[str] = "garbage"

    async def fetch(self) -> ChannelState:
        return {"conversations": "lots"}  # type: ignore[return-value]


class NaiveTimeAdapter(Adapter):
    name: ClassVar[str] = "naive"

    async def fetch(self) -> ChannelState:
        conv = conversation("n1")
        naive = datetime(2026, 11, 24, 9, 0)  # no time zone
        bad = Conversation(conv.external_id, conv.customer, conv.subject, naive, naive)
        return ChannelState((bad,))


class LimitedAdapter(Adapter):
    name: ClassVar[str] = "limited"

    async def fetch(self) -> ChannelState:
        raise RateLimited("Too Many Requests", retry_after=35)


class RefusedAdapter(Adapter):
    name: ClassVar[str] = "refused"

    async def fetch(self) -> ChannelState:
        raise AuthenticationFailed("the token was refused")


class SwallowingAdapter(Adapter):
    """A plug-in that catches the cancellation meant to stop it and returns."""

    name: ClassVar[str] = "swallow"
    fetching = asyncio.Event()
    swallowing = True

    async def fetch(self) -> ChannelState:
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
