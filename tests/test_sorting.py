"""Sorting in bites: the same order as one sort, for the queue's every order."""

from __future__ import annotations

import random
import sys
import time

import pytest

from sportello.core.queue_view import SortOrder, build_rows, release_in_bites, release_later
from sportello.core.records import QueueItem
from sportello.core.sorting import BITE, order_by


@pytest.mark.parametrize("count", [0, 1, 7, BITE, BITE + 1, 3 * BITE + 17])
def test_order_by_is_one_sort_on_the_key_tuples(count: int) -> None:
    rng = random.Random(count)
    first = [rng.choice([0.0, 1.5, -2.0, 3.0]) for _ in range(count)]  # many ties
    second = [rng.randrange(5) for _ in range(count)]
    ids = rng.sample(range(10 * count + 1), count)
    expected = sorted(range(count), key=lambda i: (first[i], second[i], ids[i]))
    assert order_by(first, second, ids) == expected


def test_order_by_keeps_the_order_of_ties_of_every_column() -> None:
    count = 2 * BITE + 5
    same = [1.0] * count
    assert order_by(same) == list(range(count))  # stable across bites


def test_order_by_refuses_columns_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        order_by([1, 2], [1])
    with pytest.raises(ValueError, match="at least one"):
        order_by()


def test_the_queue_orders_of_a_big_queue_are_those_of_one_sort() -> None:
    # Above BITE rows the orders are merged from bites: they must be the orders
    # the queue always had (worst gap, then waiting since, then id; …).
    rng = random.Random(7)
    now = 1_790_000_000.0
    channels = {"mail": 3600.0, "chat": 300.0, "fb": 3600.0}
    labels = {"mail": "Email", "chat": "Chat", "fb": "Facebook"}
    count = 3 * BITE + 11
    items = []
    waits = []
    for cid in rng.sample(range(1, 10 * count), count):
        channel = rng.choice(list(channels))
        since = now - rng.choice([60.0, 600.0, 3600.0, 7200.0])  # ties on purpose
        items.append(QueueItem.of(cid, channel, f"x{cid}", None, None, None, "s", since))
        waits.append(now - since)
    rows = build_rows(items, labels, waits, channels)

    def key_gap(r: object) -> tuple[float, float, int]:
        return (-r.gap_s, r.item.waiting_since, r.conversation_id)  # type: ignore[attr-defined]

    gap = sorted(rows, key=key_gap)
    assert list(rows) == gap
    assert rows.orders[SortOrder.GAP].rows == gap
    assert rows.orders[SortOrder.WAIT].rows == sorted(
        rows, key=lambda r: (-r.wait_s, r.item.waiting_since, r.conversation_id)
    )
    assert rows.orders[SortOrder.NEWEST].rows == sorted(
        rows, key=lambda r: (r.item.waiting_since, r.conversation_id), reverse=True
    )
    place = {r.conversation_id: i for i, r in enumerate(gap)}
    assert rows.orders[SortOrder.CHANNEL].rows == sorted(
        rows, key=lambda r: (r.channel_label.casefold(), place[r.conversation_id])
    )


def test_rows_released_in_bites_are_freed() -> None:
    now = 1_790_000_000.0
    count = 2 * BITE + 3
    items = [
        QueueItem.of(cid, "mail", f"x{cid}", None, None, None, "s", now - cid)
        for cid in range(count)
    ]
    rows = build_rows(items, {"mail": "Email"}, [float(cid) for cid in range(count)], {})
    for order in SortOrder:  # every order's lists, as a filter in each makes them
        assert rows.orders[order].hays and rows.orders[order].chans
    probe = items[5]
    held = sys.getrefcount(probe)
    release_in_bites(rows)
    assert len(rows) == 0 and rows.orders == {}
    assert sys.getrefcount(probe) == held - 1  # its row is gone: only the items list holds it
    plain = list(build_rows(items[:3], {}, [0.0, 1.0, 2.0], {}))
    release_in_bites(plain)  # not prepared rows: left as they are
    assert len(plain) == 3


def test_release_later_frees_on_its_own_thread() -> None:
    now = 1_790_000_000.0
    items = [
        QueueItem.of(cid, "mail", f"x{cid}", None, None, None, "s", now - cid)
        for cid in range(BITE + 1)
    ]
    rows = build_rows(items, {"mail": "Email"}, [1.0] * len(items), {})
    release_later(rows)  # returns at once; the rows are emptied soon after
    deadline = time.monotonic() + 10.0
    while rows and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(rows) == 0
