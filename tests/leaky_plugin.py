"""A plug-in that leaks its token every way plug-ins do, for the end-to-end secret test.

It logs the token through its channel logger and through ``httpx``'s logger (as
httpx's request log does: the Bot API puts the token in the URL path), then
fails with messages that hold the token URL-encoded (as ``raise_for_status()``
words it), in base64 inside ``user:token`` (Basic auth), upper-cased, and cut.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

from sportello_sdk import (
    Adapter,
    ChannelContext,
    ChannelState,
    ConnectionFailed,
    Option,
    ProtocolError,
    Session,
)
from sportello_sdk.secret import Secret


def forms(token: str) -> dict[str, str]:
    basic = base64.b64encode(f"shop:{token}".encode()).decode()
    return {
        "url": f"https://api.telegram.org/bot{token}/getUpdates",
        "quoted": quote(token, safe=""),
        "quoted_plus": quote_plus(token),
        "basic": f"Basic {basic}",
        "b64": base64.b64encode(token.encode()).decode().rstrip("="),
        "upper": token.upper(),
        "part": token[:12] + "…",
    }


class LeakySession(Session):
    def __init__(self, context: ChannelContext) -> None:
        secret = context.options["token"]
        assert isinstance(secret, Secret)
        self.token = secret.reveal()
        self.log = context.log
        self.polls = 0

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        self.polls += 1
        leak = forms(self.token)
        logging.getLogger("httpx").info('HTTP Request: GET %s "HTTP/1.1 401"', leak["url"])
        self.log.warning("polling with %s and %s", leak["basic"], leak["upper"])
        self.log.error("token was %s", self.token, exc_info=ValueError(leak["quoted"]))
        if self.polls % 2:
            raise ConnectionFailed(
                f"Client error '401 Unauthorized' for url '{leak['url']}' "
                f"({leak['quoted']}, {leak['quoted_plus']}, {leak['part']})"
            )
        raise ProtocolError(f"{leak['basic']} / {leak['b64']} / {self.token.lower()}")


class LeakyAdapter(Adapter):
    name: ClassVar[str] = "leaky"
    options = (Option("token", secret=True, required=True),)

    @classmethod
    async def connect(cls, context: ChannelContext) -> Session:
        return LeakySession(context)


class RaisesToken(Adapter):
    """Its bug: a plain exception with the token in it, at connect."""

    name: ClassVar[str] = "raises-token"
    options = (Option("token", secret=True, required=True),)

    @classmethod
    async def connect(cls, context: ChannelContext) -> Session:
        secret = context.options["token"]
        assert isinstance(secret, Secret)
        raise KeyError(f"no account for {secret.reveal()}")
