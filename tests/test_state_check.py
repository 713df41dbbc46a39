"""Sense checks on what fetch() returns, per conversation (issue 8, items 6 and 14).

A conversation that fails is dropped with its reason and the rest are stored;
what can be repaired is; only a state that is malformed as a whole fails the poll.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sportello.core import state_check
from sportello.core.state_check import Checked, check_state
from sportello_sdk import Author, ChannelState, Conversation, Customer, Message, ProtocolError
from tests.helpers_store import T0, at, conversation, message, open_store, state

NOW = T0 + 3600.0  # the fetch is made an hour after T0
HINT = "in the future (clock skew or a time-zone bug?)"


def garbage(fetched: Conversation, **fields: Any) -> Conversation:
    """``fetched`` with fields set as a buggy adapter sets them (any type)."""
    return replace(fetched, **fields)


def checked(*conversations: object, complete: bool = True, **kw: Any) -> Checked:
    fetched = ChannelState(conversations=tuple(conversations), complete=complete)  # type: ignore[arg-type]
    return check_state(fetched, NOW, **kw)


def ids(result: Checked) -> list[str]:
    return [c.external_id for c in result.state.conversations]


def reasons(result: Checked) -> list[str]:
    return [str(dropped) for dropped in result.dropped]


# -- times in the future ----------------------------------------------------------------


def test_waiting_since_in_year_9999_is_dropped_by_name() -> None:
    far = garbage(conversation("far"), waiting_since=datetime(9999, 1, 1, tzinfo=UTC))
    result = checked(conversation("ok", waiting=10), far)
    assert ids(result) == ["ok"]
    assert reasons(result) == [f"conversation 'far': waiting since 9999-01-01, {HINT}"]
    assert result.keep == ("far",)


def test_local_time_labelled_utc_is_in_the_future_beyond_the_skew() -> None:
    # Rome's 13:00 (UTC+2 in summer) written as 13:00 UTC: two hours ahead.
    written = datetime.fromtimestamp(NOW, timezone(timedelta(hours=2))).replace(tzinfo=UTC)
    shifted = garbage(conversation("rome"), waiting_since=written)
    result = checked(shifted)
    assert ids(result) == []
    (reason,) = reasons(result)
    assert "waiting since" in reason and f"2h00m {HINT}" in reason


def test_a_first_message_in_the_future_is_dropped_too() -> None:
    ahead = garbage(
        conversation("x", waiting=None), first_customer_message_at=at(3600 + 86_400 * 3)
    )
    result = checked(ahead)
    assert ids(result) == []
    assert f"first message {at(3600 + 86_400 * 3):%Y-%m-%d}, {HINT}" in reasons(result)[0]


def test_within_the_clock_skew_is_accepted_beyond_it_is_not() -> None:
    near = garbage(conversation("near"), waiting_since=at(3600 + 240))  # 4 min ahead
    beyond = garbage(conversation("beyond"), waiting_since=at(3600 + 360))  # 6 min ahead
    assert ids(checked(near, beyond)) == ["near"]
    assert ids(checked(near, beyond, skew_s=600)) == ["near", "beyond"]
    assert ids(checked(near, beyond, skew_s=60)) == []


def test_a_message_sent_in_the_future_is_left_out_of_its_conversation() -> None:
    messages = (message("Ciao", 0), message("dal futuro", 3600 + 86_400 * 400))
    result = checked(conversation("c1", messages=messages))
    (kept,) = result.state.conversations
    assert [m.text for m in kept.messages] == ["Ciao"]
    assert result.dropped == ()
    (fix,) = result.warnings
    assert "a message sent" in fix.what and HINT in fix.what and "left out" in fix.what
    report = result.report()
    assert report is not None and (report.count, report.fixed) == (0, 1)


# -- waiting since before the first message ------------------------------------------------


def test_waiting_since_before_the_first_message_is_dropped() -> None:
    early = conversation("early", first=600, waiting=0)
    result = checked(early, conversation("fine", first=0, waiting=600))
    assert ids(result) == ["fine"]
    assert reasons(result) == [
        "conversation 'early': waiting since before its first message (by 10m)"
    ]


def test_a_second_of_rounding_is_not_before_the_first_message() -> None:
    rounded = conversation("r", first=10.6, waiting=10.0)
    assert ids(checked(rounded)) == ["r"]


# -- duplicate ids --------------------------------------------------------------------------


@pytest.mark.parametrize("waiting_first", [True, False])
def test_of_a_repeated_id_the_waiting_copy_is_kept(waiting_first: bool) -> None:
    waiting = conversation("dup", waiting=10, subject="waiting copy")
    answered = conversation("dup", waiting=None, first_response=3000, subject="answered copy")
    copies = (waiting, answered) if waiting_first else (answered, waiting)
    result = checked(*copies, conversation("other"))
    assert sorted(ids(result)) == ["dup", "other"]
    (kept,) = [c for c in result.state.conversations if c.external_id == "dup"]
    assert kept.subject == "waiting copy"
    assert reasons(result) == [
        "conversation 'dup': its id appears twice in this fetch (kept the waiting one)"
    ]
    assert result.keep == ()  # a copy is stored: nothing to keep apart


def test_of_copies_none_waiting_the_latest_activity_is_kept() -> None:
    older = conversation("dup", waiting=None, first_response=100, subject="older")
    newer = conversation("dup", waiting=None, first_response=2000, subject="newer")
    oldest = conversation("dup", waiting=None, subject="oldest")
    result = checked(older, newer, oldest)
    (kept,) = result.state.conversations
    assert kept.subject == "newer"
    assert (
        reasons(result)
        == ["conversation 'dup': its id appears 3 times in this fetch (kept the latest one)"] * 2
    )


def test_a_bad_copy_does_not_beat_a_good_one() -> None:
    bad = garbage(conversation("dup"), waiting_since=datetime(9999, 1, 1, tzinfo=UTC))
    good = conversation("dup", waiting=None)
    result = checked(bad, good)
    assert [c.waiting_since for c in result.state.conversations] == [None]
    assert len(result.dropped) == 1 and "9999-01-01" in reasons(result)[0]


def test_ids_the_store_would_merge_are_the_same_id() -> None:
    # A lone surrogate cannot be stored as UTF-8: the store keeps "a?" for both.
    result = checked(conversation("a\ud800", waiting=5), conversation("a?", waiting=None))
    assert ids(result) == ["a\ud800"]
    assert "kept the waiting one" in reasons(result)[0]


# -- wrong types, and what is repaired -------------------------------------------------


def test_customer_fields_that_are_not_text_become_none_and_are_counted() -> None:
    weird = garbage(
        conversation("c1"),
        customer=Customer(name=42, email={"a": 1}, phone="+39 06 1234"),  # type: ignore[arg-type]
    )
    result = checked(weird)
    (kept,) = result.state.conversations
    assert kept.customer == Customer(name=None, email=None, phone="+39 06 1234")
    assert [f.what for f in result.warnings] == [
        "customer name is an int, not text: left out",
        "customer e-mail is a dict, not text: left out",
    ]
    report = result.report()
    assert report is not None and (report.count, report.fixed) == (0, 2)


async def test_wrong_typed_customer_fields_are_never_stored_as_reprs(tmp_path: Path) -> None:
    weird = garbage(conversation("c1"), customer=Customer(name=42, email=["x"]))  # type: ignore[arg-type]
    store = await open_store(tmp_path / "s.db")
    try:
        await store.apply_fetch("email", checked(weird).state, NOW)
        (item,) = await store.waiting("email")
        assert (item.customer_name, item.customer_email) == (None, None)  # not "42", "['x']"
    finally:
        await store.close()


def test_a_null_subject_is_the_first_words_of_the_first_customer_message() -> None:
    words = "Buongiorno, il mio ordine 4242 non è ancora arrivato e vorrei sapere dove si trova"
    chat = garbage(
        conversation(
            "chat",
            messages=(
                message("Benvenuto! Come possiamo aiutarti?", 0, author=Author.BUSINESS),
                message(f"  {words}\n", 1),
            ),
        ),
        subject=None,
    )
    result = checked(chat)
    (kept,) = result.state.conversations
    assert kept.subject == "Buongiorno, il mio ordine 4242 non è ancora arrivato e…"
    assert len(kept.subject) <= 60
    assert result.dropped == () and result.warnings == ()  # normal on chat channels
    assert result.report() is None


def test_a_short_first_message_is_the_subject_whole() -> None:
    chat = garbage(conversation("c", messages=(message("Ciao!", 0),)), subject=None)
    assert checked(chat).state.conversations[0].subject == "Ciao!"


def test_no_subject_and_no_customer_words_is_a_dash() -> None:
    silent = garbage(conversation("c", messages=()), subject=None)
    blank = garbage(conversation("d", messages=(message("   ", 0),)), subject="  ")
    assert [c.subject for c in checked(silent, blank).state.conversations] == ["—", "—"]


def test_a_subject_that_is_not_text_is_replaced_and_counted() -> None:
    odd = garbage(conversation("c", messages=(message("Fattura errata", 0),)), subject=123)
    result = checked(odd)
    assert result.state.conversations[0].subject == "Fattura errata"
    assert [f.what for f in result.warnings] == ["subject is an int, not text"]


def test_malformed_conversations_are_refused_by_name() -> None:
    naive = garbage(conversation("naive"), first_customer_message_at=datetime(2026, 1, 1))
    text_time = garbage(conversation("text"), waiting_since="2026-01-01T00:00:00Z")
    not_customer = garbage(conversation("dict"), customer={"name": "Maria"})
    result = checked(naive, text_time, not_customer, "junk", conversation("ok"))
    assert ids(result) == ["ok"]
    assert reasons(result) == [
        "conversation 'naive': first message: a time without a time zone",
        "conversation 'text': waiting since: a str, not a time",
        "conversation 'dict': its customer is a dict, not a sportello_sdk.Customer",
        "conversation #3: is a str, not a conversation",
    ]


def test_ids_in_reasons_are_inert_and_bounded() -> None:
    hostile = "\x1b]52;c;aGk=\x07\u202e" + "x" * 5000
    far = garbage(conversation(hostile), waiting_since=datetime(9999, 1, 1, tzinfo=UTC))
    (reason,) = reasons(checked(far))
    assert "\x1b" not in reason and "\x07" not in reason and "\u202e" not in reason
    assert len(reason) < 200
    assert checked(far).keep == (hostile,)  # the exact id, for the store


# -- the good conversations of a bad poll are stored -------------------------------------


async def test_the_good_conversations_of_a_bad_poll_are_stored(tmp_path: Path) -> None:
    chat = garbage(conversation("chat", waiting=30, messages=(message("Ciao", 30),)), subject=None)
    far = garbage(conversation("far"), waiting_since=datetime(9999, 1, 1, tzinfo=UTC))
    result = checked(conversation("mail", waiting=10), chat, far, "junk")
    store = await open_store(tmp_path / "s.db")
    try:
        count = await store.apply_fetch("email", result.state, NOW, keep=result.keep)
        assert count == 2
        queue = await store.waiting("email")
        assert sorted((q.external_id, q.subject) for q in queue) == [
            ("chat", "Ciao"),
            ("mail", "Ordine non arrivato"),
        ]
    finally:
        await store.close()


async def test_a_dropped_conversation_has_not_left_the_queue(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        await store.apply_fetch("email", state(conversation("a"), conversation("b")), NOW - 60)
        # Next poll, complete: "a" comes back broken, "b" is gone.
        broken = garbage(conversation("a"), waiting_since=datetime(9999, 1, 1, tzinfo=UTC))
        result = checked(broken, conversation("c"))
        assert result.state.complete and result.keep == ("a",)
        await store.apply_fetch("email", result.state, NOW, keep=result.keep)
        waiting = await store.waiting("email")
        assert sorted(q.external_id for q in waiting) == ["a", "c"]
        (a,) = [q for q in waiting if q.external_id == "a"]
        assert a.waiting_since == T0  # its previous row, as it was
    finally:
        await store.close()


async def test_a_dropped_conversation_without_an_id_keeps_the_whole_queue(
    tmp_path: Path,
) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        await store.apply_fetch("email", state(conversation("a"), conversation("b")), NOW - 60)
        result = checked(conversation("c"), garbage(conversation("x"), external_id=None))
        assert not result.state.complete  # it may be "a" or "b": neither leaves
        await store.apply_fetch("email", result.state, NOW, keep=result.keep)
        assert sorted(q.external_id for q in await store.waiting("email")) == ["a", "b", "c"]
    finally:
        await store.close()


# -- the state as a whole --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fetched", "words"),
    [
        ("not a state", "instead of a channel state"),
        (ChannelState(conversations={"a": 1}), "conversations that are not a list"),  # type: ignore[arg-type]
        (ChannelState(memory={"when": datetime(2026, 1, 1)}), "memory is not JSON"),
        (ChannelState(complete="yes"), "'complete' that is not true or false"),  # type: ignore[arg-type]
        (ChannelState(on_hold=-1), "on hold that is not a count"),
    ],
)
def test_a_malformed_state_still_fails_the_poll(fetched: object, words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        check_state(fetched, NOW)


def test_too_many_conversations_fail_the_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_check, "MAX_CONVERSATIONS", 2)
    with pytest.raises(ProtocolError, match="3 conversations, more than 2"):
        checked(conversation("a"), conversation("b"), conversation("c"))


def test_the_rest_of_the_state_is_kept() -> None:
    fetched = ChannelState(
        conversations=(conversation("a"), "junk"),  # type: ignore[arg-type]
        complete=False,
        on_hold=3,
        longest_hold=timedelta(minutes=4),
        memory={"offset": 12},
    )
    stored = check_state(fetched, NOW).state
    assert (stored.complete, stored.on_hold, stored.longest_hold, stored.memory) == (
        False,
        3,
        timedelta(minutes=4),
        {"offset": 12},
    )


def test_a_clean_fetch_is_stored_as_it_came() -> None:
    good = (conversation("a", messages=(message("Ciao", 0),)), conversation("b", waiting=None))
    result = checked(*good)
    assert result.state.conversations == good
    assert all(x is y for x, y in zip(result.state.conversations, good, strict=True))
    assert (result.dropped, result.fixed, result.keep, result.report()) == ((), (), (), None)


def test_the_report_keeps_the_first_reasons_cleaned() -> None:
    far = [
        garbage(conversation(f"f{i}"), waiting_since=datetime(9999, 1, 1, tzinfo=UTC))
        for i in range(8)
    ]
    report = checked(*far).report(clean=str.upper)
    assert report is not None
    assert report.count == 8 and report.fixed == 0
    assert len(report.reasons) == state_check.REASONS_KEPT
    assert report.reasons[0].startswith("CONVERSATION 'F0': WAITING SINCE 9999-01-01")


def test_messages_that_are_malformed_are_left_out() -> None:
    bad = (
        message("ok", 0),
        "not a message",
        Message(author="customer", sent_at=at(0), text="str author"),  # type: ignore[arg-type]
        Message(author=Author.CUSTOMER, sent_at=at(0), text=None),  # type: ignore[arg-type]
        Message(author=Author.CUSTOMER, sent_at=at(0), text="x", author_name=7),  # type: ignore[arg-type]
    )
    result = checked(conversation("c", messages=bad))  # type: ignore[arg-type]
    (kept,) = result.state.conversations
    assert [m.text for m in kept.messages] == ["ok", "x"]
    assert kept.messages[1].author_name is None
    assert len(result.warnings) == 4
