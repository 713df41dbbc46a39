"""The open tickets of a JSON helpdesk, as a sportello channel.

The helpdesk's API (made up for the example, shaped like the usual ones)::

    GET   /api/v1/tickets?status=open,pending&page=1&per_page=50
          Authorization: Bearer TOKEN
          → {"tickets": [TICKET, …], "next_page": 2}        (null on the last page)
    POST  /api/v1/tickets/ID/replies   {"body": "…"}   Idempotency-Key: KEY
          → 201 {"id": 205, "created_at": "2025-03-11T10:02:00Z"}
            (the same key again: the same answer, and nothing sent twice)
    PATCH /api/v1/tickets/ID           {"status": "closed"}
          → 200 {"id": 17, "status": "closed", "updated_at": "…"}

    TICKET = {"id": 17, "subject": "Order 1042" (or null), "status": "open",
              "requester": {"name": "Ana Rossi", "email": "ana@example.com"},
              "assignee": "giulia" (or null),
              "messages": [{"id": 101, "author": "requester" | "agent" | "system",
                            "public": true, "auto": false, "body": "…",
                            "created_at": "2025-03-11T08:12:00Z"}, …]}

"open" tickets wait for the shop, "pending" ones for the customer (answered).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sportello_sdk import (
    ActionKind,
    ActionRequest,
    ActionResult,
    Adapter,
    Author,
    Capabilities,
    ChannelKind,
    ChannelState,
    Conversation,
    Customer,
    Message,
    NotSupported,
    Option,
    OptionType,
    ProtocolError,
)
from sportello_sdk.base import ChannelContext, Session
from sportello_sdk.http import raise_for_status
from sportello_sdk.secret import Secret

PER_PAGE = 50
MESSAGES_KEPT = 20  # the last messages of a thread that the dashboard shows


class HelpdeskAdapter(Adapter):
    """The declaration: read by ``sportello adapters`` and config.yaml's checker."""

    name: ClassVar[str] = "json-helpdesk"  # the entry point's name, too
    description: ClassVar[str] = "the open tickets of a JSON helpdesk (example plug-in)"
    kind: ClassVar[ChannelKind] = ChannelKind.HELPDESK
    default_expectation: ClassVar[timedelta] = timedelta(hours=4)
    options: ClassVar[tuple[Option, ...]] = (
        Option("url", required=True, description="the helpdesk's address, https://…"),
        Option(
            "token",
            required=True,
            secret=True,
            description="an API token (a reference: ${env:…}, ${keyring:…} or ${file:…})",
        ),
        Option(
            "max_pages",
            OptionType.INT,
            default=10,
            minimum=1,
            maximum=100,
            description=f"pages of {PER_PAGE} tickets read per poll; beyond, the list is partial",
        ),
    )
    capabilities: ClassVar[Capabilities] = Capabilities(reply=True, close=True, keys=True)

    @classmethod
    async def connect(cls, context: ChannelContext) -> Session:
        return HelpdeskSession(context)


