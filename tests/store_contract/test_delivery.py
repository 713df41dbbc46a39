"""What a delivered action does to its conversation, and "answered here stays answered".

``deliver`` marks a sending action sent and applies it in one step: a reply is
recorded as the business's message (keyed by the channel's message id, so the next
fetch carrying it adds nothing), the conversation leaves the queue, and its first
response is set if it had none. A fetch that still reports the wait handled here
does not bring it back; a wait that started later (the customer wrote again), or a
snooze that ran out, does.
"""

from __future__ import annotations

import math

import pytest

from sportello.core import outbox
from sportello.core.outbox import Kind
from sportello.core.store_contract import Delivery, StoreBackend
from sportello_sdk.models import Author, ChannelState
from tests.helpers_store import T0, conversation, message, state
from tests.store_contract.builders import claimed, delivered, make, waiting_one

CUSTOMER = message("Dov'è il mio ordine?", 10, external_id="m1")


async def test_a_delivered_reply_is_the_business_message_and_answers_the_conversation(
    backend: StoreBackend,
) -> None:
    item = await waiting_one(backend, messages=[CUSTOMER])
    reply = make(item, payload={"text": "Spedito ieri"})
    sent = await delivered(backend, reply, at=130, message_id="<r1@shop>", author_name="Anna")

    assert await backend.action(reply.key) == sent
    assert await backend.waiting() == []
    assert await backend.conversation(item.conversation_id) is None
    listed = await backend.messages(item.conversation_id)
    assert [(m.author, m.author_name, m.sent_at, m.text) for m in listed] == [
        ("customer", None, T0 + 10, "Dov'è il mio ordine?"),
        ("business", "Anna", T0 + 130, "Spedito ieri"),
    ]
    state_now = await backend.conversation_state(item.conversation_id)
    assert state_now is not None
    assert (state_now.last_business_at, state_now.handled_at) == (T0 + 130, T0 + 130)
    (response,) = await backend.first_responses(since=T0)
    assert (response.channel_id, response.first_response_at) == ("email", T0 + 130)

    # The channel catches up: the same message, by its id, is not a second one.
    echoed = message(
        "Spedito ieri", 129, author=Author.BUSINESS, external_id="<r1@shop>", author_name="Anna"
    )
    caught_up = conversation("c1", waiting=None, first_response=129, messages=[CUSTOMER, echoed])
    await backend.apply_fetch("email", state(caught_up), T0 + 200)
    assert [m.text for m in await backend.messages(item.conversation_id)] == [
        "Dov'è il mio ordine?",
        "Spedito ieri",
    ]


async def test_a_reply_keyed_by_a_very_long_message_id_is_not_duplicated_by_the_next_fetch(
    backend: StoreBackend,
) -> None:
    long_id = "<" + "r" * 300 + "@shop.example>"  # some mail servers make ids this long
    item = await waiting_one(backend, messages=[CUSTOMER])
    await delivered(backend, make(item), at=130, message_id=long_id)
    echoed = message("Il pacco è partito ieri.", 130, author=Author.BUSINESS, external_id=long_id)
    await backend.apply_fetch(
        "email", state(conversation("c1", waiting=None, messages=[CUSTOMER, echoed])), T0 + 200
    )
    assert [m.author for m in await backend.messages(item.conversation_id)] == [
        "customer",
        "business",
    ]


async def test_a_delivered_reply_keeps_a_known_first_response(backend: StoreBackend) -> None:
    item = await waiting_one(backend, first_response=5)
    await delivered(backend, make(item), at=130)
    (response,) = await backend.first_responses(since=T0)
    assert response.first_response_at == T0 + 5


async def test_deliver_writes_nothing_unless_the_action_is_still_sending(
    backend: StoreBackend,
) -> None:
    item = await waiting_one(backend, messages=[CUSTOMER])
    action = make(item)
    await backend.enqueue(action)
    sending = outbox.claim(action, action.due_at, "collector@shop:1")  # never saved
    sent = outbox.delivered(sending, T0 + 130, "<r1@shop>")
    before = await backend.revisions()
    assert not await backend.deliver(sent, Delivery(at=T0 + 130, message_id="<r1@shop>"))
    assert await backend.action(action.key) == action  # still pending
    assert [q.conversation_id for q in await backend.waiting()] == [item.conversation_id]
    assert len(await backend.messages(item.conversation_id)) == 1  # no reply recorded
    assert await backend.first_responses(since=T0) == []
    assert await backend.revisions() == before
    # Delivered twice (a second collector racing the first): applied once.
    saved = await claimed(backend, action)
    done = outbox.delivered(saved, T0 + 130, None)
    assert await backend.deliver(done, Delivery(at=T0 + 130))
    assert not await backend.deliver(done, Delivery(at=T0 + 131))
    assert len(await backend.messages(item.conversation_id)) == 2


