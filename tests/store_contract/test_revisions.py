"""Revisions: every write moves the counters of what it touched, and only those.

``channels[id]`` moves with anything about a channel (a fetch, a poll, an action),
``queues[id]`` only when that channel's waiting conversations or their actions
changed, ``outbox`` with any action, ``collector`` with the collector's record and
requests. Another process (a second store on the same file) sees them move.
"""

from __future__ import annotations

from sportello.core.polling_status import CollectorInfo
from sportello.core.records import Health, PollOutcome
from sportello.core.store_contract import Revisions, StoreBackend
from tests.helpers_store import T0, conversation, state
from tests.store_contract.builders import Opener, claimed, make, waiting_one


def moved(before: Revisions, after: Revisions) -> set[str]:
    """The names of the counters that moved between two reads."""
    names: set[str] = set()
    for kind, old, new in (
        ("c", before.channels, after.channels),
        ("q", before.queues, after.queues),
    ):
        for name in set(old) | set(new):
            if new.get(name, 0) != old.get(name, 0):
                assert new.get(name, 0) > old.get(name, 0), (kind, name, "went back")
                names.add(f"{kind}:{name}")
    for name in ("outbox", "collector"):
        old_n, new_n = getattr(before, name), getattr(after, name)
        if new_n != old_n:
            assert new_n > old_n, (name, "went back")
            names.add(name)
    return names


async def test_revisions_move_per_channel_with_fetches_and_polls(backend: StoreBackend) -> None:
    r0 = await backend.revisions()
    assert await backend.revisions() == r0  # nothing happened

    await backend.apply_fetch("email", state(conversation("c1", waiting=5)), T0)
    r1 = await backend.revisions()
    assert moved(r0, r1) == {"c:email", "q:email"}

    await backend.record_poll(PollOutcome("chat", T0, T0 + 1, True, None, 0), Health.OK)
    r2 = await backend.revisions()
    assert moved(r1, r2) == {"c:chat"}  # a poll alone: no queue changed

    await backend.apply_fetch("email", state(conversation("c1", waiting=5)), T0 + 30)
    r3 = await backend.revisions()
    assert moved(r2, r3) == {"c:email"}  # the same queue again: the queue did not change

    await backend.apply_fetch(
        "email", state(conversation("c1", waiting=5, subject="Reso")), T0 + 60
    )
    r4 = await backend.revisions()
    assert moved(r3, r4) == {"c:email", "q:email"}  # a waiting conversation changed

    await backend.apply_fetch("email", state(), T0 + 90)  # complete: c1 left the queue
    r5 = await backend.revisions()
    assert moved(r4, r5) == {"c:email", "q:email"}

    await backend.apply_fetch("chat", state(conversation("k1")), T0 + 90)
    r6 = await backend.revisions()
    assert moved(r5, r6) == {"c:chat", "q:chat"}


async def test_an_action_moves_its_channel_its_queue_and_the_outbox(backend: StoreBackend) -> None:
    item = await waiting_one(backend, channel_id="chat")
    r0 = await backend.revisions()
    action = make(item)
    await backend.enqueue(action)
    r1 = await backend.revisions()
    assert moved(r0, r1) == {"c:chat", "q:chat", "outbox"}
    await claimed(backend, action)
    r2 = await backend.revisions()
    assert moved(r1, r2) == {"c:chat", "q:chat", "outbox"}
    assert not await backend.transition(action, action.state)  # refused: nothing written
    assert await backend.revisions() == r2


async def test_the_collector_record_and_requests_move_the_collector_revision(
    backend: StoreBackend,
) -> None:
    r0 = await backend.revisions()
    await backend.set_collector(CollectorInfo("anna", "shop", 4242, T0, False))
    r1 = await backend.revisions()
    assert moved(r0, r1) == {"collector"}
    await backend.request("poll", T0 + 1, "luca@shop")
    r2 = await backend.revisions()
    assert moved(r1, r2) == {"collector"}


async def test_another_process_sees_the_revisions_move(
    backend: StoreBackend, open_store: Opener
) -> None:
    other = await open_store()  # a second store on the same data: another process
    seen = await other.revisions()
    await backend.apply_fetch("email", state(conversation("c1")), T0)
    after_fetch = await other.revisions()
    assert moved(seen, after_fetch) == {"c:email", "q:email"}
    await other.record_poll(PollOutcome("email", T0, T0 + 1, True, None, 1), Health.OK)
    here = await backend.revisions()
    assert moved(after_fetch, here) == {"c:email"}
    (item,) = await backend.waiting()
    await other.enqueue(make(item))
    assert moved(here, await backend.revisions()) == {"c:email", "q:email", "outbox"}
