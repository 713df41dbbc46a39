"""Poll outcomes and channel health; retention (prune)."""

from __future__ import annotations

from sportello.core.records import Health, PollOutcome
from sportello.core.store_contract import StoreBackend
from tests.helpers_store import T0, conversation, message, state

DAY = 86_400.0
HISTORY_S = 365 * DAY  # the default history kept: a year before a channel's newest snapshot


async def test_record_poll_sets_health_and_failing_since(backend: StoreBackend) -> None:
    await backend.record_poll(PollOutcome("email", T0, T0 + 1, True, None, 4), Health.OK)
    await backend.record_poll(
        PollOutcome("email", T0 + 30, T0 + 31, False, "timed out", 0), Health.DEGRADED
    )
    await backend.record_poll(
        PollOutcome("email", T0 + 60, T0 + 61, False, "E" * 10_000, 0), Health.DOWN
    )
    record = (await backend.channels())[0]
    assert (record.health, record.failing_since, record.last_ok_at, record.last_poll_at) == (
        Health.DOWN,
        T0 + 30,
        T0 + 1,
        T0 + 61,
    )
    assert record.last_error is not None and len(record.last_error) == 2_000
    await backend.record_poll(PollOutcome("email", T0 + 90, T0 + 91, True, None, 2), Health.OK)
    record = (await backend.channels())[0]
    assert (record.health, record.failing_since, record.last_error, record.last_ok_at) == (
        Health.OK,
        None,
        None,
        T0 + 91,
    )
    assert (await backend.channels())[1].health is Health.UNKNOWN  # chat: never polled


async def test_prune_deletes_old_answered_conversations_and_old_history(
    backend: StoreBackend,
) -> None:
    old = conversation("old", waiting=1, messages=[message("vecchio", 1)])
    old_waiting = conversation("old-waiting", waiting=2)
    await backend.apply_fetch("email", state(old, old_waiting), T0)
    old_id = {q.external_id: q.conversation_id for q in await backend.waiting()}["old"]
    answered = conversation("old", waiting=None, messages=[message("vecchio", 1)])
    await backend.apply_fetch("email", state(answered, old_waiting), T0 + 3)
    await backend.apply_fetch("chat", state(), T0)  # chat's only, so its newest, snapshot
    recent = conversation("new", first=100 * DAY, waiting=None, first_response=100 * DAY)
    await backend.apply_fetch("email", state(recent, old_waiting), T0 + 100 * DAY)
    await backend.apply_fetch("email", state(recent, old_waiting), T0 + HISTORY_S + 50 * DAY)
    assert await backend.conversation_state(old_id) is not None

    await backend.prune(T0 + 10 * DAY)

    assert [q.external_id for q in await backend.waiting()] == ["old-waiting"]
    assert len(await backend.first_responses(since=0)) == 1  # "new" stays
    assert await backend.conversation_state(old_id) is None  # gone, with its messages
    assert await backend.messages(old_id) == []
    taken = [s.taken_at - T0 for s in await backend.snapshots("email", since=0)]
    assert taken == [100 * DAY, HISTORY_S + 50 * DAY]  # older than a year before the newest
    assert len(await backend.snapshots("chat", since=0)) == 1
    await backend.prune(T0, history_before=T0 + 200 * DAY)
    assert [s.taken_at - T0 for s in await backend.snapshots("email", since=0)] == [
        HISTORY_S + 50 * DAY
    ]
    assert await backend.snapshots("chat", since=0) == []
