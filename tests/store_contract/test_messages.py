"""Messages: identity (sportello.core.ingest.message_key), deduplication, order, limits."""

from __future__ import annotations

from sportello.core.ingest import message_key
from sportello.core.store_contract import StoreBackend
from sportello_sdk.models import Author
from tests.helpers_store import T0, conversation, message, state


async def test_messages_are_deduplicated_and_listed_oldest_first(backend: StoreBackend) -> None:
    first = [
        message("Buongiorno", 1, external_id="m1", author_name="Maria"),
        message("Ordine 42?", 2),  # no id: keyed by a hash of author, time, text
    ]
    await backend.apply_fetch("email", state(conversation("c1", messages=first)), T0)
    later = [
        *first,
        message("Spedito ieri", 3, author=Author.BUSINESS, external_id="m3"),
        message("Buongiorno (edited)", 1, external_id="m1", author_name="Maria"),
    ]
    await backend.apply_fetch("email", state(conversation("c1", messages=later)), T0 + 5)
    (item,) = await backend.waiting()
    listed = await backend.messages(item.conversation_id)
    assert [(m.author, m.author_name, m.sent_at - T0, m.text) for m in listed] == [
        ("customer", "Maria", 1.0, "Buongiorno (edited)"),
        ("customer", None, 2.0, "Ordine 42?"),
        ("business", None, 3.0, "Spedito ieri"),
    ]
    # a fetch that returns fewer messages drops none of the stored ones
    await backend.apply_fetch("email", state(conversation("c1", messages=later[2:3])), T0 + 6)
    assert len(await backend.messages(item.conversation_id)) == 3
    last_two = await backend.messages(item.conversation_id, limit=2)
    assert [m.text for m in last_two] == ["Ordine 42?", "Spedito ieri"]
    assert await backend.messages(item.conversation_id, limit=0) == []
    assert await backend.messages(10_000) == []


async def test_a_very_long_message_id_is_one_message(backend: StoreBackend) -> None:
    long_id = "<" + "a" * 5000 + "@example.com>"
    thread = [message("Buongiorno", 1, external_id=long_id)]
    await backend.apply_fetch("email", state(conversation("c1", messages=thread)), T0)
    edited = [message("Buongiorno!", 1, external_id=long_id)]
    await backend.apply_fetch("email", state(conversation("c1", messages=edited)), T0 + 5)
    (item,) = await backend.waiting()
    assert [m.text for m in await backend.messages(item.conversation_id)] == ["Buongiorno!"]


async def test_the_state_of_a_conversation_names_its_last_business_message(
    backend: StoreBackend,
) -> None:
    thread = [
        message("Dov'è?", 1, external_id="m1"),
        message("Spedito", 5, author=Author.BUSINESS, external_id="m2"),
        message("Grazie, e l'altro?", 8, external_id="m3"),
    ]
    await backend.apply_fetch("email", state(conversation("c1", waiting=8, messages=thread)), T0)
    (item,) = await backend.waiting()
    found = await backend.conversation_state(item.conversation_id)
    assert found is not None
    assert (found.conversation_id, found.last_business_at, found.assignee) == (
        item.conversation_id,
        T0 + 5,
        None,
    )
    assert (found.handled_at, found.snoozed_until, found.closed) == (None, None, False)
    assert await backend.conversation_state(10_000) is None


def test_message_keys() -> None:
    a = message("ciao", 1)
    assert message_key(a) == message_key(message("ciao", 1))
    assert message_key(a) != message_key(message("ciao!", 1))
    assert message_key(a) != message_key(message("ciao", 2))
    assert message_key(a) != message_key(message("ciao", 1, author=Author.BUSINESS))
    assert message_key(message("x", 1, external_id="42")) == "id:42"
    long_id = message("x", 1, external_id="<" + "a" * 5000 + "@example.com>")
    assert message_key(long_id).startswith("idh:") and len(message_key(long_id)) < 100