async def test_close_snooze_assign_and_reopen_do_what_they_say(backend: StoreBackend) -> None:
    closed = await waiting_one(backend, "closed")
    snoozed = await waiting_one(backend, "snoozed")
    assigned = await waiting_one(backend, "assigned")
    await delivered(backend, make(closed, Kind.CLOSE), at=130)
    until = T0 + 7200
    await delivered(backend, make(snoozed, Kind.SNOOZE, payload={"until": str(until)}), at=131)
    await delivered(backend, make(assigned, Kind.ASSIGN, payload={"assignee": "Luca"}), at=132)

    assert [q.external_id for q in await backend.waiting()] == ["assigned"]
    c = await backend.conversation_state(closed.conversation_id)
    s = await backend.conversation_state(snoozed.conversation_id)
    a = await backend.conversation_state(assigned.conversation_id)
    assert c is not None and s is not None and a is not None
    assert (c.closed, c.handled_at, c.snoozed_until) == (True, T0 + 130, None)
    assert (s.closed, s.handled_at, s.snoozed_until) == (False, T0 + 131, until)
    assert (a.assignee, a.handled_at, a.closed) == ("Luca", None, False)
    assert await backend.first_responses(since=T0) == []  # none of them is an answer

    await delivered(backend, make(closed, Kind.REOPEN, at=200), at=220)
    again = await backend.conversation_state(closed.conversation_id)
    assert again is not None
    assert (again.closed, again.handled_at, again.snoozed_until) == (False, None, None)
    assert {q.external_id for q in await backend.waiting()} == {"assigned", "closed"}


async def _handled_then_fetched(backend: StoreBackend, kind: Kind, **payload: str) -> int:
    """c1 waits since T0 + 10; ``kind`` is delivered at T0 + 130; returns its id."""
    item = await waiting_one(backend, messages=[CUSTOMER])
    await delivered(backend, make(item, kind, payload=payload or None), at=130)
    assert await backend.waiting() == []
    return item.conversation_id


def _old_wait(at: float = 10) -> ChannelState:
    return state(conversation("c1", waiting=at, messages=[CUSTOMER]))


@pytest.mark.parametrize("kind", [Kind.REPLY, Kind.CLOSE], ids=str)
async def test_answered_here_stays_answered_until_the_customer_writes_again(
    backend: StoreBackend, kind: Kind
) -> None:
    conversation_id = await _handled_then_fetched(backend, kind)
    # The channel has not caught up: it still reports the wait answered here.
    assert await backend.apply_fetch("email", _old_wait(), T0 + 200) == 0
    assert await backend.waiting() == []
    assert await backend.apply_fetch("email", _old_wait(), T0 + 86_400) == 0  # nor a day later
    # The customer writes again: a wait that started after the answer.
    again = message("Ancora niente", 300, external_id="m2")
    later = state(conversation("c1", waiting=300, messages=[CUSTOMER, again]))
    assert await backend.apply_fetch("email", later, T0 + 310) == 1
    (item,) = await backend.waiting()
    assert (item.conversation_id, item.waiting_since) == (conversation_id, T0 + 300)


async def test_a_snooze_keeps_the_conversation_out_until_it_ends(backend: StoreBackend) -> None:
    until = T0 + 1000
    await _handled_then_fetched(backend, Kind.SNOOZE, until=str(until))
    assert await backend.apply_fetch("email", _old_wait(), T0 + 500) == 0
    assert await backend.waiting() == []
    assert await backend.apply_fetch("email", _old_wait(), until + 1) == 1  # the snooze ran out
    (item,) = await backend.waiting()
    assert item.waiting_since == T0 + 10
    assert await backend.apply_fetch("email", _old_wait(), until + 31) == 1  # and stays back


async def test_a_snooze_until_the_customer_writes_lasts_until_they_do(
    backend: StoreBackend,
) -> None:
    await _handled_then_fetched(backend, Kind.SNOOZE, until="reply")
    state_now = (await backend.actions())[0].snooze_until()
    assert state_now is not None and math.isinf(state_now)
    assert await backend.apply_fetch("email", _old_wait(), T0 + 30 * 86_400) == 0
    assert await backend.apply_fetch("email", _old_wait(400), T0 + 30 * 86_400 + 1) == 1
