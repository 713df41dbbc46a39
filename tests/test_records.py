"""The records the store hands back: a queue item holds its texts in one string."""

from __future__ import annotations

import sys

from sportello.core.records import TEXTS_SEPARATOR, QueueItem


def test_a_queue_item_gives_back_the_fields_it_was_made_of() -> None:
    item = QueueItem.of(
        7, "email", "ext-7", "Maria", "m@example.com", "+39 02", "Ordine", 100.0, "ciao", "@maria"
    )
    assert (item.conversation_id, item.channel_id, item.waiting_since) == (7, "email", 100.0)
    assert (item.external_id, item.customer_name, item.customer_email) == (
        "ext-7",
        "Maria",
        "m@example.com",
    )
    assert (item.customer_phone, item.customer_handle, item.subject) == (
        "+39 02",
        "@maria",
        "Ordine",
    )
    assert item.search_text == "ciao"
    assert item == QueueItem.of(
        7, "email", "ext-7", "Maria", "m@example.com", "+39 02", "Ordine", 100.0, "ciao", "@maria"
    )


def test_missing_fields_are_none_and_a_separator_never_makes_a_field() -> None:
    item = QueueItem.of(1, "chat", "x", None, None, None, f"a{TEXTS_SEPARATOR}b", 0.0)
    assert (item.customer_name, item.customer_email, item.customer_phone) == (None, None, None)
    assert (item.customer_handle, item.subject) == (None, "ab")
    shouting = QueueItem.of(1, "chat", "x", f"n{TEXTS_SEPARATOR}", "e", None, "s", 0.0)
    assert (shouting.customer_name, shouting.customer_email) == ("n", "e")


def test_texts_not_made_by_of_are_taken_as_the_subject() -> None:
    assert QueueItem(1, "chat", 0.0, "just a subject").subject == "just a subject"
    assert QueueItem(1, "chat", 0.0, "just a subject").customer_name is None


def test_a_queue_item_is_a_few_hundred_bytes() -> None:
    item = QueueItem.of(
        123_456,
        "email",
        "CAF=ext-123456@mail.example",
        "Giovanna Bianchi",
        "giovanna.bianchi@example.com",
        "+39 333 123 4567",
        "Reso di un articolo",
        1.7e9,
    )
    own = sys.getsizeof(item) + sys.getsizeof(item.texts) + sys.getsizeof(item.waiting_since)
    own += sys.getsizeof(item.conversation_id)
    assert own < 300  # six strings of their own: 49 bytes each before their first character
