"""The adapter contract: the kit (sportello_sdk.testing) over sportello's own adapters,
and the kit itself.

Only the built-in adapters are run (the entry points of the distribution
``sportello``): a plug-in installed beside sportello is its author's to test with
the same kit, and must not make this suite fail. A new built-in adapter joins by
being registered; it must also get sample options below (the smallest options
that let it connect and fetch in a test), or the suite fails and says so.
"""

from __future__ import annotations

import asyncio
import json
import time
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from sportello.core import ingest
from sportello_sdk import (
    ActionKind,
    ActionRequest,
    ActionResult,
    Adapter,
    Author,
    Capabilities,
    ChannelState,
    ConnectionFailed,
    Conversation,
    Customer,
    Message,
    NotSupported,
    Option,
    registry,
)
from sportello_sdk.base import ChannelContext, Session
from sportello_sdk.checks.contract import FIELD_MAX, TEXT_MAX
from sportello_sdk.checks.declaration import declaration_problems, option_problems
from sportello_sdk.testing import FixedClock, check_adapter, make_context, run_contract

ROOT = Path(__file__).resolve().parent.parent

# The smallest valid options of each built-in adapter; ``tmp`` is the test's folder.
SAMPLE_OPTIONS: dict[str, Any] = {
    "demo": lambda tmp: {"profile": "email", "record": str(tmp / "demo-record.jsonl")},
}

# A weekday morning in the shop's time zone: the busiest time for most channels.
NOW = datetime(2025, 3, 11, 11, 0, tzinfo=ZoneInfo("Europe/Rome")).astimezone(UTC)

BUILT_IN = sorted(r.name for r in registry.available() if r.distribution == "sportello")


def test_the_built_in_demo_adapter_is_registered() -> None:
    assert "demo" in BUILT_IN


@pytest.fixture(params=BUILT_IN)
def name(request: pytest.FixtureRequest) -> str:
    value = request.param
    assert isinstance(value, str)
    assert value in SAMPLE_OPTIONS, (
        f"built-in adapter {value!r} has no SAMPLE_OPTIONS in tests/test_adapter_contract.py: "
        "add the smallest options that let it connect and fetch"
    )
    return value


@pytest.fixture
def cls(name: str) -> type[Adapter]:
    return registry.load(name)


def sample(name: str, tmp_path: Path) -> dict[str, Any]:
    options = SAMPLE_OPTIONS[name](tmp_path)
    assert isinstance(options, dict)
    return options


def test_loads_under_its_entry_point_name(name: str, cls: type[Adapter]) -> None:
    assert cls.name == name
    assert declaration_problems(cls) == []
    assert option_problems(cls.options) == []
    described = cls.describe()
    assert json.loads(json.dumps(described)) == described
    assert [o["name"] for o in described["options"]] == [o.name for o in cls.options]


def test_sample_options_are_declared_and_valid(
    name: str, cls: type[Adapter], tmp_path: Path
) -> None:
    cls.declared_options(sample(name, tmp_path))  # raises ConfigurationError if not


def test_meets_the_contract(name: str, cls: type[Adapter], tmp_path: Path) -> None:
    report = run_contract(cls, sample(name, tmp_path), clock=FixedClock(NOW))
    report.assert_ok()
    assert len(report.states) == 2
    skipped = [note for note in report.notes if "not tried" in note.message]
    assert not skipped, f"the sample options of {name!r} must give a waiting conversation at {NOW}"


async def test_a_reply_sent_twice_with_one_key_is_in_the_thread_once(
    name: str, cls: type[Adapter], tmp_path: Path
) -> None:
    if not (cls.capabilities.reply and cls.capabilities.keys):
        pytest.skip("the channel does not honour keys")
    session = await cls.connect(make_context(cls, sample(name, tmp_path), clock=FixedClock(NOW)))
    try:
        state = await session.fetch({})
        target = next(c for c in state.conversations if c.waiting)
        reply = ActionRequest(ActionKind.REPLY, target.external_id, "twice-1", text="Once only")
        assert await session.act(reply) == await session.act(reply)
        after = {c.external_id: c for c in (await session.fetch({})).conversations}
        thread = after.get(target.external_id)
        texts = [m.text for m in thread.messages] if thread is not None else []
        assert texts.count("Once only") <= 1
    finally:
        await session.aclose()


