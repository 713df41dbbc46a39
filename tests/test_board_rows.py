"""Issue 14: a board's rows are made again only for the channels whose queue changed.

The rows of the others are kept as they were made, with their waits of then; the
board places every row by its wait now (then plus the open time since), and
``built_at`` tells the screen how much to add. Whatever is kept, every order must
be the order a board made from nothing gives.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sportello.core.board import Board, ChannelRow, schedule_for
from sportello.core.folding import search_text
from sportello.core.metrics import ChannelMetrics
from sportello.core.queue_view import (
    BoardRows,
    PreparedRows,
    QueueView,
    SortOrder,
    build_board_rows,
    built_at,
)
from sportello.core.records import QueueItem
from sportello.core.settings import Channel, OpenHours

ROME = ZoneInfo("Europe/Rome")
# A Monday, 8:30 in Rome: the shop's channel opens at 9:00, the others count always.
T0 = datetime(2026, 11, 23, 8, 30, tzinfo=ROME).timestamp()
SHOP = OpenHours(weekly=(*(((time(9), time(18)),),) * 5, (), ()), timezone=ROME)


def channel(cid: str, label: str, expect_s: float, hours: OpenHours | None = None) -> ChannelRow:
    settings = Channel(
        id=cid,
        label=label,
        adapter="demo",
        expectation=timedelta(seconds=expect_s),
        hours=hours,
        poll_interval=timedelta(seconds=30),
        timeout=timedelta(seconds=10),
    )
    return ChannelRow(settings, None, ChannelMetrics(0, 0.0, expect_s, None, None, None))


CHANNELS = (
    channel("mail", "Email", 4 * 3600.0, SHOP),
    channel("chat", "Chat", 300.0),
    channel("fb", "Facebook", 3600.0),
)


def items(rnd: random.Random, cid: str, count: int, first_id: int) -> list[QueueItem]:
    return [
        QueueItem.of(
            first_id + i,
            cid,
            f"{cid}{first_id + i}",
            f"Cliente {rnd.randrange(50)}",
            None,
            None,
            rnd.choice(["Ordine", "Reso", "Fattura"]),
            T0 - rnd.choice([60.0, 600.0, 3600.0, 7200.0, 86400.0 * rnd.random()]),
            search_text(()),
        )
        for i in range(count)
    ]


def board(
    now: float, queues: dict[str, list[QueueItem]], rows: tuple[ChannelRow, ...] = CHANNELS
) -> Board:
    queue = tuple(item for cid in queues for item in queues[cid])
    by_id = {row.channel.id: row.channel for row in rows}
    waits = tuple(
        schedule_for(by_id[item.channel_id]).open_seconds(item.waiting_since, now) for item in queue
    )
    return Board(now=now, channels=rows, queue=queue, waits=waits)


def order_ids(rows: PreparedRows, order: SortOrder) -> list[int]:
    view = QueueView()
    view.set_rows(rows)
    view.set_sort(order)
    return [row.conversation_id for row in view.visible]


def advance_of(rows: PreparedRows, now: float) -> dict[str, float]:
    by_id = {row.channel.id: row.channel for row in CHANNELS}
    return {
        cid: schedule_for(by_id[cid]).open_seconds(at, now) for cid, at in rows.built_at.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_only_changed_channels_are_made_again_and_every_order_is_as_from_nothing(
    seed: int,
) -> None:
    rnd = random.Random(seed)
    queues = {
        "mail": items(rnd, "mail", 300, 1),
        "chat": items(rnd, "chat", 200, 1000),
        "fb": items(rnd, "fb", 250, 2000),
    }
    first = build_board_rows(board(T0, queues))
    assert first.built_at == dict.fromkeys(queues, T0)
    # Two hours later (the shop opened at 9:00), a new chat came in.
    later = T0 + 2 * 3600
    queues["chat"] = [*queues["chat"], *items(rnd, "chat", 1, 5000)]
    second = build_board_rows(board(later, queues), first)
    assert second.built_at == {"mail": T0, "chat": later, "fb": T0}
    kept = {id(row) for row in first}
    assert all(id(row) in kept for row in second if row.channel_id != "chat")
    assert not any(id(row) in kept for row in second if row.channel_id == "chat")
    fresh = build_board_rows(board(later, queues))
    for order in SortOrder:
        assert order_ids(second, order) == order_ids(fresh, order), order
    advance = advance_of(second, later)
    assert advance["mail"] == pytest.approx(1.5 * 3600)  # open since 9:00 only
    assert advance["fb"] == pytest.approx(2 * 3600)
    assert advance["chat"] == 0.0
    waits = {row.conversation_id: row.wait_s for row in fresh}
    for row in second:
        shown = row.wait_s + advance[row.channel_id]
        assert shown == pytest.approx(waits[row.conversation_id], abs=1e-6)


def test_equal_items_read_again_are_kept_and_a_new_label_makes_the_rows_again() -> None:
    rnd = random.Random(7)
    queues = {"mail": items(rnd, "mail", 20, 1), "chat": items(rnd, "chat", 20, 100)}
    first = build_board_rows(board(T0, queues))
    again = {cid: [item._replace() for item in its] for cid, its in queues.items()}  # equal copies
    second = build_board_rows(board(T0 + 60, again), first)
    assert second.built_at == dict.fromkeys(queues, T0)
    renamed = (
        replace(CHANNELS[0], channel=replace(CHANNELS[0].channel, label="Posta")),
        *CHANNELS[1:],
    )
    third = build_board_rows(board(T0 + 120, again, renamed), second)
    assert third.built_at == {"mail": T0 + 120, "chat": T0}
    assert {row.channel_label for row in third if row.channel_id == "mail"} == {"Posta"}


def test_board_rows_remember_the_last_complete_board_only() -> None:
    rnd = random.Random(9)
    queues = {"mail": items(rnd, "mail", 10, 1), "chat": items(rnd, "chat", 10, 100)}
    make = BoardRows()
    whole = make(board(T0, queues))
    head = make(replace(board(T0 + 60, {"mail": queues["mail"][:2]}), complete=False))
    assert built_at(head) == {"mail": T0 + 60}  # a head is not what later boards start from
    after = make(board(T0 + 120, queues))
    assert after.built_at == dict.fromkeys(queues, T0)
    assert built_at(list(whole)) == {}
    assert datetime.fromtimestamp(T0, UTC).weekday() == 0


# -- search strings made on the first / (issue 14) ---------------------------------


def test_a_board_read_without_search_texts_has_rows_the_filter_waits_for() -> None:
    rnd = random.Random(11)
    queues = {"mail": items(rnd, "mail", 30, 1), "chat": items(rnd, "chat", 30, 100)}
    plain = {cid: [i._replace(search_text="") for i in its] for cid, its in queues.items()}
    unsearched = build_board_rows(replace(board(T0, plain), searchable=False))
    assert not unsearched.searchable
    assert {row.haystack for row in unsearched} == {""}, "no haystack is made"
    view = QueueView()
    view.set_rows(unsearched)
    view.set_filter("cliente 7")
    assert view.search_pending and len(view.visible) == 60  # nothing hidden meanwhile
    view.set_channel("chat")
    assert len(view.visible) == 30  # the channel filter needs no haystack
    # The filter was used: the queue is read with its texts, the rows made again,
    # though the items are the same conversations.
    searched = build_board_rows(board(T0 + 60, queues), unsearched)
    assert searched.searchable and searched.built_at == dict.fromkeys(queues, T0 + 60)
    view.set_rows(searched)
    assert not view.search_pending
    expected = [
        r for r in searched if r.channel_id == "chat" and r.holds("cliente") and r.holds("7")
    ]
    assert expected and sorted(ids_of(view.visible)) == sorted(ids_of(expected))


def test_a_searchable_board_never_keeps_unsearchable_rows_but_the_reverse_may() -> None:
    rnd = random.Random(12)
    queues = {"mail": items(rnd, "mail", 10, 1)}
    searched = build_board_rows(board(T0, queues))
    kept = build_board_rows(replace(board(T0 + 60, queues), searchable=False), searched)
    assert kept.built_at == {"mail": T0} and kept.searchable  # its haystacks are still good


def ids_of(rows: object) -> list[int]:
    assert isinstance(rows, (list, tuple))
    return [row.conversation_id for row in rows]
