"""Memory that stays flat while the dashboard polls: the queue's rows, its orders
and the boards around them hold no reference cycle, so each one a poll replaces
is freed at once, and the frozen generation does not grow board after board."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from sportello.core.board import Board, compute_board
from sportello.core.config import load_config
from sportello.core.queue_view import PreparedRows, QueueView, SortOrder, build_board_rows
from sportello.core.records import ChannelRecord, FirstResponse, Health, QueueItem

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_790_000_000.0


@pytest.fixture
def no_collector() -> Iterator[None]:
    """The cyclic collector off (and what it had to collect collected first)."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _board(count: int = 300) -> Board:
    config = load_config(ROOT / "config.yaml")
    ids = [channel.id for channel in config.channels]
    records = [
        ChannelRecord(
            cid, cid.title(), "demo", "email", Health.OK, None, None, NOW, NOW, None, None
        )
        for cid in ids
    ]
    queue = [
        QueueItem.of(
            i,
            ids[i % len(ids)],
            f"x{i}",
            f"Customer {i}",
            f"c{i}@example.com",
            None,
            f"Ordine {i}",
            NOW - 60 * i,
            f"where is order {i}",
        )
        for i in range(count)
    ]
    responses = [FirstResponse(ids[i % len(ids)], NOW - 9000, NOW - 8000) for i in range(20)]
    trends: dict[str, tuple[int | None, ...]] = {cid: (1, None, 3) for cid in ids}
    return compute_board(config, records, queue, responses, NOW, trends=trends)


def test_dropped_queue_rows_leave_nothing_for_the_cyclic_collector(no_collector: None) -> None:
    rows = build_board_rows(_board())  # caches warmed, then collected
    del rows
    gc.collect()
    rows = build_board_rows(_board())
    assert len(rows) == 300 and all(rows.orders[order] for order in SortOrder)
    del rows
    assert gc.collect() == 0


def test_rows_prepared_here_hold_no_cycle_either(no_collector: None) -> None:
    rows = build_board_rows(_board())
    prepared = PreparedRows(list(rows)[::-1])  # sorted here rather than by build_rows
    del rows, prepared
    assert gc.collect() == 0


def test_a_view_of_rows_holds_no_cycle(no_collector: None) -> None:
    view = QueueView(build_board_rows(_board()))
    view.set_filter("order 1")
    view.set_sort(SortOrder.WAIT)
    view.set_channel(view.rows[0].channel_id)
    view.set_rows(build_board_rows(_board()))  # the next poll
    del view
    assert gc.collect() == 0


def test_boards_in_a_row_do_not_grow_the_frozen_generation() -> None:
    """Frozen as the dashboard freezes (at its first boards), rows that a later
    board replaces are still freed: the permanent generation stays the size it was."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()  # nothing but reference counting frees the old rows
    try:
        view = QueueView(build_board_rows(_board()))
        gc.freeze()
        frozen = gc.get_freeze_count()
        for _ in range(10):
            view.set_rows(build_board_rows(_board()))
            gc.freeze()  # even were it frozen at every board
        grown = gc.get_freeze_count() - frozen
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()
    assert grown < 1000, f"the frozen generation grew by {grown} objects in 10 boards"
