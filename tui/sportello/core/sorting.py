"""Sorting 100,000 rows in a worker thread without stalling the screen.

A call to ``sorted`` is one C call: the thread making it holds the interpreter
until it returns, whatever the switch interval says. At 100,000 rows each of the
board's sorts held it for 50-200 ms on a shared machine, and a key pressed then
waited for it (measured with live polling: keys answered in 15 ms, except during
a board's sorts). :func:`order_by` sorts bites of :data:`BITE` rows in C and
merges them with :func:`heapq.merge`, which is Python: the UI thread gets its turn
every switch interval.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

__all__ = ["BITE", "order_by"]

BITE = 4096  # rows one C-level sort handles at once: a few milliseconds


def order_by(*columns: Sequence[Any]) -> list[int]:
    """The indices ``0..n-1`` sorted by ``(columns[0][i], columns[1][i], …)``, ascending.

    Every column has ``n`` values. For a descending column pass it negated;
    end with a column of unique values (an id) for an order without ties, as
    every order of the queue does.
    """
    if not columns:
        raise ValueError("order_by needs at least one column")
    count = len(columns[0])
    if any(len(column) != count for column in columns):
        raise ValueError("order_by: columns of different lengths")
    keys: list[tuple[Any, ...]] = []
    runs: list[list[int]] = []
    for low in range(0, count, BITE):
        high = min(low + BITE, count)
        keys.extend(zip(*(column[low:high] for column in columns), strict=True))
        runs.append(sorted(range(low, high), key=keys.__getitem__))
    if len(runs) <= 1:
        return runs[0] if runs else []
    return list(heapq.merge(*runs, key=keys.__getitem__))
