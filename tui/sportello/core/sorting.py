"""Sorting 100,000 rows in a worker thread without stalling the screen.

A call to ``sorted`` is one C call: the thread making it holds the interpreter
until it returns, whatever the switch interval says. At 100,000 rows each of the
board's sorts held it for 50-200 ms on a shared machine, and a key pressed then
waited for it (measured with live polling: keys answered in 15 ms, except during
a board's sorts). :func:`order_by` sorts bites of :data:`BITE` rows in C and
merges them two at a time, a bite at a time: each bite of a merge is a ``sorted``
of two sorted runs, which Timsort merges in one linear pass in C, and between two
bites the UI thread gets its turn. (:func:`heapq.merge` did the same in Python,
three times slower.)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
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
    if not runs:
        return []
    key = keys.__getitem__
    while len(runs) > 1:
        paired = [_merge(runs[k], runs[k + 1], key) for k in range(0, len(runs) - 1, 2)]
        runs = paired + runs[len(paired) * 2 :]
    return runs[0]


def _merge(a: list[int], b: list[int], key: Callable[[int], Any]) -> list[int]:
    """``a`` and ``b`` (each sorted by ``key``) as one sorted list, stable (``a``'s
    first among equals), in C calls of about :data:`BITE` of each at most."""
    out: list[int] = []
    i = j = 0
    len_a, len_b = len(a), len(b)
    while i < len_a and j < len_b:
        # Up to the smaller of the two bites' last keys: everything of both not
        # above it comes before everything left (ties whole, a's first).
        pivot = min(key(a[min(i + BITE, len_a) - 1]), key(b[min(j + BITE, len_b) - 1]))
        end_a = bisect_right(a, pivot, i, len_a, key=key)
        end_b = bisect_right(b, pivot, j, len_b, key=key)
        out += sorted(a[i:end_a] + b[j:end_b], key=key)
        i, j = end_a, end_b
    out += a[i:]
    out += b[j:]
    return out
