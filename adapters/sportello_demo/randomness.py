"""Reproducible randomness: stable keys and small random streams (splitmix64).

The demo world is a pure function of its seed, its channel and the clock, the same
in every process: Python's ``hash()`` of text is salted per process, so keys are
made with BLAKE2 and streams with splitmix64.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["GOLDEN", "MASK", "Rand", "mix", "stable_key", "sub_key"]

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15

T = TypeVar("T")


def mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of a 64-bit integer."""
    x = (x + GOLDEN) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def stable_key(*parts: object) -> int:
    """A stable 64-bit key (Python's ``hash()`` of text changes between processes)."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def sub_key(key: int, n: int) -> int:
    """The ``n``-th key derived from ``key`` (a bucket's, a thread's, a poll's)."""
    return mix(key ^ mix(n & MASK))


class Rand:
    """A small, fast, reproducible random stream (splitmix64)."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & MASK

    def random(self) -> float:
        self._state = (self._state + GOLDEN) & MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return ((z ^ (z >> 31)) >> 11) * (1.0 / (1 << 53))

    def below(self, n: int) -> int:
        return min(int(self.random() * n), n - 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def chance(self, p: float) -> bool:
        return self.random() < p

    def choice(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def expo(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.random())

    def gauss(self) -> float:
        u1 = 1.0 - self.random()
        u2 = self.random()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 30:  # only with a large rate multiplier: the normal approximation
            return max(0, round(lam + math.sqrt(lam) * self.gauss()))
        limit = math.exp(-lam)
        k = 0
        p = self.random()
        while p > limit:
            k += 1
            p *= self.random()
        return k
