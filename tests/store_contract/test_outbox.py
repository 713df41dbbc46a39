"""The outbox's persistence: actions round-trip, the filters of ``actions``, the
compare-and-set of ``transition``, and what ``prune_outbox`` keeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from sportello.core import outbox
from sportello.core.outbox import ACTIVE, Action, Kind, State
from sportello.core.records import Draft
from sportello.core.store_contract import StoreBackend, StoreError
from tests.helpers_store import T0
from tests.store_contract.builders import Opener, claimed, delivered, make, waiting_one


async def test_an_action_round_trips_whole(backend: StoreBackend) -> None:
    item = await waiting_one(backend)
    action = make(item, payload={"text": "Spedito ieri 📦\n— Anna"})
    action = replace(action, extra={"waiting_since": str(item.waiting_since)})
    await backend.enqueue(action)
    assert await backend.action(action.key) == action
    assert await backend.action("sp-nobody") is None
    failed = outbox.failed(await claimed(backend, action), T0 + 200, "rate limited", retryable=True)
    assert await backend.transition(failed, State.SENDING)
    stored = await backend.action(action.key)
    assert stored == failed
    assert stored is not None and stored.next_try_at is not None and stored.attempts == 1


async def test_a_key_is_enqueued_once(backend: StoreBackend) -> None:
    item = await waiting_one(backend)
    action = make(item)
    await backend.enqueue(action)
    with pytest.raises(StoreError):
        await backend.enqueue(replace(action, payload={"text": "another"}))
    assert [a.text for a in await backend.actions()] == [action.text]


async def test_actions_filters_by_state_conversation_channel_and_time(
    backend: StoreBackend,
) -> None:
    e1 = await waiting_one(backend, "e1")
    e2 = await waiting_one(backend, "e2")
    k1 = await waiting_one(backend, "k1", channel_id="chat")
    a = make(e1, at=100)
    b = make(e2, Kind.CLOSE, at=110)
    c = make(k1, at=120)
    d = make(e1, Kind.ASSIGN, at=130)
    e = make(k1, Kind.SNOOZE, at=140)
    for action in (c, a, e, b, d):  # the order of enqueueing is not the order listed
        await backend.enqueue(action)
    await claimed(backend, b)  # sending, updated at its due time (T0 + 120)
    undone = outbox.undo(d, T0 + 135)
    assert await backend.transition(undone, State.PENDING)

    def keys(actions: list[Action]) -> list[str]:
        return [x.key for x in actions]

    assert keys(await backend.actions()) == keys([a, b, c, d, e])  # oldest first
    assert keys(await backend.actions(states=[State.PENDING])) == keys([a, c, e])
    assert keys(await backend.actions(states=[State.SENDING, State.UNDONE])) == keys([b, d])
    assert await backend.actions(states=[]) == []
    assert keys(await backend.actions(states=ACTIVE)) == keys([a, b, c, e])
    assert keys(await backend.actions(conversation_id=e1.conversation_id)) == keys([a, d])
    assert keys(await backend.actions(channel_id="chat")) == keys([c, e])
    assert keys(await backend.actions(since=T0 + 120)) == keys([b, c, d, e])  # updated at/after
    assert keys(await backend.actions(limit=2)) == keys([d, e])  # the newest two, oldest first
    assert keys(await backend.actions(limit=10)) == keys([a, b, c, d, e])
    assert await backend.actions(limit=0) == []
    assert keys(await backend.actions(channel_id="email", states=[State.PENDING])) == keys([a])
    assert keys(await backend.actions(channel_id="email", limit=2)) == keys([b, d])
    assert await backend.actions(conversation_id=10_000) == []


async def test_transition_is_compare_and_set(backend: StoreBackend) -> None:
    item = await waiting_one(backend)
    action = make(item)
    await backend.enqueue(action)
    sending = await claimed(backend, action)  # pending -> sending
    assert await backend.action(action.key) == sending
    # Another process still holds the pending action and undoes it: too late.
    undone = outbox.undo(action, T0 + 105)
    before = await backend.revisions()
    assert not await backend.transition(undone, State.PENDING)
    assert await backend.action(action.key) == sending  # nothing written
    assert await backend.revisions() == before
    # The same with the right expected state: written.
    sent = outbox.delivered(sending, T0 + 130)
    assert await backend.transition(sent, State.SENDING)
    assert await backend.action(action.key) == sent
    # An action that was never enqueued is not created by a transition.
    ghost = make(item, key="sp-ghost")
    assert not await backend.transition(outbox.undo(ghost, T0 + 101), State.PENDING)
    assert await backend.action("sp-ghost") is None


async def test_two_processes_claiming_one_action_one_wins(
    backend: StoreBackend, open_store: Opener
) -> None:
    other = await open_store()
    item = await waiting_one(backend)
    actions = [make(item, at=100 + i) for i in range(20)]
    for action in actions:
        await backend.enqueue(action)
    for action in actions:
        here = outbox.claim(action, action.due_at, "here@shop:1")
        there = outbox.claim(action, action.due_at, "there@shop:2")
        won = await asyncio.gather(
            backend.transition(here, State.PENDING), other.transition(there, State.PENDING)
        )
        assert sorted(won) == [False, True], action.key
        stored = await other.action(action.key)
        assert stored is not None and stored.state is State.SENDING
        assert stored.lease_owner == ("here@shop:1" if won[0] else "there@shop:2")
        assert stored.attempts == 1


async def test_prune_outbox_keeps_every_active_action(backend: StoreBackend) -> None:
    item = await waiting_one(backend)
    made: dict[str, Action] = {}

    async def enqueued(name: str, at: float, kind: Kind = Kind.ASSIGN) -> Action:
        action = make(item, kind, at=at)
        await backend.enqueue(action)
        made[name] = action
        return action

    await enqueued("pending", 1)
    await claimed(backend, await enqueued("sending", 2))
    steps: list[tuple[str, Callable[[Action, float], Action]]] = [
        ("failed", lambda a, t: outbox.failed(a, t, "down", retryable=True)),
        ("unknown", outbox.lost),
        ("elsewhere", lambda a, t: outbox.elsewhere(a, t, "Luca answered")),
    ]
    for name, step in steps:
        sending = await claimed(backend, await enqueued(name, 3))
        assert await backend.transition(step(sending, sending.updated_at), State.SENDING)
    undo_me = await enqueued("undone", 4)
    assert await backend.transition(outbox.undo(undo_me, T0 + 5), State.PENDING)
    failed = outbox.failed(
        await claimed(backend, await enqueued("discarded", 5)), T0 + 16, "no", retryable=False
    )
    assert await backend.transition(failed, State.SENDING)
    assert await backend.transition(outbox.discard(failed, T0 + 17), State.FAILED)
    made["sent"] = await delivered(backend, make(item, Kind.ASSIGN, at=6), at=17)
    made["sent later"] = await delivered(backend, make(item, Kind.ASSIGN, at=900), at=1000)
    await backend.save_draft(Draft(item.conversation_id, "anna@shop", "Buon", T0, T0 + 10))
    await backend.save_draft(Draft(item.conversation_id, "luca@shop", "Sal", T0, T0 + 600))
    states = {a.key: a.state for a in await backend.actions()}
    assert sorted(states.values()) == sorted([*ACTIVE, *outbox.FINISHED, State.SENT])

    await backend.prune_outbox(T0 + 500)

    kept = {a.key for a in await backend.actions()}
    assert kept == {
        made[name].key
        for name in ("pending", "sending", "failed", "unknown", "elsewhere", "sent later")
    }
    assert [d.author for d in await backend.drafts()] == ["luca@shop"]
