"""The adapter contract: one subclass per kind of channel.

An adapter is built once per configured channel with its validated options
(secret references already resolved) and a clock. The collector calls
``fetch()`` on the channel's poll interval, ``act()`` to deliver a reply or an
action from the outbox, and ``aclose()`` once at the end. Failures are raised as the errors of
:mod:`sportello_sdk.errors`; anything else an adapter raises is treated as a bug in it
and reported as a protocol error of that channel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sportello_sdk.errors import ConfigurationError, NotSupported
from sportello_sdk.models import (
    ActionRequest,
    ActionResult,
    Capabilities,
    ChannelKind,
    ChannelState,
    Conversation,
)
from sportello_sdk.options import Option, OptionError, resolve_options

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Adapter(ABC):
    """Base class of every channel adapter.

    Subclasses declare, as class attributes:

    - ``name``: the adapter's name in config.yaml (``adapter: imap``)
    - ``description``: one line for ``sportello adapters``
    - ``kind`` and ``default_expectation``: used when a channel sets no expectation
    - ``options``: the declared options (see :class:`sportello_sdk.options.Option`)
    - ``capabilities``: what it can do besides fetching
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    kind: ClassVar[ChannelKind] = ChannelKind.OTHER
    default_expectation: ClassVar[timedelta] = timedelta(hours=4)
    options: ClassVar[tuple[Option, ...]] = ()
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, channel_id: str, options: Mapping[str, Any], clock: Clock = utc_now) -> None:
        self.channel_id = channel_id
        self.config = dict(options)
        self.clock = clock

    @classmethod
    def declared_options(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every option ``cls.options`` declares: the given value, or its default.

        Values the config loader has coerced come back unchanged (coercion is
        idempotent); raw ones are checked the same way. ``ConfigurationError``
        names the option that is unknown, missing or out of its declared range.
        """
        try:
            return resolve_options(cls.options, given, adapter=cls.name)
        except OptionError as exc:
            raise ConfigurationError(str(exc)) from None

    @abstractmethod
    async def fetch(self) -> ChannelState:
        """Return the channel's queue as it is now."""

    async def act(self, request: ActionRequest) -> ActionResult:
        """Deliver one reply or action (``capabilities`` says which kinds).

        Return only once the channel has accepted it. The outbox calls it again
        with the same key only when the user asks to (after a failure or a crash
        whose outcome is unknown); a channel that honours keys (``capabilities.keys``)
        then does nothing twice. Raise :mod:`sportello_sdk.errors` (their ``retryable``
        says whether a later try may work).
        """
        raise NotSupported(f"the {self.name} adapter cannot {request.kind} conversations")

    async def lookup(self, request: ActionRequest) -> ActionResult | None:
        """Whether the channel has the action with this key (``capabilities.lookup``):
        what it said when it accepted it, or ``None`` if it never arrived."""
        raise NotSupported(f"the {self.name} adapter cannot look actions up")

    async def recheck(self, external_id: str) -> Conversation | None:
        """The conversation as the channel has it now (``capabilities.recheck``), to
        hold a reply when someone answered from another tool; ``None`` if gone."""
        raise NotSupported(f"the {self.name} adapter cannot re-read a conversation")

    async def aclose(self) -> None:
        """Release connections. Called once; must not raise."""
        return None

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The adapter's declaration as plain data."""
        caps = cls.capabilities
        return {
            "name": cls.name,
            "description": cls.description,
            "kind": str(cls.kind),
            "default_expectation_s": int(cls.default_expectation.total_seconds()),
            "capabilities": {
                "reply": caps.reply,
                "close": caps.close,
                "assign": caps.assign,
                "snooze": caps.snooze,
                "reopen": caps.reopen,
                "keys": caps.keys,
                "lookup": caps.lookup,
                "recheck": caps.recheck,
            },
            "options": [option.describe() for option in cls.options],
        }
