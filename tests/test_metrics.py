"""Metrics with a frozen clock: every ``now`` is a fixed Rome wall-clock time.

2026: 5 May is a Tuesday, 8 May a Friday, 11 May a Monday, 2 June a holiday.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from sportello.core.hours import Schedule
from sportello.core.metrics import (
    FRT_WINDOW_S,
    ChannelMetrics,
    channel_metrics,
    conversation_gap_s,
    first_response_time_s,
    frt_percentiles,
    gap_s,
    percentile,
    wait_s,
    waits_s,
)
from sportello.core.records import FirstResponse
from sportello.core.settings import OpenHours

ROME = ZoneInfo("Europe/Rome")
H = 3600.0
M = 60.0
DAY = 86400.0


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=ROME).timestamp()


_WEEKDAY = ((time(9), time(13)), (time(15, 30), time(19, 30)))
OFFICE = Schedule.from_hours(
    OpenHours(
        weekly=(*(_WEEKDAY,) * 5, ((time(9), time(13)),), ()),
        timezone=ROME,
        holidays=frozenset({date(2026, 6, 2)}),
    )
)
ALWAYS = Schedule.from_hours(None)


def response(asked: float, answered: float, channel: str = "email") -> FirstResponse:
    return FirstResponse(
        channel_id=channel, first_customer_message_at=asked, first_response_at=answered
    )


# -- wait and gap --------------------------------------------------------------------


def test_wait_over_the_night_counts_open_hours() -> None:
    assert wait_s(at(2026, 5, 5, 22), at(2026, 5, 6, 9, 30), OFFICE) == 30 * M


def test_wait_over_the_weekend() -> None:
    assert wait_s(at(2026, 5, 8, 19), at(2026, 5, 11, 10), OFFICE) == 5.5 * H


def test_wait_over_a_holiday() -> None:
    assert wait_s(at(2026, 6, 1, 19), at(2026, 6, 3, 9, 30), OFFICE) == 1 * H


def test_wait_on_a_24_7_channel_is_real_time() -> None:
    assert wait_s(at(2026, 5, 5, 22), at(2026, 5, 6, 9, 30), ALWAYS) == 11.5 * H
    # The night summer time starts has one hour less.
    assert wait_s(at(2026, 3, 28, 22), at(2026, 3, 29, 9, 30), ALWAYS) == 10.5 * H


def test_wait_from_the_future_is_zero() -> None:
    now = at(2026, 5, 6, 10)
    assert wait_s(now + 30, now, OFFICE) == 0.0
    assert wait_s(now + 30, now, ALWAYS) == 0.0


def test_waits_in_bulk_match_one_by_one() -> None:
    rng = random.Random(3)
    now = at(2026, 5, 11, 10)
    since = [now - rng.uniform(0, 20 * DAY) for _ in range(500)]
    for schedule in (OFFICE, ALWAYS):
        assert waits_s(since, now, schedule) == [wait_s(s, now, schedule) for s in since]


def test_gap_is_wait_minus_expectation() -> None:
    assert gap_s(5 * H + 10 * M, 4 * H) == 70 * M  # behind
    assert gap_s(2 * M, 5 * M) == -3 * M  # time left
    assert gap_s(4 * H, 4 * H) == 0.0


def test_conversation_gap() -> None:
    since, now = at(2026, 5, 8, 19), at(2026, 5, 11, 10)
    assert conversation_gap_s(since, now, OFFICE, 4 * H) == 1.5 * H
    assert conversation_gap_s(since, now, ALWAYS, 4 * H) == 63 * H - 4 * H
    assert conversation_gap_s(at(2026, 5, 11, 9, 58), now, OFFICE, 5 * M) == -3 * M


# -- percentiles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        # Linear interpolation: h = (n - 1) * q, between x[floor(h)] and the next.
        ([1, 2, 3, 4], 0.5, 2.5),  # h = 1.5
        ([1, 2, 3, 4], 0.9, 3.7),  # h = 2.7: 3 + 0.7 * (4 - 3)
        ([15, 20, 35, 40, 50], 0.4, 29.0),  # h = 1.6: 20 + 0.6 * 15
        ([15, 20, 35, 40, 50], 0.5, 35.0),  # h = 2, exactly a rank
        ([15, 20, 35, 40, 50], 0.9, 46.0),  # h = 3.6: 40 + 0.6 * 10
        ([50, 15, 40, 20, 35], 0.9, 46.0),  # order does not matter
        ([42], 0.5, 42.0),
        ([42], 0.9, 42.0),
        ([3, 1, 2], 0.0, 1.0),
        ([3, 1, 2], 1.0, 3.0),
        ([60.0, 60.0, 7200.0], 0.5, 60.0),
    ],
)
def test_percentile_by_hand(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected, abs=1e-9)


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 0.5) is None


@pytest.mark.parametrize("q", [-0.1, 1.5, 50, 90])
def test_percentile_takes_a_fraction(q: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        percentile([1.0, 2.0], q)


# -- first response time -------------------------------------------------------------


def test_first_response_time_counts_open_hours() -> None:
    asked, answered = at(2026, 5, 5, 22), at(2026, 5, 6, 9, 30)
    assert first_response_time_s(asked, answered, OFFICE) == 30 * M
    assert first_response_time_s(asked, answered, ALWAYS) == 11.5 * H
    assert first_response_time_s(answered, asked, ALWAYS) == 0.0  # bad data: not negative


def test_frt_window_boundaries() -> None:
    now = at(2026, 5, 13, 12)
    since = now - FRT_WINDOW_S
    responses = [
        response(since - 100, since),  # answered exactly a week ago: in (FRT 100)
        response(now - DAY - 200, now - DAY),  # in (200)
        response(now - 400, now),  # answered now: in (400)
        response(since - 10_000 - 1, since - 1),  # a second too old: out
        response(now - 20_000, now + 1),  # answered after now: out
    ]
    p50, p90 = frt_percentiles(responses, now, ALWAYS)
    assert p50 == 200.0
    assert p90 == pytest.approx(360.0)  # h = 1.8: 200 + 0.8 * 200


def test_frt_window_is_adjustable() -> None:
    now = at(2026, 5, 13, 12)
    responses = [response(now - 2 * DAY - 50, now - 2 * DAY), response(now - 70, now - 10)]
    assert frt_percentiles(responses, now, ALWAYS, window_s=DAY) == (60.0, 60.0)
    p50, p90 = frt_percentiles(responses, now, ALWAYS)
    assert p50 == 55.0
    assert p90 == pytest.approx(59.0)


def test_frt_percentiles_use_open_hours() -> None:
    now = at(2026, 5, 11, 12)
    responses = [
        response(at(2026, 5, 5, 22), at(2026, 5, 6, 9, 30)),  # the night: 30 min
        response(at(2026, 5, 8, 19), at(2026, 5, 11, 10)),  # the weekend: 5h30m
        response(at(2026, 5, 6, 10), at(2026, 5, 6, 10, 10)),  # 10 min
    ]
    p50, p90 = frt_percentiles(responses, now, OFFICE)
    assert p50 == 30 * M
    assert p90 == pytest.approx(30 * M + 0.8 * (5.5 * H - 30 * M))


def test_no_first_responses_in_the_window() -> None:
    now = at(2026, 5, 13, 12)
    assert frt_percentiles([], now, OFFICE) == (None, None)
    old = [response(now - 30 * DAY, now - 29 * DAY)]
    assert frt_percentiles(old, now, OFFICE) == (None, None)


# -- one channel's row ---------------------------------------------------------------


def test_email_channel_row() -> None:
    now = at(2026, 5, 11, 10)  # Monday
    waiting_since = [
        at(2026, 5, 11, 9, 30),  # 30 min
        at(2026, 5, 8, 19),  # over the weekend: 5h30m, the oldest
        at(2026, 5, 9, 12),  # Saturday noon: 1h + 1h
    ]
    answered = [
        response(at(2026, 5, 6, 10), at(2026, 5, 6, 12)),  # 2h
        response(at(2026, 5, 7, 18), at(2026, 5, 8, 10)),  # 1h30m + 1h = 2h30m
    ]
    row = channel_metrics(4 * H, OFFICE, waiting_since, iter(answered), now)
    assert row == ChannelMetrics(
        waiting=3,
        oldest_wait_s=5.5 * H,
        expect_s=4 * H,
        gap_s=1.5 * H,
        frt_p50_s=2.25 * H,
        frt_p90_s=pytest.approx(2.45 * H),  # type: ignore[arg-type]
        frt_p50_real_s=9 * H,  # 2h and 16h (18:00 to 10:00 the next day) in real time
    )


def test_frt_answered_while_closed_is_instant_in_open_hours_only() -> None:
    # Customers who wrote at 21:00 answered at 22:00, and at 08:00 before opening:
    # no open time passed, but they waited an hour and eleven hours.
    now = at(2026, 5, 7, 12)
    answered = [
        response(at(2026, 5, 5, 21), at(2026, 5, 5, 22)),
        response(at(2026, 5, 5, 21), at(2026, 5, 6, 8)),
        response(at(2026, 5, 6, 21), at(2026, 5, 6, 23)),
    ]
    row = channel_metrics(4 * H, OFFICE, [], answered, now)
    assert row.frt_p50_s == 0.0
    assert row.frt_p50_real_s == 2 * H
    # A 24/7 channel: real time is open time.
    assert channel_metrics(4 * H, ALWAYS, [], answered, now).frt_p50_real_s == 2 * H
    assert channel_metrics(4 * H, OFFICE, [], [], now).frt_p50_real_s is None


def test_nobody_waiting_is_ok() -> None:
    now = at(2026, 5, 11, 10)
    row = channel_metrics(5 * M, ALWAYS, [], [], now)
    assert row.waiting == 0
    assert row.oldest_wait_s == 0.0
    assert row.gap_s is None
    assert row.expect_s == 5 * M
    assert (row.frt_p50_s, row.frt_p90_s) == (None, None)


def test_a_channel_that_is_not_behind_has_a_negative_gap() -> None:
    now = at(2026, 5, 11, 10)
    row = channel_metrics(5 * M, ALWAYS, [now - 2 * M], [], now)
    assert row.waiting == 1
    assert row.oldest_wait_s == 2 * M
    assert row.gap_s == -3 * M


def test_waiting_counted_in_open_hours_at_night() -> None:
    # Nothing accrues while the shop is closed: at 23:00 the morning's wait is frozen.
    now = at(2026, 5, 6, 23)
    row = channel_metrics(4 * H, OFFICE, [at(2026, 5, 6, 19)], [], now)
    assert row.oldest_wait_s == 30 * M
    assert row.gap_s == 30 * M - 4 * H


def test_phone_channel_uses_callers_on_hold() -> None:
    now = at(2026, 5, 6, 23)  # the shop is closed, but a hold is real time
    row = channel_metrics(2 * M, OFFICE, [], [], now, on_hold=2, longest_hold_s=4 * M)
    assert row.waiting == 2
    assert row.oldest_wait_s == 4 * M
    assert row.gap_s == 2 * M


def test_phone_counts_win_over_conversations() -> None:
    now = at(2026, 5, 6, 10)
    since = [now - 60.0, now - 90.0]
    row = channel_metrics(2 * M, ALWAYS, since, [], now, on_hold=5, longest_hold_s=7 * M)
    assert (row.waiting, row.oldest_wait_s, row.gap_s) == (5, 7 * M, 5 * M)
    # No hold time reported: the oldest waiting conversation stands in.
    row = channel_metrics(2 * M, ALWAYS, since, [], now, on_hold=5)
    assert (row.waiting, row.oldest_wait_s, row.gap_s) == (5, 90.0, -30.0)


def test_phone_with_nobody_on_hold() -> None:
    now = at(2026, 5, 6, 10)
    row = channel_metrics(2 * M, ALWAYS, [now - 60.0], [], now, on_hold=0, longest_hold_s=30.0)
    assert (row.waiting, row.oldest_wait_s, row.gap_s) == (0, 0.0, None)


def test_phone_hold_time_unknown() -> None:
    now = at(2026, 5, 6, 10)
    row = channel_metrics(2 * M, ALWAYS, [], [], now, on_hold=3)
    assert (row.waiting, row.oldest_wait_s, row.gap_s) == (3, None, None)


def test_channel_row_frt_window() -> None:
    now = at(2026, 5, 13, 12)

    def answered() -> Iterator[FirstResponse]:
        yield response(now - 8 * DAY - 600, now - 8 * DAY)  # outside the 7 days
        yield response(now - DAY - 120, now - DAY)

    row = channel_metrics(H, ALWAYS, [], answered(), now)
    assert (row.frt_p50_s, row.frt_p90_s) == (120.0, 120.0)
    row = channel_metrics(H, ALWAYS, [], answered(), now, frt_window_s=10 * DAY)
    assert row.frt_p50_s == 360.0


def test_channel_metrics_is_frozen() -> None:
    row = channel_metrics(H, ALWAYS, [], [], at(2026, 5, 6, 10))
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.waiting = 3  # type: ignore[misc]
