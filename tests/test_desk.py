"""The desk: what may be done and why not, and what each action commits."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sportello.core.desk import Desk, DeskError
from sportello.core.outbox import Kind, State
from sportello.core.records import QueueItem
from sportello.core.settings import Channel, Config
from sportello.core.store import Store
from sportello_sdk.models import Capabilities
from tests.dashboard_fixtures import demo_config

ROME = ZoneInfo("Europe/Rome")
# Tuesday 24 November 2026, 23:30 in Rome: every demo channel is closed.
NIGHT = datetime(2026, 11, 24, 23, 30, tzinfo=ROME).timestamp()
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=ROME).timestamp()


ALL = Capabilities(reply=True, close=True, assign=True, snooze=True)


def item(channel: str = "email", cid: int = 1, waiting_since: float = NOON - 600) -> QueueItem:
    return QueueItem.of(
        cid, channel, f"ext-{cid}", "Maria Rossi", None, None, "Ordine", waiting_since
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(tmp_path / "store.db") as opened:
        yield opened


def desk_for(
    config: Config,
    store: Store | None,
    now: float = NOON,
    *,
    who: str = "anna@shop",
    caps: Capabilities | None = ALL,
) -> Desk:
    def capabilities(channel: Channel) -> Capabilities | None:
        return caps

    return Desk(config, lambda: store, clock=lambda: now, who=who, capabilities=capabilities)


async def test_refusals_say_why(tmp_path: Path, store: Store) -> None:
    config = demo_config(tmp_path / "store.db")
    assert desk_for(config, store).refusal(Kind.CLOSE, "email") is None
    read_only = desk_for(replace(config, read_only=True), store)
    assert "read-only" in (read_only.refusal(Kind.CLOSE, "email") or "")
    assert "no longer in config.yaml" in (desk_for(config, store).refusal(Kind.CLOSE, "x") or "")
    cannot = desk_for(config, store, caps=Capabilities(reply=True))
    reason = cannot.refusal(Kind.CLOSE, "email") or ""
    assert "Email cannot close" in reason
    assert cannot.refusal(Kind.REPLY, "email") is None
    unloadable = desk_for(config, store, caps=None)
    assert "could not be loaded" in (unloadable.refusal(Kind.REPLY, "email") or "")
    no_team = desk_for(replace(config, team=()), store)
    assert "team" in (no_team.refusal(Kind.ASSIGN, "email") or "")
    with pytest.raises(DeskError, match="read-only"):
        await read_only.close(item())
    with pytest.raises(DeskError, match="no team"):
        await no_team.assign(item(), "Anna")
    made = await desk_for(config, store).close(item())
    with pytest.raises(DeskError, match="read-only"):
        await read_only.undo(made.conversation_id)
    with pytest.raises(DeskError, match="read-only"):
        await read_only.discard(made.key)
    with pytest.raises(DeskError, match="read-only"):
        await read_only.retry(made.key)
    assert [a.state for a in await store.actions()] == [State.PENDING]


async def test_no_store_is_said_not_raised_as_something_else(tmp_path: Path) -> None:
    desk = desk_for(demo_config(tmp_path / "store.db"), None)
    with pytest.raises(DeskError, match="not open"):
        await desk.close(item())


async def test_each_action_commits_one_pending_action_with_its_window(
    tmp_path: Path, store: Store
) -> None:
    config = demo_config(tmp_path / "store.db")
    await store.sync_channels(config.channels, {"email": "email", "chat": "chat"})
    desk = desk_for(config, store)
    reply = await desk.reply(item(), "Grazie!")
    assert (reply.kind, reply.state, reply.text) == (Kind.REPLY, State.PENDING, "Grazie!")
    assert reply.due_at == NOON + 10  # e-mail: 10 s to take it back
    chat = await desk.close(item("chat", 2))
    assert chat.due_at == NOON + 5  # chat: shorter
    person = config.team[0]
    assigned = await desk.assign(item(cid=3), person.name.upper())  # any case
    assert assigned.payload["assignee"] == person.name
    with pytest.raises(DeskError, match="not in the team"):
        await desk.assign(item(cid=3), "Nobody")
    snoozed = await desk.snooze(item(cid=4), math.inf)
    assert snoozed.payload["until"] == "reply" and math.isinf(snoozed.snooze_until() or 0)
    with pytest.raises(DeskError, match="passed"):
        await desk.snooze(item(cid=4), NOON - 1)
    with pytest.raises(DeskError, match="empty"):
        await desk.reply(item(), "   ")
    stored = await store.actions()
    assert {a.key for a in stored} == {reply.key, chat.key, assigned.key, snoozed.key}
    assert all(a.made_by == "anna@shop" for a in stored)
    assert len({a.key for a in stored}) == 4  # a new idempotency key for each


async def test_undo_takes_back_the_held_action_and_a_reply_becomes_the_draft_again(
    tmp_path: Path, store: Store
) -> None:
    config = demo_config(tmp_path / "store.db")
    desk = desk_for(config, store)
    await desk.save_draft(1, "Buongiorno", NOON - 30)
    reply = await desk.reply(item(), "Buongiorno, arriva domani.")
    assert await desk.draft(1) is None  # sent: no longer being written
    undone = await desk.undo(1)
    assert undone.key == reply.key and undone.state is State.UNDONE
    draft = await desk.draft(1)
    assert draft is not None and draft.text == "Buongiorno, arriva domani."
    with pytest.raises(DeskError, match=r"nothing to undo|already undone"):
        await desk.undo(1)
    # Too late once the collector has claimed it.
    close = await desk.close(item(cid=2))
    from sportello.core import outbox

    claimed = outbox.claim(close, NOON + 20, "collector")
    assert await store.transition(claimed, State.PENDING)
    with pytest.raises(DeskError, match="too late"):
        await desk.undo(2)


async def test_collisions_name_who_and_when(tmp_path: Path, store: Store) -> None:
    config = demo_config(tmp_path / "store.db")
    anna = desk_for(config, store, who="anna@shop")
    marco = desk_for(config, store, who="marco@shop", now=NOON + 60)
    waiting = item()
    opened = NOON
    assert not (await anna.collision(waiting, opened)).asks_first
    await marco.save_draft(1, "Ciao", NOON + 30)
    seen = await anna.collision(waiting, opened)
    assert [d.author for d in seen.writing] == ["marco@shop"]
    assert not seen.asks_first  # writing is not answering
    await marco.reply(waiting, "Ecco")
    seen = await anna.collision(waiting, opened)
    assert seen.asks_first
    assert seen.answered_by == "marco@shop" and seen.answered_at == NOON + 60
    assert seen.writing == ()  # his draft went with his reply


def test_snooze_choices_follow_the_channel_hours(tmp_path: Path) -> None:
    config = demo_config(tmp_path / "store.db")
    labels = [c.label for c in desk_for(config, None, NIGHT).snooze_choices("email")]
    # At night the next opening is tomorrow morning: offered once, not twice.
    assert labels[0] == "1 hour"
    assert labels[-1] == "until the customer writes again"
    assert sum("09:00" in label for label in labels) == 1
    day = desk_for(config, None, NOON).snooze_choices("email")
    opening = [c for c in day if c.label.startswith("next opening")]
    assert opening and opening[0].until > NOON + 3600
    assert [c.label for c in day][-2].startswith("tomorrow morning")


def test_the_key_bar_asks_without_loading_adapters(tmp_path: Path) -> None:
    loads: list[str] = []

    def capabilities(channel: Channel) -> Capabilities | None:
        loads.append(channel.id)
        return Capabilities(reply=True)

    config = demo_config(tmp_path / "store.db")
    desk = Desk(config, lambda: None, clock=lambda: NOON, capabilities=capabilities)
    assert desk.refusal(Kind.CLOSE, "email", load=False) is None  # not known yet: not dimmed
    assert loads == []  # and nothing was imported for it
    desk.load_capabilities()
    assert sorted(loads) == sorted(c.id for c in config.channels)
    assert "cannot close" in (desk.refusal(Kind.CLOSE, "email", load=False) or "")