def test_the_sdk_keeps_the_stores_text_limits() -> None:
    assert (FIELD_MAX, TEXT_MAX) == (ingest.FIELD_MAX, ingest.TEXT_MAX)


def test_the_pytest_plugin_is_registered_under_its_module_name() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    plugins = project["entry-points"]["pytest11"]
    assert plugins == {"sportello_sdk.pytest_plugin": "sportello_sdk.pytest_plugin"}
    from sportello_sdk import pytest_plugin

    hooks = [n for n in vars(pytest_plugin) if n.startswith("pytest_")]
    assert hooks == ["pytest_configure"]  # it adds a marker's help, and nothing else runs


# ── the kit finds what plug-ins get wrong ───────────────────────────────────────


def conversation(external_id: str, **changes: Any) -> Conversation:
    fields: dict[str, Any] = {
        "external_id": external_id,
        "customer": Customer(name="Ana", email="ana@example.com"),
        "subject": "Order 1042",
        "first_customer_message_at": NOW - timedelta(hours=1),
        "waiting_since": NOW - timedelta(minutes=30),
        "messages": (Message(Author.CUSTOMER, NOW - timedelta(hours=1), "Where is it?"),),
    }
    fields.update(changes)
    return Conversation(**fields)


class Plugin(Adapter, Session):
    """A plug-in that is its own session; each test overrides what it gets wrong."""

    name: ClassVar[str] = "plugin"
    capabilities: ClassVar[Capabilities] = Capabilities(reply=True, close=True)
    conversations: ClassVar[tuple[Conversation, ...]] = (conversation("c1"),)

    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        self.memories: list[Mapping[str, Any]] = []

    @classmethod
    async def connect(cls, context: ChannelContext) -> Session:
        return cls(context)

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        self.memories.append(memory)
        return ChannelState(type(self).conversations, memory={"cursor": len(self.memories)})

    async def act(self, request: ActionRequest) -> ActionResult:
        if not self.capabilities.can(request.kind):
            raise NotSupported(f"cannot {request.kind}")
        return ActionResult(self.context.now(), external_id=f"r-{request.idempotency_key}")


def kit(adapter: type[Adapter], **settings: Any) -> list[str]:
    settings.setdefault("clock", FixedClock(NOW))
    return [str(problem) for problem in run_contract(adapter, {}, **settings).problems]


def test_a_plugin_that_keeps_the_contract_passes() -> None:
    assert kit(Plugin) == []


def test_the_memory_is_handed_back() -> None:
    seen: list[list[Mapping[str, Any]]] = []

    class Remembers(Plugin):
        async def aclose(self) -> None:
            seen.append(self.memories)

    assert kit(Remembers) == []
    assert seen[0] == [{}, {"cursor": 1}]


def test_bad_times_and_ids_are_each_reported() -> None:
    rome = ZoneInfo("Europe/Rome")

    class Times(Plugin):
        conversations = (
            conversation("future", waiting_since=datetime(9999, 1, 1, tzinfo=UTC)),
            conversation("local", waiting_since=NOW + timedelta(hours=1)),  # local labelled UTC
            conversation("naive", first_customer_message_at=datetime(2025, 3, 11, 9, 0)),
            conversation("early", waiting_since=NOW - timedelta(hours=3)),
            conversation("rome", waiting_since=(NOW - timedelta(minutes=5)).astimezone(rome)),
            conversation("twice"),
            conversation("twice", waiting_since=None),
            conversation("typed", customer=Customer(email=42)),  # type: ignore[arg-type]
            conversation("fine", subject=""),  # no subject: normal
        )

    problems = "\n".join(kit(Times, actions=False))
    for part in (
        "conversation 'future': waiting since 9999-01-01, in the future",
        "conversation 'local': waiting since 2025-03-11 11:00 UTC, 1h00m in the future",
        "conversation 'naive': first message: a time without a time zone",
        "conversation 'early': waiting since before its first message",
        "conversation 'rome': waiting_since is in the time zone CET; give times in UTC",
        "conversation 'twice': its id appears twice in this fetch",
        "conversation 'typed': customer e-mail is an int, not text: left out",
    ):
        assert part in problems
    assert "'fine'" not in problems


