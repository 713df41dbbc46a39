"""The demo adapter's declaration: what ``adapter: demo`` in config.yaml is.

Each demo channel has a ``profile`` (email, chat, phone, facebook, telegram) that
gives its kind, its expectation and its traffic; connecting opens a
:class:`~sportello_demo.session.DemoSession`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from sportello_demo.options import OPTIONS
from sportello_demo.profiles import PROFILE_BY_NAME
from sportello_demo.session import DemoSession
from sportello_sdk import Adapter, Capabilities, ChannelContext, ChannelKind, Option

__all__ = ["DemoAdapter", "DemoSession"]


class DemoAdapter(Adapter):
    """Simulated channels of a small Italian shop, for the first run, tests and benchmarks.

    ``capabilities.keys`` is declared true, as the channel honours keys by
    default; ``honour_keys: false`` is a switch for crash tests, which then see
    every call as a new delivery in the record. The outbox never relies on
    ``keys`` to avoid a second send: it never resends on its own.
    """

    name: ClassVar[str] = "demo"
    description: ClassVar[str] = (
        "simulated channels of a small shop (email, chat, phone, Facebook, Telegram)"
    )
    kind: ClassVar[ChannelKind] = ChannelKind.OTHER  # per profile: see channel_kind
    default_expectation: ClassVar[timedelta] = timedelta(hours=1)
    options: ClassVar[tuple[Option, ...]] = OPTIONS
    capabilities: ClassVar[Capabilities] = Capabilities(
        reply=True,
        close=True,
        assign=True,
        snooze=True,
        reopen=True,
        keys=True,
        lookup=True,
        recheck=True,
    )

    @classmethod
    async def connect(cls, context: ChannelContext) -> DemoSession:
        """A simulated channel needs no login: the session reads its record when
        it first needs it."""
        return DemoSession(context)

    @classmethod
    def channel_kind(cls, options: Mapping[str, Any]) -> ChannelKind:
        return PROFILE_BY_NAME[str(options.get("profile") or "email")].kind

    @classmethod
    def channel_expectation(cls, options: Mapping[str, Any]) -> timedelta:
        return PROFILE_BY_NAME[str(options.get("profile") or "email")].expectation
