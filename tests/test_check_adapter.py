"""``sportello check-adapter NAME --config FILE``: one fetch of one configured channel,
through the collector's isolation and every check of the contract kit."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from sportello.cli import main
from sportello.core.adapter_check import check_adapter
from sportello_sdk import (
    Adapter,
    ChannelState,
    ConnectionFailed,
    Conversation,
    Customer,
    Option,
    registry,
)
from sportello_sdk.base import ChannelContext, Session
from sportello_sdk.secret import Secret

TOKEN = "tok-9f8e7d6c5b4a"


class Desk(Adapter, Session):
    """A helpdesk plug-in whose fetch misbehaves as its class says."""

    name: ClassVar[str] = "desk"
    options: ClassVar[tuple[Option, ...]] = (Option("token", secret=True, required=True),)

    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        token = context.options["token"]
        assert isinstance(token, Secret)
        self.token = token.reveal()

    @classmethod
    async def connect(cls, context: ChannelContext) -> Session:
        return cls(context)

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        now = self.context.now()
        good = Conversation("T-1", Customer(name="Ana"), "Order", now - timedelta(hours=1), now)
        return ChannelState((good,))


class Leaky(Desk):
    name = "leaky"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        raise ConnectionFailed(f"refused https://desk.example/api?token={self.token}")


class Wrong(Desk):
    name = "wrong"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        now = self.context.now()
        future = Conversation("T-9", Customer(), "Later", now, datetime(9999, 1, 1, tzinfo=UTC))
        fine = Conversation("T-2", Customer(), self.token, now - timedelta(hours=1), now)
        return ChannelState((future, fine), complete=False)


class Blocks(Desk):
    name = "blocks"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        time.sleep(1.3)  # noqa: ASYNC251 (the bug under test)
        return await super().fetch(memory)


class Hangs(Desk):
    name = "hangs"

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        await asyncio.sleep(3600)
        return ChannelState()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for cls in (Desk, Leaky, Wrong, Blocks, Hangs):
        monkeypatch.setitem(registry._cache, cls.name, cls)
    monkeypatch.setenv("SPORTELLO_TEST_DESK_TOKEN", TOKEN)
    channels = "".join(
        f"""
          - id: {cid}
            adapter: {adapter}
            timeout: {timeout}
            options:
              token: ${{env:SPORTELLO_TEST_DESK_TOKEN}}"""
        for cid, adapter, timeout in (
            ("desk", "desk", "1s"),
            ("leaky-desk", "leaky", "1s"),
            ("wrong-desk", "wrong", "1s"),
            ("slow-desk", "blocks", "5s"),
            ("stuck-desk", "hangs", "1s"),
        )
    )
    path = tmp_path / "config.yaml"
    text = textwrap.dedent(f"""\
        business:
          name: Shop
          hours: {{mon: [09:00-17:00]}}
        store:
          path: {tmp_path / "store.db"}
        channels:
          - id: email
            adapter: demo
            options:
              profile: email
          - id: chat
            adapter: demo
            options:
              profile: chat""")
    path.write_text(text + textwrap.indent(textwrap.dedent(channels), "  ") + "\n")
    return path


def run(config: Path, name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check-adapter", name, "--config", str(config)])
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err
    return code, captured.out, captured.err


def test_a_channel_that_keeps_the_contract(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(config, "desk", capsys)
    assert code == 0
    assert out.splitlines() == [
        "channel 'desk' · adapter desk",
        out.splitlines()[1],
        "✓ nothing wrong",
    ]
    assert out.splitlines()[1].endswith(": 1 conversation (1 waiting), the whole queue")


def test_the_demo_channel_by_its_id_and_the_global_config_option(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "check-adapter", "email"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "channel 'email' · adapter demo (sportello_demo:DemoAdapter from sportello)"
    )
    assert "✓ nothing wrong" in out


def test_what_is_wrong_is_said_in_plain_words(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(config, "wrong", capsys)  # the adapter's name: one channel uses it
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "channel 'wrong-desk' · adapter wrong"
    assert lines[1].endswith(
        ": 2 conversations (2 waiting), part of the queue (complete: false); 1 would be stored"
    )
    assert lines[2] == "what is wrong:"
    assert lines[3].startswith(
        "  ✗ fetch: conversation 'T-9': waiting since 9999-01-01, in the future (clock skew or a "
        "time-zone bug?) — the collector would drop it"
    )
    assert lines[-1] == "1 problem"


def test_a_failed_fetch_never_shows_the_secret(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(config, "leaky-desk", capsys)
    assert code == 1
    assert "  ✗ fetch: failed (ConnectionFailed): refused https://desk.example/api?token=" in out


def test_a_blocking_and_a_hanging_adapter_are_named(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(config, "slow-desk", capsys)
    assert code == 1
    assert "  ✗ fetch: blocked for 1 s: adapters must not block" in out
    started = time.monotonic()
    code, out, _ = run(config, "stuck-desk", capsys)
    assert code == 1
    assert "  ✗ fetch: failed (the adapter misbehaved): no answer within 1 s" in out
    assert time.monotonic() - started < 10


def test_names_that_are_not_one_channel_are_config_errors(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(config, "demo", capsys)
    assert (code, out) == (2, "")
    assert "adapter 'demo' is used by 2 channels (email, chat): name one of them" in err
    code, out, err = run(config, "nope", capsys)
    assert code == 2
    assert "has no enabled channel or adapter 'nope' (its channels: email, chat, desk," in err


def test_a_config_error_or_an_unresolved_secret_is_exit_2(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPORTELLO_TEST_DESK_TOKEN")
    code, _, err = run(config, "desk", capsys)
    assert code == 2
    assert "the environment variable SPORTELLO_TEST_DESK_TOKEN is not set" in err
    broken = config.with_name("broken.yaml")
    broken.write_text("business: [\n")
    code, _, err = run(broken, "desk", capsys)
    assert code == 2
    assert "broken.yaml" in err
    assert check_adapter(config.with_name("missing.yaml"), "desk").code == 2
