"""Reading the board from a store: the I/O beside :mod:`sportello.core.board`, which is pure.

``read_board`` reads the store once and hands what it read to
:func:`~sportello.core.board.compute_board`; ``read_trends`` reads each channel's queue
depth over the last week. Both take any :class:`~sportello.core.store_contract.StoreBackend`.
"""

from __future__ import annotations

from datetime import timedelta

from sportello.core.board import TREND_BUCKETS, TREND_DAYS, Board, compute_board
from sportello.core.ingest import SNAPSHOT_HEARTBEAT_S
from sportello.core.metrics import FRT_WINDOW_S
from sportello.core.settings import Config
from sportello.core.store_contract import StoreBackend

__all__ = ["HELD_S", "read_board", "read_trends"]

HELD_S = 2 * SNAPSHOT_HEARTBEAT_S  # how long a snapshot holds when none follows


async def read_board(
    store: StoreBackend, config: Config, now: float, *, with_trends: bool = False
) -> Board:
    """Read the store and compute the board at ``now``."""
    records = await store.channels()
    queue = await store.waiting()
    responses = await store.first_responses(since=now - FRT_WINDOW_S)
    trends = await read_trends(store, config, now) if with_trends else None
    return compute_board(config, records, queue, responses, now, trends)


async def read_trends(
    store: StoreBackend, config: Config, now: float
) -> dict[str, tuple[int | None, ...]]:
    """Max queue depth per bucket over the last week, per channel.

    Snapshots are taken on change, plus a heartbeat every
    :data:`~sportello.core.ingest.SNAPSHOT_HEARTBEAT_S`: a snapshot holds until the next
    (for up to two heartbeats; a longer gap is a time nobody polled, left empty).
    """
    span = timedelta(days=TREND_DAYS).total_seconds()
    bucket = span / TREND_BUCKETS
    since = now - span
    trends: dict[str, tuple[int | None, ...]] = {}
    for channel in config.channels:
        points: list[int | None] = [None] * TREND_BUCKETS
        for index, value in await store.trend(channel.id, since, bucket, carry=HELD_S):
            if 0 <= index < TREND_BUCKETS:
                points[index] = value
        trends[channel.id] = tuple(points)
    return trends