class HelpdeskSession(Session):
    """One connected helpdesk: its HTTP client, under the SDK's policy."""

    def __init__(self, context: ChannelContext) -> None:
        options = context.options
        token: Secret = options["token"]
        self.context = context
        self.max_pages: int = options["max_pages"]
        self.client = context.http_client(
            base_url=str(options["url"]).rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token.reveal()}", "Accept": "application/json"},
        )

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        conversations: list[Conversation] = []
        page: object = 1
        for _ in range(self.max_pages):
            params = {"status": "open,pending", "page": str(page), "per_page": str(PER_PAGE)}
            body = await self._json("GET", "/tickets", params=params)
            tickets = body.get("tickets")
            if not isinstance(tickets, list):
                raise ProtocolError("the helpdesk's ticket list has no tickets")
            for ticket in tickets:
                conversation = _conversation(ticket)
                if conversation is not None:
                    conversations.append(conversation)
            page = body.get("next_page")
            if page is None:
                break
        else:
            self.context.log.info(
                "more than %d pages of tickets: this poll is partial", self.max_pages
            )
        # complete: every open and pending ticket was read, so one missing now has
        # left the queue (closed, or deleted).
        return ChannelState(tuple(conversations), complete=page is None)

    async def act(self, request: ActionRequest) -> ActionResult:
        ticket = f"/tickets/{request.conversation_external_id}"
        if request.kind is ActionKind.REPLY:
            body = await self._json(
                "POST",
                f"{ticket}/replies",
                json={"body": request.text or ""},
                headers={"Idempotency-Key": request.idempotency_key},
            )
            return ActionResult(_time(body.get("created_at")), external_id=str(body.get("id")))
        if request.kind is ActionKind.CLOSE:
            body = await self._json("PATCH", ticket, json={"status": "closed"})
            return ActionResult(_time(body.get("updated_at")))
        raise NotSupported(f"the helpdesk cannot {request.kind} tickets")

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.client.request(method, path, **kwargs)
        raise_for_status(response)  # 401 → AuthenticationFailed, 429 → RateLimited, …
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ProtocolError(f"{method} {path.split('/')[1]}: the answer is not JSON") from None
        if not isinstance(body, dict):
            raise ProtocolError(f"{method} {path.split('/')[1]}: the answer is not an object")
        return body


def _time(value: object) -> datetime:
    """An ISO 8601 time of the API (``…Z`` or with an offset) as an aware UTC datetime."""
    if not isinstance(value, str):
        raise ProtocolError("a time of the helpdesk is missing")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ProtocolError(
            f"the helpdesk sent a time sportello cannot read: {value[:40]!r}"
        ) from None
    if parsed.tzinfo is None:  # this API's times are UTC even when they do not say so
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _conversation(ticket: object) -> Conversation | None:
    """One ticket as a conversation; ``None`` for one no customer ever wrote in."""
    if not isinstance(ticket, dict) or ticket.get("id") is None:
        raise ProtocolError("the helpdesk sent a ticket without an id")
    messages: list[Message] = []
    for item in ticket.get("messages") or ():
        if not isinstance(item, dict):
            continue
        # Who counts as the customer: the requester's public messages, except the
        # automatic ones (an out-of-office answer of their mail server). Internal
        # notes and the helpdesk's own messages ("we got your request") are nobody's
        # answer: they neither start nor end a wait, and are left out.
        if not item.get("public", True) or item.get("author") == "system":
            continue
        if item.get("author") == "requester":
            if item.get("auto"):
                continue
            author = Author.CUSTOMER
        elif item.get("author") == "agent":
            author = Author.BUSINESS
        else:
            continue
        messages.append(
            Message(
                author=author,
                sent_at=_time(item.get("created_at")),
                text=str(item.get("body") or ""),
                external_id=str(item["id"]) if item.get("id") is not None else None,
            )
        )
    messages.sort(key=lambda message: message.sent_at)
    customer_times = [m.sent_at for m in messages if m.author is Author.CUSTOMER]
    if not customer_times:
        return None
    first_customer = customer_times[0]
    answers = [
        m.sent_at for m in messages if m.author is Author.BUSINESS and m.sent_at >= first_customer
    ]
    last_answer = max(answers) if answers else None
    waiting_since = None
    if ticket.get("status") == "open":
        # The first customer message since the shop's last answer.
        after = [t for t in customer_times if last_answer is None or t > last_answer]
        waiting_since = after[0] if after else None
    requester = ticket.get("requester") if isinstance(ticket.get("requester"), dict) else {}
    assert isinstance(requester, dict)
    return Conversation(
        external_id=str(ticket["id"]),
        customer=Customer(name=_text(requester.get("name")), email=_text(requester.get("email"))),
        subject=_text(ticket.get("subject")) or "",  # none: sportello shows the first words
        first_customer_message_at=first_customer,
        waiting_since=waiting_since,
        first_response_at=answers[0] if answers else None,
        messages=tuple(messages[-MESSAGES_KEPT:]),
        assignee=_text(ticket.get("assignee")),
    )
