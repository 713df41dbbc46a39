"""The adapter contract: a declaration, and the sessions it opens.

An adapter is a class that *declares* a kind of channel — its name in config.yaml,
its kind, options, capabilities and default expectation — and *connects*: for each
configured channel the collector calls :meth:`Adapter.connect` with a
:class:`ChannelContext` (the channel's id, its options checked and typed, secrets as
:class:`~sportello_sdk.secret.Secret`, a clock, a logger, the channel's time budget
and its HTTP policy) and gets back a :class:`Session`. The session is where logins,
sockets and HTTP clients live: ``fetch`` on the channel's poll interval, the actions
when the outbox delivers, ``aclose`` once at the end.

Every call runs in the channel's own thread, on an event loop of its own: an adapter
that blocks, hangs or raises harms only its channel. It must still not block
(``time.sleep``, ``requests``): the collector reports a channel whose loop stops for
more than a second, and abandons one that does not stop when asked.

Failures are raised as the errors of :mod:`sportello_sdk.errors`; anything else is
treated as a bug of the adapter and reported as such on its channel.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

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

if TYPE_CHECKING:
    import httpx

    from sportello_sdk.http import ChannelHttp

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def channel_logger(channel_id: str) -> logging.Logger:
    """The logger an adapter writes to for one channel (``sportello.channel.<id>``).

    Its lines go through the process's redaction like every other log line."""
    return logging.getLogger(f"sportello.channel.{channel_id}")


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What a session is given of its channel.

    ``options``: every declared option, checked and typed (durations as
    ``timedelta``, lists as tuples, secret options as ``Secret``; defaults filled
    in). ``timeout_s``: the time one fetch or one action may take in all.
    ``http``: the SDK's HTTP policy for this channel; :meth:`http_client` gives
    an ``httpx.AsyncClient`` that follows it.
    """

    channel_id: str
    options: Mapping[str, Any]
    clock: Clock = utc_now
    timeout_s: float = 30.0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("sportello.channel"))
    http: ChannelHttp | None = None

    def now(self) -> datetime:
        """The clock's time, aware and in UTC."""
        now = self.clock()
        return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)

    def http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` under the SDK's HTTP policy: timeouts from the
        channel's budget, safe retries, Retry-After, rate limits, a circuit breaker,
        errors mapped to :mod:`sportello_sdk.errors`. Close it in ``aclose``."""
        http = self.http
        if http is None:
            from sportello_sdk.http import ChannelHttp

            http = ChannelHttp(self.channel_id)
            http.begin(self.timeout_s)  # the call under way began before the policy existed
            object.__setattr__(self, "http", http)
        client: httpx.AsyncClient = http.client(**kwargs)
        return client


class Session(ABC):
    """One connected channel. Made by :meth:`Adapter.connect`; used from one task at a
    time (a fetch and an action never run at once)."""

    @abstractmethod
    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        """The channel's queue as it is now.

        ``memory`` is what the last fetch put in ``ChannelState.memory`` (empty the
        first time): a cursor for channels read incrementally."""

    async def act(self, request: ActionRequest) -> ActionResult:
        """Deliver one reply or action (the adapter's ``capabilities`` say which).

        Return only once the channel has accepted it. The outbox calls it again
        with the same key only when the user asks to (after a failure or a crash
        whose outcome is unknown); a channel that honours keys (``capabilities.keys``)
        then does nothing twice. Raise :mod:`sportello_sdk.errors` (their
        ``retryable`` says whether a later try may work)."""
        raise NotSupported(f"this channel cannot {request.kind} conversations")

    async def lookup(self, request: ActionRequest) -> ActionResult | None:
        """Whether the channel has the action with this key (``capabilities.lookup``):
        what it said when it accepted it, or ``None`` if it never arrived."""
        raise NotSupported("this channel cannot look actions up")

    async def recheck(self, external_id: str) -> Conversation | None:
        """The conversation as the channel has it now (``capabilities.recheck``), to
        hold a reply when someone answered from another tool; ``None`` if gone."""
        raise NotSupported("this channel cannot re-read a conversation")

    async def aclose(self) -> None:
        """Log out, close sockets and clients. Called once; must not raise."""
        return None


class Adapter(ABC):
    """The declaration of one kind of channel. Subclasses set, as class attributes:

    - ``name``: the adapter's name in config.yaml (``adapter: imap``); the entry
      point's name is the one config uses, and should be the same
    - ``description``: one line for ``sportello adapters``
    - ``kind`` and ``default_expectation``: used when a channel sets no expectation
    - ``options``: the declared options (see :class:`sportello_sdk.options.Option`)
    - ``capabilities``: what its sessions can do besides fetching

    and implement :meth:`connect`.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    kind: ClassVar[ChannelKind] = ChannelKind.OTHER
    default_expectation: ClassVar[timedelta] = timedelta(hours=4)
    options: ClassVar[tuple[Option, ...]] = ()
    capabilities: ClassVar[Capabilities] = Capabilities()

    @classmethod
    @abstractmethod
    async def connect(cls, context: ChannelContext) -> Session:
        """Open a session on the channel: log in, open clients. Raise
        :mod:`sportello_sdk.errors` when it cannot (the collector tries again later)."""

    @classmethod
    def channel_kind(cls, options: Mapping[str, Any]) -> ChannelKind:
        """The kind of one configured channel (one adapter may serve several kinds)."""
        return cls.kind

    @classmethod
    def channel_expectation(cls, options: Mapping[str, Any]) -> timedelta:
        """The default expectation of one configured channel."""
        return cls.default_expectation

    @classmethod
    def declared_options(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every option ``cls.options`` declares: the given value, or its default.

        Values already coerced come back unchanged (coercion is idempotent).
        ``ConfigurationError`` names the option that is unknown, missing or out of
        its declared range.
        """
        try:
            return resolve_options(cls.options, given, adapter=cls.name)
        except OptionError as exc:
            raise ConfigurationError(str(exc)) from None

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
