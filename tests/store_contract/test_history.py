"""First responses, queue snapshots and trends: the history the numbers are made of."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sportello.core.store_contract import StoreBackend
from tests.helpers_store import T0, channel, conversation, state


async def test_first_response_is_never_cleared_and_first_message_keeps_the_earliest(
    backend: StoreBackend,
) -> None:
    await backend.apply_fetch(
        "email", state(conversation("c1", first=10, waiting=None, first_response=50)), T0
    )
    # a later fetch that lacks the first response, and sees a later first message
    await backend.apply_fetch(
        "email", state(conversation("c1", first=30, waiting=60, first_response=None)), T0
    )
    responses = await backend.first_responses(since=T0)
    assert [
        (r.channel_id, r.first_customer_message_at - T0, r.first_response_at - T0)
        for r in responses
    ] == [("email", 10.0, 50.0)]
    (item,) = await backend.waiting()  # waiting again, its first message kept (above)
    assert item.waiting_since == T0 + 60
    # an earlier first response than the known one wins (it cannot get later)
    await backend.apply_fetch(
        "email", state(conversation("c1", first=5, waiting=None, first_response=40)), T0
    )
    responses = await backend.first_responses(since=T0)
    assert [(r.first_customer_message_at - T0, r.first_response_at - T0) for r in responses] == [
        (5.0, 40.0)
    ]
    assert await backend.first_responses(since=T0 + 41) == []


async def test_first_responses_are_listed_oldest_answer_first(backend: StoreBackend) -> None:
    await backend.apply_fetch(
        "email",
        state(
            conversation("late", first=1, waiting=None, first_response=90),
            conversation("early", first=2, waiting=None, first_response=30),
            conversation("open", first=3, waiting=3),
        ),
        T0 + 100,
    )
    await backend.apply_fetch(
        "chat", state(conversation("k", first=4, waiting=None, first_response=60)), T0 + 100
    )
    responses = await backend.first_responses(since=T0)
    assert [(r.channel_id, r.first_response_at - T0) for r in responses] == [
        ("email", 30.0),
        ("chat", 60.0),
        ("email", 90.0),
    ]


async def test_phone_channels_store_hold_figures_and_snapshot_them(backend: StoreBackend) -> None:
    await backend.sync_channels([channel("phone"), channel("email")], {})
    missed = conversation("call-1", waiting=0, name=None, email=None, phone="+39 02 123")
    count = await backend.apply_fetch(
        "phone", state(missed, on_hold=3, longest_hold=timedelta(seconds=240)), T0 + 1000
    )
    assert count == 1
    record = (await backend.channels())[0]
    assert (record.id, record.on_hold, record.longest_hold_s) == ("phone", 3, 240.0)
    await backend.apply_fetch("phone", state(missed, on_hold=0), T0 + 1060)
    await backend.apply_fetch("email", state(conversation("e", waiting=7)), T0 + 1060)
    phone = await backend.snapshots("phone", since=T0)
    assert [(s.taken_at - T0, s.waiting, s.oldest_waiting_since) for s in phone] == [
        (1000.0, 3, T0 + 760),
        (1060.0, 0, None),
    ]
    email = await backend.snapshots("email", since=T0)
    assert [(s.channel_id, s.waiting, s.oldest_waiting_since) for s in email] == [
        ("email", 1, T0 + 7)
    ]
    assert await backend.snapshots("phone", since=T0 + 1001) == phone[1:]


async def test_trend_takes_the_deepest_queue_per_bucket(backend: StoreBackend) -> None:
    for minute, depth in [(0, 1), (1, 4), (2, 2), (10, 5)]:
        conversations = [conversation(f"c{i}") for i in range(depth)]
        await backend.apply_fetch("email", state(*conversations), T0 + 60 * minute)
    assert await backend.trend("email", T0, 300) == [(0, 4), (2, 5)]
    assert await backend.trend("email", T0 + 100, 300) == [(0, 2), (1, 5)]
    assert await backend.trend("chat", T0, 300) == []
    with pytest.raises(ValueError, match="positive"):
        await backend.trend("email", T0, 0)
