"""The adapter contract, checked on every adapter registered in ``sportello.adapters``.

A new adapter joins these tests by being registered; it must also get sample
options below (the smallest options that let it build and fetch in a test), or
the suite fails and says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sportello_sdk import (
    Adapter,
    Capabilities,
    ChannelKind,
    ChannelState,
    Conversation,
    NotSupported,
    Option,
    OptionType,
    registry,
)
from sportello_sdk.models import ActionKind, ActionRequest, ActionResult

# The smallest valid options of each registered adapter.
SAMPLE_OPTIONS: dict[str, dict[str, Any]] = {
    "demo": {"profile": "email"},
}

# A weekday morning in the shop's time zone: the busiest time for most channels.
NOW = datetime(2025, 3, 11, 11, 0, tzinfo=ZoneInfo("Europe/Rome")).astimezone(UTC)

NAMES = [registered.name for registered in registry.available()]


def test_the_built_in_demo_adapter_is_registered() -> None:
    assert "demo" in NAMES


@pytest.fixture(params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    value = request.param
    assert isinstance(value, str)
    return value


@pytest.fixture
def cls(name: str) -> type[Adapter]:
    return registry.load(name)


def build(name: str, cls: type[Adapter]) -> Adapter:
    assert name in SAMPLE_OPTIONS, (
        f"adapter {name!r} is registered but tests/test_adapter_contract.py has no "
        "SAMPLE_OPTIONS for it: add the smallest options that let it build and fetch"
    )
    return cls(f"contract-{name}", SAMPLE_OPTIONS[name], lambda: NOW)


def is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


def test_every_adapter_has_sample_options(name: str) -> None:
    assert name in SAMPLE_OPTIONS, f"add SAMPLE_OPTIONS[{name!r}] to the contract tests"


def test_loads_under_its_entry_point_name(name: str, cls: type[Adapter]) -> None:
    assert isinstance(cls.name, str)
    assert cls.name
    assert cls.name == name
    assert isinstance(cls.description, str)
    assert isinstance(cls.kind, ChannelKind)
    assert isinstance(cls.default_expectation, timedelta)
    assert cls.default_expectation > timedelta(0)
    assert isinstance(cls.capabilities, Capabilities)


def sample_value(option: Option) -> object:
    """The default as config.yaml would spell it."""
    default = option.default
    if option.type is OptionType.DURATION and isinstance(default, timedelta):
        return default.total_seconds()
    if option.type is OptionType.STR_LIST and isinstance(default, tuple):
        return list(default)
    return default


def test_declares_valid_options(cls: type[Adapter]) -> None:
    assert isinstance(cls.options, tuple)
    names = []
    for option in cls.options:
        assert isinstance(option, Option), f"{option!r} is not an sportello_sdk.options.Option"
        assert option.name and option.name.isidentifier()
        names.append(option.name)
        if option.choices is not None:
            assert option.choices, f"option {option.name}: empty choices"
        if option.required:
            assert option.default is None, f"option {option.name}: required with a default"
        if option.secret:
            assert option.default is None, f"option {option.name}: a secret with a default"
        if option.default is not None:
            coerced = option.coerce(sample_value(option))  # raises OptionError if invalid
            assert coerced == option.default, f"option {option.name}: default changes"
    assert len(names) == len(set(names)), f"duplicate option names: {names}"


def test_sample_options_are_declared_and_valid(name: str, cls: type[Adapter]) -> None:
    options = {option.name: option for option in cls.options}
    sample = SAMPLE_OPTIONS.get(name, {})
    for key, value in sample.items():
        assert key in options, f"sample option {key!r} is not declared by {name}"
        options[key].coerce(value)
    for option in cls.options:
        if option.required:
            assert option.name in sample, f"sample options lack required {option.name!r}"


def test_describe_is_plain_json(name: str, cls: type[Adapter]) -> None:
    described = cls.describe()
    assert json.loads(json.dumps(described)) == described
    assert described["name"] == name
    assert [o["name"] for o in described["options"]] == [o.name for o in cls.options]


def check_state(state: ChannelState) -> None:
    assert isinstance(state, ChannelState)
    assert isinstance(state.conversations, tuple)
    ids = []
    for conversation in state.conversations:
        assert isinstance(conversation, Conversation)
        ids.append(conversation.external_id)
        assert isinstance(conversation.external_id, str) and conversation.external_id
        assert isinstance(conversation.subject, str)
        assert is_utc(conversation.first_customer_message_at)
        for instant in (conversation.waiting_since, conversation.first_response_at):
            assert instant is None or is_utc(instant)
        if conversation.waiting_since is not None:
            assert conversation.waiting_since <= NOW
            assert conversation.first_customer_message_at <= conversation.waiting_since
        for message in conversation.messages:
            assert is_utc(message.sent_at)
            assert isinstance(message.text, str)
    assert len(ids) == len(set(ids)), "external ids repeat within one fetch"
    if state.on_hold is not None:
        assert state.on_hold >= 0
    if state.longest_hold is not None:
        assert state.longest_hold >= timedelta(0)


async def test_fetch_returns_plain_data(name: str, cls: type[Adapter]) -> None:
    adapter = build(name, cls)
    try:
        check_state(await adapter.fetch())
        check_state(await adapter.fetch())  # and again
    finally:
        await adapter.aclose()


async def test_aclose_can_be_awaited_twice(name: str, cls: type[Adapter]) -> None:
    adapter = build(name, cls)
    await adapter.fetch()
    await adapter.aclose()
    await adapter.aclose()
    unused = build(name, cls)  # and without ever fetching
    await unused.aclose()
    await unused.aclose()


async def first_waiting(name: str, adapter: Adapter) -> Conversation:
    state = await adapter.fetch()
    queue = [c for c in state.conversations if c.waiting]
    assert queue, f"the sample options of {name!r} must give a waiting conversation at {NOW}"
    return queue[0]


def replies_in(conversation: Conversation | None, text: str) -> int:
    if conversation is None:
        return 0
    return sum(message.text == text for message in conversation.messages)


async def test_send_is_idempotent_when_replies_are_claimed(name: str, cls: type[Adapter]) -> None:
    adapter = build(name, cls)
    try:
        target = await first_waiting(name, adapter)
        reply = ActionRequest(
            ActionKind.REPLY, target.external_id, f"contract-{name}-1", text="Contract test reply"
        )
        if not cls.capabilities.reply:
            with pytest.raises(NotSupported):
                await adapter.act(reply)
            return
        first = await adapter.act(reply)
        assert isinstance(first, ActionResult)
        assert is_utc(first.done_at)
        if not cls.capabilities.keys:
            return  # the outbox never calls it twice on its own
        again = await adapter.act(reply)
        assert again == first, "the same idempotency key must not send a second reply"
        after = await adapter.fetch()
        found: Mapping[str, Conversation] = {c.external_id: c for c in after.conversations}
        assert replies_in(found.get(target.external_id), reply.text or "") <= 1
    finally:
        await adapter.aclose()


async def test_declared_actions_work_and_others_are_refused(name: str, cls: type[Adapter]) -> None:
    adapter = build(name, cls)
    caps = cls.capabilities
    try:
        target = await first_waiting(name, adapter)
        external_id = target.external_id
        requests = [
            ActionRequest(ActionKind.ASSIGN, external_id, "c-assign", assignee="contract"),
            ActionRequest(
                ActionKind.SNOOZE, external_id, "c-snooze", until=NOW + timedelta(hours=1)
            ),
            ActionRequest(ActionKind.CLOSE, external_id, "c-close"),
        ]
        for request in requests:
            if caps.can(request.kind):
                assert isinstance(await adapter.act(request), ActionResult)
            else:
                with pytest.raises(NotSupported):
                    await adapter.act(request)
    finally:
        await adapter.aclose()


def test_the_direct_entry_point_read_agrees_with_importlib_metadata() -> None:
    from sportello_sdk import registry

    direct = registry._scan(registry.GROUP)
    assert direct, "the direct read found no adapter: the fallback would always run"
    assert direct == registry._from_metadata(registry.GROUP)


def test_entry_points_txt_is_read_like_importlib_reads_it() -> None:
    from sportello_sdk.registry import _read_group

    text = (
        "[console_scripts]\nsportello = sportello.cli:main\n\n"
        "; a comment\n[sportello.adapters]\n  demo = sportello_demo.adapter:DemoAdapter\n"
        "# another\nmine=pkg.mod:Cls.inner\n[other]\nx = y:z\n"
    )
    assert _read_group(text, "sportello.adapters") == [
        ("demo", "sportello_demo.adapter:DemoAdapter"),
        ("mine", "pkg.mod:Cls.inner"),
    ]
    assert _read_group(text, "missing") == []
