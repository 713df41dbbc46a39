"""Full collections wait for a quiet moment, and never wait more than an hour."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from sportello.core.gc_policy import (
    FULL_AT_MOST_S,
    FULL_EVERY_S,
    QUIET_S,
    FullCollections,
    defer_full_collections,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def thresholds() -> Iterator[None]:
    old = gc.get_threshold()
    yield
    gc.set_threshold(*old)


def test_python_starts_no_full_collection_by_itself(thresholds: None) -> None:
    old = defer_full_collections()
    young, middle, full = gc.get_threshold()
    assert (young, middle) == old[:2]  # young collections as before
    assert full > 1_000_000


def test_a_full_collection_once_due_and_quiet(clock: Clock) -> None:
    calls: list[float] = []
    full = FullCollections(collect=lambda: calls.append(clock.now), clock=clock)
    clock.now += FULL_EVERY_S - 1
    assert not full.tick() and not calls  # not due yet
    clock.now += 1
    full.input_seen()
    assert not full.tick()  # due, but someone is typing
    clock.now += QUIET_S
    assert full.tick() and calls == [clock.now]
    assert full.last_took_s is not None
    clock.now += 1
    assert not full.tick()  # just done


def test_a_full_collection_at_least_hourly_even_while_typing(clock: Clock) -> None:
    calls: list[float] = []
    full = FullCollections(collect=lambda: calls.append(clock.now), clock=clock)
    while clock.now < 1000.0 + FULL_AT_MOST_S - 1:
        clock.now += 1.0
        full.input_seen()
        assert not full.tick()
    clock.now += 1.0
    full.input_seen()
    assert full.tick() and len(calls) == 1
