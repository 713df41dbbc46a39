"""The dashboard's numbers, as pure functions of the store's data and ``now``.

The words are those of design.md:

- **queue depth**: the number of waiting conversations (phone: callers on hold);
- **wait**: ``now - waiting since``, counted in the channel's open hours only when
  the channel has hours (see :mod:`sportello.core.hours`);
- **oldest wait**: the largest wait among the waiting conversations (phone: the
  longest hold, in real time, as the phone system reports it);
- **gap**: ``wait - expectation``; positive means behind. A channel's gap is that of
  its oldest wait;
- **first response time (FRT)**: from a conversation's first customer message to
  the business's first reply, in open hours; the p50/p90 are over the conversations
  first answered in the window (7 days) before ``now``.

Nothing here reads the clock: ``now`` is always an argument (Unix seconds, UTC).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sportello.core.hours import Schedule
from sportello.core.records import FirstResponse

__all__ = [
    "FRT_WINDOW_S",
    "ChannelMetrics",
    "channel_metrics",
    "conversation_gap_s",
    "first_response_time_s",
    "frt_percentiles",
    "gap_s",
    "percentile",
    "wait_s",
    "waits_s",
]

FRT_WINDOW_S = 7 * 86400.0
"""The FRT window: conversations first answered in the last 7 days."""


@dataclass(frozen=True, slots=True)
class ChannelMetrics:
    """One channel's row on the dashboard. Seconds are floats; ``None`` = unknown/none.

    - ``waiting``: queue depth.
    - ``oldest_wait_s``: ``0.0`` when nobody waits; ``None`` when people wait but
      their wait is unknown (a phone queue reporting callers but no hold time).
    - ``gap_s``: ``None`` when nobody waits (nobody is behind: the dashboard shows
      "ok") or when the oldest wait is unknown.
    - ``frt_p50_s``, ``frt_p90_s``: ``None`` when no conversation was first answered
      in the window.
    - ``frt_p50_real_s``: the same median in real time (every hour counts), to tell
      an FRT of a few seconds of open time that was an answer given while closed
      (the customer waited all night) from one given at once. ``None`` as above.
    """

    waiting: int
    oldest_wait_s: float | None
    expect_s: float
    gap_s: float | None
    frt_p50_s: float | None
    frt_p90_s: float | None
    frt_p50_real_s: float | None = None


def wait_s(waiting_since: float, now: float, schedule: Schedule) -> float:
    """The wait of one conversation: open seconds in ``[waiting_since, now)``.

    ``0.0`` if ``waiting_since`` is in the future (clock skew).
    """
    return schedule.open_seconds(waiting_since, now)


def waits_s(waiting_since: Sequence[float], now: float, schedule: Schedule) -> list[float]:
    """``[wait_s(w, now, schedule) for w in waiting_since]``, fast enough for 100,000."""
    return schedule.open_seconds_many(waiting_since, now)


def gap_s(wait_s: float, expect_s: float) -> float:
    """``wait - expectation``: positive when behind, negative when there is time left."""
    return wait_s - expect_s


def conversation_gap_s(
    waiting_since: float, now: float, schedule: Schedule, expect_s: float
) -> float:
    """The gap of one waiting conversation (the queue's sort key, worst first)."""
    return gap_s(wait_s(waiting_since, now, schedule), expect_s)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of ``values`` (``q`` a fraction in [0, 1]: 0.5 for p50).

    Method: linear interpolation between closest ranks, numpy's default
    (Hyndman & Fan type 7). With the values sorted ``x[0] <= … <= x[n-1]``, take
    ``h = (n - 1) * q``; the result is ``x[⌊h⌋] + (h - ⌊h⌋) * (x[⌊h⌋+1] - x[⌊h⌋])``.
    So p50 of ``[1, 2, 3, 4]`` is 2.5 and p90 is 3.7; ``q=0`` is the minimum and
    ``q=1`` the maximum. ``None`` for no values.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be a fraction in [0, 1], got {q!r}")
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * q
    below = math.floor(h)
    lower = float(ordered[below])
    if below + 1 >= len(ordered):
        return lower
    return lower + (h - below) * (float(ordered[below + 1]) - lower)


def first_response_time_s(
    first_customer_message_at: float, first_response_at: float, schedule: Schedule
) -> float:
    """Open seconds from the first customer message to the first reply (``0.0`` if not after)."""
    return schedule.open_seconds(first_customer_message_at, first_response_at)


def frt_percentiles(
    responses: Iterable[FirstResponse],
    now: float,
    schedule: Schedule,
    window_s: float = FRT_WINDOW_S,
) -> tuple[float | None, float | None]:
    """``(p50, p90)`` FRT of the conversations first answered in ``[now - window_s, now]``.

    ``responses`` are one channel's (the caller groups by ``channel_id``).
    ``(None, None)`` when none falls in the window.
    """
    since = now - window_s
    times = [
        schedule.open_seconds(r.first_customer_message_at, r.first_response_at)
        for r in responses
        if since <= r.first_response_at <= now
    ]
    return percentile(times, 0.5), percentile(times, 0.9)


def channel_metrics(
    expectation_s: float,
    schedule: Schedule,
    waiting_since: Sequence[float],
    first_responses: Iterable[FirstResponse],
    now: float,
    on_hold: int | None = None,
    longest_hold_s: float | None = None,
    frt_window_s: float = FRT_WINDOW_S,
) -> ChannelMetrics:
    """One channel's dashboard row.

    ``waiting_since``: the channel's waiting conversations. ``first_responses``: the
    channel's first responses (any age; those outside the window are ignored).
    Phone channels pass ``on_hold`` (the queue depth instead of the number of
    waiting conversations) and ``longest_hold_s`` (the oldest wait, real seconds).
    """
    waiting = on_hold if on_hold is not None else len(waiting_since)
    oldest: float | None
    if waiting <= 0:
        waiting, oldest = 0, 0.0
    elif longest_hold_s is not None:
        oldest = max(longest_hold_s, 0.0)
    elif waiting_since:
        # Open seconds shrink as the start moves later: the earliest waits longest.
        oldest = schedule.open_seconds(min(waiting_since), now)
    else:
        oldest = None  # callers on hold, hold time not reported
    gap = None if waiting == 0 or oldest is None else gap_s(oldest, expectation_s)
    responses = list(first_responses)
    p50, p90 = frt_percentiles(responses, now, schedule, frt_window_s)
    if schedule.always_open:
        p50_real = p50
    else:
        p50_real, _ = frt_percentiles(responses, now, Schedule.from_hours(None), frt_window_s)
    return ChannelMetrics(
        waiting=waiting,
        oldest_wait_s=oldest,
        expect_s=expectation_s,
        gap_s=gap,
        frt_p50_s=p50,
        frt_p90_s=p90,
        frt_p50_real_s=p50_real,
    )