def test_a_state_that_is_not_one_and_a_bad_memory_are_reported() -> None:
    class Garbage(Plugin):
        async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
            return {"conversations": []}  # type: ignore[return-value]

    class Memory(Plugin):
        async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
            return ChannelState(memory={"seen": {1, 2}})

    assert "fetch 1: fetch() returned a dict, not a ChannelState" in kit(Garbage)
    assert any("memory is not JSON data" in p for p in kit(Memory))


def test_blocking_exiting_and_raising_are_reported_without_stopping_the_kit() -> None:
    class Blocks(Plugin):
        async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
            time.sleep(0.4)  # noqa: ASYNC251 (the requests.get() bug, on purpose)
            return await super().fetch(memory)

    class Exits(Plugin):
        async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
            raise SystemExit(3)

    class Raises(Plugin):
        async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
            raise ConnectionFailed(ValueError("down"))

    class Cancels(Plugin):
        async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
            raise asyncio.CancelledError

    class Closes(Plugin):
        async def aclose(self) -> None:
            raise RuntimeError("already closed")

    assert any("fetch 1: blocked the event loop for 0." in p for p in kit(Blocks))
    assert "fetch 1: raised SystemExit: 3: adapters must never exit" in kit(Exits)
    assert "fetch 2: failed: ConnectionFailed: ValueError: down" in kit(Raises)
    assert any("raised CancelledError though nobody cancelled it" in p for p in kit(Cancels))
    closes = kit(Closes)
    assert "aclose: must not raise, and raised RuntimeError: already closed" in closes
    assert any(p.startswith("aclose (of a session that never fetched)") for p in closes)


def test_a_plugin_that_will_not_stop_is_left_behind_not_waited_for() -> None:
    class Swallows(Plugin):
        async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
            while True:
                try:
                    await asyncio.sleep(60)
                except asyncio.CancelledError:
                    continue

    started = time.monotonic()
    problems = kit(Swallows, timeout_s=0.3)
    assert time.monotonic() - started < 5
    assert any("did not stop when cancelled" in p for p in problems)
    assert any("left behind" in p for p in problems)


def test_actions_must_honour_the_declared_capabilities() -> None:
    class Overdoes(Plugin):
        capabilities = Capabilities(reply=True, close=True, keys=True, lookup=True)

        sent = 0

        async def act(self, request: ActionRequest) -> ActionResult:
            if request.kind is ActionKind.CLOSE:
                raise NotSupported("closing is for another day")
            self.sent += 1  # a new reply each time, whatever the key
            return ActionResult(self.context.now() + timedelta(hours=2), str(self.sent))

        async def lookup(self, request: ActionRequest) -> ActionResult | None:
            return ActionResult(NOW)  # found, even what was never sent

    problems = "\n".join(kit(Overdoes))
    for part in (
        "act assign: answered, though capabilities.assign is False",
        "act close: failed: NotSupported: closing is for another day",
        "act reply: done_at 2025-03-11 12:00:00 UTC is 2h00m in the future",
        "act reply again, same key: answered differently",
        "lookup (a key never sent): found an action that was never sent",
    ):
        assert part in problems
    assert "recheck" not in problems  # not declared, and refused as it should be


def test_a_broken_declaration_stops_the_kit_before_connecting() -> None:
    connected: list[bool] = []

    class Broken(Plugin):
        options = ("token",)  # type: ignore[assignment]
        default_expectation = "1h"  # type: ignore[assignment]

        @classmethod
        async def connect(cls, context: ChannelContext) -> Session:
            connected.append(True)
            return cls(context)

    assert kit(Broken) == [
        "declaration: default_expectation must be a timedelta (timedelta(hours=1)), got the "
        "str '1h'",
        "declaration: options[0] must be a sportello_sdk.Option, got the str 'token' (write "
        "Option('token'))",
    ]
    assert connected == []


def test_options_that_do_not_fit_are_reported() -> None:
    class Needs(Plugin):
        options = (Option("url", required=True), Option("every", default=5))

    assert kit(Needs) == [
        "declaration: option 'every': its default does not fit it (expected text, got a number)",
        "options: the options given do not fit: option url: required by the plugin adapter",
    ]


async def test_the_kit_runs_from_an_async_test_too() -> None:
    report = await check_adapter(Plugin, {}, clock=FixedClock(NOW))
    assert report.ok, str(report)
