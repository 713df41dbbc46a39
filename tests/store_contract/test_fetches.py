"""Channels, fetches and the queue: what a fetch does to the stored conversations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sportello.core.ingest import FIELD_MAX, TEXT_MAX
from sportello.core.records import Health, PollOutcome
from sportello.core.store_contract import StoreBackend, StoreError
from sportello_sdk.models import Author
from tests.helpers_store import T0, channel, conversation, message, state
from tests.store_contract.builders import Opener


async def test_sync_channels_follows_the_config(open_store: Opener) -> None:
    store = await open_store()
    await store.sync_channels(
        [channel("email", adapter="imap"), channel("phone", adapter="asterisk")],
        {"email": "email", "asterisk": "phone"},
    )
    first = await store.channels()
    assert [(c.id, c.adapter, c.kind, c.health) for c in first] == [
        ("email", "imap", "email", Health.UNKNOWN),
        ("phone", "asterisk", "phone", Health.UNKNOWN),
    ]
    await store.apply_fetch("email", state(conversation("c1")), T0)
    await store.sync_channels(
        [channel("chat"), channel("email", label="Posta", adapter="imap")], {}
    )
    second = await store.channels()
    assert [(c.id, c.label, c.kind) for c in second] == [
        ("chat", "Chat", "other"),
        ("email", "Posta", "other"),
    ]
    # a channel that leaves the config keeps its history
    await store.sync_channels([channel("phone")], {})
    assert [c.id for c in await store.channels()] == ["phone"]
    await store.sync_channels([channel("email")], {})
    assert [item.external_id for item in await store.waiting("email")] == ["c1"]


async def test_unknown_channel_is_a_clear_error(backend: StoreBackend) -> None:
    with pytest.raises(StoreError, match="no channel 'ghost'"):
        await backend.apply_fetch("ghost", state(conversation("c1")), T0)
    with pytest.raises(StoreError, match="no channel 'ghost'"):
        await backend.record_poll(PollOutcome("ghost", T0, T0, True, None, 0), Health.OK)
    assert await backend.waiting() == []


async def test_apply_fetch_inserts_then_updates_by_channel_and_external_id(
    backend: StoreBackend,
) -> None:
    count = await backend.apply_fetch(
        "email",
        state(conversation("c1", waiting=5), conversation("c2", waiting=3, subject="B")),
        T0 + 100,
    )
    assert count == 2
    # the same external id on another channel is another conversation
    assert await backend.apply_fetch("chat", state(conversation("c1", waiting=1)), T0 + 100) == 1
    queue = await backend.waiting()
    assert [(q.channel_id, q.external_id, q.waiting_since - T0) for q in queue] == [
        ("chat", "c1", 1.0),
        ("email", "c2", 3.0),
        ("email", "c1", 5.0),
    ]
    ids = {(q.channel_id, q.external_id): q.conversation_id for q in queue}

    await backend.apply_fetch(
        "email",
        state(conversation("c1", waiting=5, subject="Ordine 42", name=None)),
        T0 + 200,
    )
    email = await backend.waiting("email")
    assert [(q.external_id, q.subject) for q in email] == [("c1", "Ordine 42")]
    assert email[0].conversation_id == ids[("email", "c1")]  # updated, not re-inserted
    assert email[0].customer_name == "Maria Rossi"  # a missing name keeps the known one
    assert await backend.conversation(ids[("email", "c2")]) is None  # left the queue
    assert await backend.conversation(ids[("email", "c1")]) == email[0]
    assert await backend.conversation(10_000) is None


async def test_complete_fetch_takes_absent_conversations_out_of_the_queue(
    backend: StoreBackend,
) -> None:
    await backend.apply_fetch("email", state(conversation("a"), conversation("b")), T0 + 1)
    await backend.apply_fetch("chat", state(conversation("x")), T0 + 1)
    # incomplete: "b" may just be on another page
    assert await backend.apply_fetch("email", state(conversation("a"), complete=False), T0 + 2) == 2
    # complete: "b" has left the queue; other channels are untouched
    assert await backend.apply_fetch("email", state(conversation("a")), T0 + 3) == 1
    assert [q.external_id for q in await backend.waiting()] == ["a", "x"]
    # answered in place: leaves the queue too
    assert await backend.apply_fetch("email", state(conversation("a", waiting=None)), T0 + 4) == 0
    # and comes back when the customer writes again
    assert await backend.apply_fetch("email", state(conversation("b", waiting=9)), T0 + 5) == 1
    assert [(q.external_id, q.waiting_since) for q in await backend.waiting("email")] == [
        ("b", T0 + 9)
    ]


async def test_search_text_is_the_start_of_the_last_messages_folded(
    backend: StoreBackend,
) -> None:
    long = "Buongiorno, " + "molto " * 100 + "FINE"
    thread = [
        message("Vecchio messaggio dimenticato", 1, external_id="m1"),
        message("Dov'è il mio ORDINE?", 2, external_id="m2"),
        message("Spedito ieri,\n\n   arriverà   domani", 3, author=Author.BUSINESS),
        message(long, 4, external_id="m4"),
    ]
    await backend.apply_fetch("email", state(conversation("c1", messages=thread)), T0)
    (item,) = await backend.waiting()
    expected_long = ("buongiorno, " + "molto " * 100)[:160]
    assert item.search_text == (
        f"dov'e il mio ordine?\nspedito ieri, arrivera domani\n{expected_long}"
    )
    assert "vecchio" not in item.search_text  # beyond the last three


async def test_the_queue_without_search_texts_is_the_same_queue(backend: StoreBackend) -> None:
    """Issue 14: a big queue is read without them until the filter is first used."""
    thread = [message("Dov'è il mio ordine?", 2, external_id="m2")]
    await backend.apply_fetch(
        "email", state(conversation("c1", messages=thread), conversation("c2")), T0
    )
    await backend.apply_fetch("chat", state(conversation("c3", messages=thread)), T0)
    searched = await backend.waiting()
    assert searched[0].search_text
    for channel_id in (None, "email"):
        plain = await backend.waiting(channel_id, search=False)
        assert all(item.search_text == "" for item in plain)
        expected = [i for i in searched if channel_id is None or i.channel_id == channel_id]
        assert [i._replace(search_text="") for i in expected] == plain


async def test_a_new_message_updates_the_search_text(backend: StoreBackend) -> None:
    first = [message("Ordine 3", 1, external_id="m1")]
    await backend.apply_fetch("email", state(conversation("c3", messages=first)), T0)
    await backend.apply_fetch("email", state(conversation("c4", messages=first)), T0)
    later = [*first, message("Disponibilità confermata?", 60, external_id="m2")]
    await backend.apply_fetch(
        "email", state(conversation("c3", messages=later), conversation("c4")), T0 + 60
    )
    texts = {item.external_id: item.search_text for item in await backend.waiting()}
    assert texts == {"c3": "ordine 3\ndisponibilita confermata?", "c4": "ordine 3"}


async def test_any_external_id_round_trips(backend: StoreBackend) -> None:
    odd = ["<a@b>", "nul\x00id", "emoji \U0001f600 ü", "'; DROP TABLE x; --", '"q"', "\\"]
    fetched = [conversation(e, messages=[message("m", 1, external_id=e)]) for e in odd]
    assert await backend.apply_fetch("email", state(*fetched), T0) == len(odd)
    # the same fetch again, complete: every one is recognised as still waiting
    assert await backend.apply_fetch("email", state(*fetched), T0 + 1) == len(odd)
    queue = await backend.waiting()
    assert sorted(q.external_id for q in queue) == sorted(odd)
    for item in queue:
        assert [m.text for m in await backend.messages(item.conversation_id)] == ["m"]
    lone = conversation("bad\udcffid", messages=[message("m", 1, external_id="\udcff")])
    assert await backend.apply_fetch("email", state(*fetched, lone), T0 + 2) == len(odd) + 1
    assert "bad?id" in {q.external_id for q in await backend.waiting()}


async def test_hostile_text_is_stored_raw_but_bounded(backend: StoreBackend) -> None:
    nasty = "\x1b]52;c;cm0gLXJmIH4=\x07[bold]x[/bold]\x00\u202e"
    await backend.apply_fetch(
        "email",
        state(
            conversation(
                "c1",
                subject=nasty + "S" * 1_000_000,
                name="N" * 50_000,
                messages=[message(nasty + "T" * 1_000_000, 1), message("bad \udcff byte", 2)],
            )
        ),
        T0,
    )
    (item,) = await backend.waiting()
    texts = [m.text for m in await backend.messages(item.conversation_id)]
    assert item.subject.startswith(nasty) and len(item.subject) == FIELD_MAX
    assert item.customer_name is not None and len(item.customer_name) == FIELD_MAX
    assert texts[0].startswith(nasty) and len(texts[0]) == TEXT_MAX
    assert texts[1] == "bad ? byte"  # a lone surrogate cannot be UTF-8; nothing else changed


async def test_a_customer_known_only_by_a_handle_is_named_by_it(backend: StoreBackend) -> None:
    from sportello.core.queue_view import build_rows
    from sportello_sdk import Conversation, Customer

    at = datetime.fromtimestamp(T0 - 60, UTC)
    handled = Conversation("t1", Customer(handle="@maria_r"), "Ciao", at, at)
    await backend.apply_fetch("email", state(handled), T0)
    (item,) = await backend.waiting()
    assert item.customer_handle == "@maria_r"
    (row,) = build_rows([item], {"email": "Email"}, [60.0], {"email": 0.0})
    assert row.customer_text() == "@maria_r"
    assert "@maria_r" in row.haystack


async def test_a_big_queue_is_stored_and_read_back_in_order(open_store: Opener) -> None:
    """20 channels of 1,000 waiting: every conversation comes back, longest waiting first;
    the summary and the head of each channel's queue agree with it.

    How fast this is gets measured by ``make bench`` (store_*), not here.
    """
    channels = [f"ch{i}" for i in range(20)]
    store = await open_store()
    await store.sync_channels([channel(c) for c in channels], {})
    for index, channel_id in enumerate(channels):
        fetched = state(
            *(
                conversation(
                    f"c{i}",
                    first=i,
                    waiting=index * 1000 + i,
                    subject=f"Ordine {i}",
                    messages=[message(f"testo {i}", i), message(f"grazie {i}", i + 1)],
                )
                for i in range(1000)
            )
        )
        assert await store.apply_fetch(channel_id, fetched, T0 + 10**6) == 1000
    assert await store.apply_fetch(channels[-1], fetched, T0 + 10**6 + 30) == 1000
    queue = await store.waiting()
    assert len(queue) == 20_000
    assert queue[0].waiting_since == T0 and queue[-1].waiting_since == T0 + 19_999
    summary = await store.waiting_summary()
    assert summary["ch3"] == (1000, T0 + 3000)
    assert len(summary) == 20
    head = await store.waiting_head(5)
    assert len(head) == 100
    assert {item.waiting_since for item in head if item.channel_id == "ch0"} == {
        T0 + i for i in range(5)
    }


async def test_waiting_of_one_channel_and_the_summary_of_an_empty_queue(
    backend: StoreBackend,
) -> None:
    assert await backend.waiting_summary() == {}
    assert await backend.waiting_head(3) == []
    await backend.apply_fetch("email", state(conversation("e1", waiting=5)), T0 + 10)
    await backend.apply_fetch("chat", state(conversation("k1", waiting=2)), T0 + 10)
    assert [q.external_id for q in await backend.waiting("chat")] == ["k1"]
    assert await backend.waiting("nobody") == []
    assert await backend.waiting_summary() == {"email": (1, T0 + 5), "chat": (1, T0 + 2)}
