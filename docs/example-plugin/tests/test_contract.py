"""The example plug-in under sportello's contract kit, against a mock helpdesk.

The mock answers like the API documented in adapter.py: it is plain Python that looks
at each request (``httpx.MockTransport``), so the tests need no network and no
helpdesk. ``adapter_contract`` and ``contract_clock`` come with sportello's pytest
plugin (``sportello_sdk.pytest_plugin``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sportello_example_helpdesk import HelpdeskAdapter

from sportello_sdk import ConnectionFailed
from sportello_sdk.pytest_plugin import AdapterContract
from sportello_sdk.testing import FixedClock, run_contract

TOKEN = "example-token-7f3a"  # noqa: S105 (a test's; a real one is behind a ${keyring:…})
OPTIONS = {"url": "https://desk.example.com", "token": TOKEN}
NOW = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)  # the contract_clock fixture's time


def at(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def message(id_: int, author: str, minutes_ago: float, body: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "author": author,
        "public": True,
        "auto": False,
        "body": body,
        "created_at": at(minutes_ago),
        **extra,
    }


def tickets() -> list[dict[str, Any]]:
    return [
        {  # waiting: the customer wrote again after the shop's answer
            "id": 17,
            "subject": "Order 1042 has not arrived",
            "status": "open",
            "requester": {"name": "Ana Rossi", "email": "ana@example.com"},
            "assignee": None,
            "messages": [
                message(101, "requester", 180, "Where is my order 1042?"),
                message(102, "system", 180, "We received your request."),
                message(103, "agent", 120, "It left yesterday."),
                message(104, "agent", 110, "check the courier", public=False),  # a note
                message(105, "requester", 30, "The courier says no."),
            ],
        },
        {  # answered: pending on the customer
            "id": 18,
            "subject": None,
            "status": "pending",
            "requester": {"name": "Marco", "email": None},
            "assignee": "giulia",
            "messages": [
                message(201, "requester", 90, "Do you ship to Malta?"),
                message(202, "requester", 89, "I am away until Monday", auto=True),
                message(203, "agent", 60, "Yes, in 3 days."),
            ],
        },
    ]


class MockHelpdesk:
    """The helpdesk's API as plain Python: pages of tickets, replies that honour their
    idempotency key, closing."""

    def __init__(self, per_page: int = 1) -> None:
        self.tickets = tickets()
        self.per_page = per_page
        self.replies: dict[str, dict[str, Any]] = {}  # idempotency key -> its answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "unauthorized"})
        path = request.url.path
        if request.method == "GET" and path == "/api/v1/tickets":
            page = int(request.url.params.get("page", "1"))
            start = (page - 1) * self.per_page
            chunk = self.tickets[start : start + self.per_page]
            more = start + self.per_page < len(self.tickets)
            return httpx.Response(
                200, json={"tickets": chunk, "next_page": page + 1 if more else None}
            )
        if request.method == "POST" and path.endswith("/replies"):
            key = request.headers["idempotency-key"]
            if key not in self.replies:
                self.replies[key] = {"id": 900 + len(self.replies), "created_at": at(0)}
            return httpx.Response(201, json=self.replies[key])
        if request.method == "PATCH" and path.startswith("/api/v1/tickets/"):
            if json.loads(request.content) != {"status": "closed"}:
                return httpx.Response(422, json={"error": "unknown change"})
            return httpx.Response(
                200, json={"id": path.rsplit("/", 1)[1], "status": "closed", "updated_at": at(0)}
            )
        return httpx.Response(404, json={"error": "not found"})


def test_the_adapter_meets_the_contract(
    adapter_contract: AdapterContract, contract_clock: FixedClock
) -> None:
    helpdesk = MockHelpdesk()
    report = adapter_contract(
        HelpdeskAdapter, OPTIONS, transport=httpx.MockTransport(helpdesk), clock=contract_clock
    )
    assert len(report.states) == 2  # fetched twice
    assert len(helpdesk.replies) == 1  # the reply sent twice with one key was made once


def test_who_counts_as_the_customer(contract_clock: FixedClock) -> None:
    report = run_contract(
        HelpdeskAdapter,
        OPTIONS,
        transport=httpx.MockTransport(MockHelpdesk()),
        clock=contract_clock,
        actions=False,
    )
    report.assert_ok()
    waiting, answered = report.states[0].conversations
    # Ana wrote again after the answer: waiting since then, not since her first message;
    # the helpdesk's own "we received" and the internal note are nobody's messages.
    assert waiting.waiting_since == NOW - timedelta(minutes=30)
    assert [m.external_id for m in waiting.messages] == ["101", "103", "105"]
    # Marco's out-of-office answer is not a customer message; he is not waiting.
    assert answered.waiting_since is None
    assert answered.first_response_at == NOW - timedelta(minutes=60)
    assert [m.external_id for m in answered.messages] == ["201", "203"]


def test_a_list_cut_by_max_pages_is_not_complete(contract_clock: FixedClock) -> None:
    report = run_contract(
        HelpdeskAdapter,
        {**OPTIONS, "max_pages": 1},
        transport=httpx.MockTransport(MockHelpdesk(per_page=1)),
        clock=contract_clock,
        actions=False,
    )
    report.assert_ok()
    assert [state.complete for state in report.states] == [False, False]


def test_the_token_is_sent_and_never_shown(contract_clock: FixedClock) -> None:
    helpdesk = MockHelpdesk()
    report = run_contract(
        HelpdeskAdapter, OPTIONS, transport=httpx.MockTransport(helpdesk), clock=contract_clock
    )
    assert helpdesk.requests  # every request carried it (the mock refuses others)
    assert TOKEN not in str(report) + repr(report.states)


@pytest.mark.sportello_contract(actions=False)
def test_a_helpdesk_that_is_down_is_reported(
    adapter_contract: AdapterContract, contract_clock: FixedClock
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(AssertionError) as failed:
        adapter_contract(
            HelpdeskAdapter, OPTIONS, transport=httpx.MockTransport(down), clock=contract_clock
        )
    assert f"fetch 1: failed: {ConnectionFailed.__name__}" in str(failed.value)
