"""Open hours: counted seconds with a frozen clock, in Europe/Rome.

Every instant is built from a wall-clock time in Rome, so the expected values can be
checked by hand against a calendar. 2026: 5 May is a Tuesday, 2 June (Festa della
Repubblica) a Tuesday; summer time starts 29 March (02:00 -> 03:00) and ends
25 October (03:00 -> 02:00).
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from sportello.core.hours import Schedule
from sportello.core.settings import OpenHours, WeeklyHours

ROME = ZoneInfo("Europe/Rome")
H = 3600.0
M = 60.0

Spans = tuple[tuple[time, time], ...]


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> float:
    """A Rome wall-clock time as Unix seconds."""
    return datetime(year, month, day, hour, minute, tzinfo=ROME, fold=fold).timestamp()


def hm(text: str) -> time:
    """``"09:30"`` -> time(9, 30); ``"24:00"`` -> time(0, 0), the config's end of day."""
    hours, minutes = (int(part) for part in text.split(":"))
    return time(0, 0) if hours == 24 else time(hours, minutes)


def spans(*pairs: tuple[str, str]) -> Spans:
    return tuple((hm(a), hm(b)) for a, b in pairs)


OFFICE_DAY = spans(("09:00", "13:00"), ("15:30", "19:30"))
SATURDAY = spans(("09:00", "13:00"))
OFFICE_WEEK: WeeklyHours = (*(OFFICE_DAY,) * 5, SATURDAY, ())
REPUBBLICA = date(2026, 6, 2)


def make(weekly: WeeklyHours, holidays: frozenset[date] = frozenset()) -> Schedule:
    return Schedule.from_hours(OpenHours(weekly=weekly, timezone=ROME, holidays=holidays))


def fresh(weekly: WeeklyHours, holidays: frozenset[date] = frozenset()) -> Schedule:
    """A schedule of its own, with an empty table (from_hours shares equal ones)."""
    return Schedule(OpenHours(weekly=weekly, timezone=ROME, holidays=holidays))


def every_day(*pairs: tuple[str, str]) -> Schedule:
    return make((spans(*pairs),) * 7)


def office(holidays: frozenset[date] = frozenset({REPUBBLICA})) -> Schedule:
    return make(OFFICE_WEEK, holidays)


ALWAYS = Schedule.from_hours(None)


def test_calendar_assumptions() -> None:
    assert date(2026, 5, 5).weekday() == 1  # Tuesday
    assert date(2026, 5, 8).weekday() == 4  # Friday
    assert REPUBBLICA.weekday() == 1
    assert at(2026, 3, 29, 3) - at(2026, 3, 29, 1) == 1 * H  # the missing hour
    assert at(2026, 10, 25, 3) - at(2026, 10, 25, 2) == 2 * H  # the repeated hour


# -- business hours ------------------------------------------------------------------


def test_night_counts_only_the_morning() -> None:
    # Customer writes at 22:00 on Tuesday; it is 09:30 on Wednesday.
    assert office().open_seconds(at(2026, 5, 5, 22), at(2026, 5, 6, 9, 30)) == 30 * M


def test_weekend_counts_saturday_morning_only() -> None:
    # Friday 19:00 -> Monday 10:00: Fri 19:00-19:30, Sat 09-13, Sun closed, Mon 09-10.
    got = office().open_seconds(at(2026, 5, 8, 19), at(2026, 5, 11, 10))
    assert got == 30 * M + 4 * H + 1 * H


def test_holiday_is_a_closed_day() -> None:
    # Monday 19:00 -> Wednesday 09:30, Tuesday 2 June is a holiday.
    start, end = at(2026, 6, 1, 19), at(2026, 6, 3, 9, 30)
    assert office().open_seconds(start, end) == 30 * M + 30 * M
    assert office(frozenset()).open_seconds(start, end) == 30 * M + 8 * H + 30 * M


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 5, 6), 8 * H),  # Wednesday
        (date(2026, 5, 9), 4 * H),  # Saturday
        (date(2026, 5, 10), 0.0),  # Sunday
        (REPUBBLICA, 0.0),
    ],
)
def test_whole_days(day: date, expected: float) -> None:
    start = at(day.year, day.month, day.day)
    end = at(day.year, day.month, day.day + 1)
    assert office().open_seconds(start, end) == expected


def test_inside_and_across_spans() -> None:
    schedule = office()
    assert schedule.open_seconds(at(2026, 5, 6, 10), at(2026, 5, 6, 11, 15)) == 75 * M
    # 12:30-13:00 and 15:30-16:00; the lunch break does not count.
    assert schedule.open_seconds(at(2026, 5, 6, 12, 30), at(2026, 5, 6, 16)) == 60 * M
    assert schedule.open_seconds(at(2026, 5, 6, 13), at(2026, 5, 6, 15, 30)) == 0.0
    # Fractions of a second are kept.
    assert schedule.open_seconds(at(2026, 5, 6, 10), at(2026, 5, 6, 10) + 0.25) == 0.25


def test_empty_and_reversed_ranges_are_zero() -> None:
    t = at(2026, 5, 6, 10)
    for schedule in (office(), ALWAYS):
        assert schedule.open_seconds(t, t) == 0.0
        assert schedule.open_seconds(t, t - H) == 0.0
        assert schedule.open_seconds(float("nan"), t) == 0.0


def test_across_the_new_year() -> None:
    # Thursday 31 Dec 19:00 -> Monday 4 Jan 10:00; 1 January is not a holiday here.
    schedule = office()
    assert schedule.open_seconds(at(2026, 12, 31, 19), at(2027, 1, 4, 10)) == 13.5 * H
    with_new_year = office(frozenset({date(2027, 1, 1)}))
    assert with_new_year.open_seconds(at(2026, 12, 31, 19), at(2027, 1, 4, 10)) == 5.5 * H


def test_table_grows_in_both_directions_consistently() -> None:
    grown = fresh(OFFICE_WEEK, frozenset({REPUBBLICA}))
    ranges = [
        (at(2026, 5, 5, 22), at(2026, 5, 6, 9, 30)),
        (at(2028, 2, 28, 8), at(2028, 3, 2, 18)),  # later years, a leap day
        (at(2019, 12, 30), at(2020, 1, 3)),  # earlier years
        (at(2019, 6, 1), at(2028, 6, 1)),  # across everything
    ]
    for start, end in ranges:
        new = fresh(OFFICE_WEEK, frozenset({REPUBBLICA}))
        assert grown.open_seconds(start, end) == new.open_seconds(start, end)
    assert grown.open_seconds(*ranges[0]) == 30 * M


# -- 24/7 ----------------------------------------------------------------------------


def test_always_open_counts_real_time() -> None:
    assert ALWAYS.always_open
    assert not office().always_open
    assert ALWAYS.open_seconds(at(2026, 5, 5, 22), at(2026, 5, 6, 9, 30)) == 11.5 * H
    assert ALWAYS.open_seconds(at(2026, 3, 29), at(2026, 3, 30)) == 23 * H
    assert ALWAYS.open_seconds(at(2026, 10, 25), at(2026, 10, 26)) == 25 * H
    assert ALWAYS.is_open(at(2026, 5, 10, 3))
    assert ALWAYS.next_open(at(2026, 5, 10, 3)) == at(2026, 5, 10, 3)


@pytest.mark.parametrize("end_of_day", [time(0, 0), time.max])
def test_whole_day_spans_count_real_time_across_dst(end_of_day: time) -> None:
    schedule = make((((time(0, 0), end_of_day),),) * 7)
    assert schedule.open_seconds(at(2026, 3, 29), at(2026, 3, 30)) == 23 * H
    assert schedule.open_seconds(at(2026, 10, 25), at(2026, 10, 26)) == 25 * H
    assert schedule.open_seconds(at(2026, 5, 5, 22), at(2026, 5, 6, 9, 30)) == 11.5 * H
    assert schedule.is_open(at(2026, 5, 5, 23, 59) + 59.9)


# -- DST -----------------------------------------------------------------------------


def test_spring_forward_span_across_the_missing_hour() -> None:
    schedule = every_day(("01:00", "04:00"), ("09:00", "13:00"))
    assert schedule.open_seconds(at(2026, 3, 28), at(2026, 3, 29)) == 7 * H
    assert schedule.open_seconds(at(2026, 3, 29), at(2026, 3, 30)) == 6 * H  # 2 + 4
    assert schedule.open_seconds(at(2026, 3, 30), at(2026, 3, 31)) == 7 * H
    assert schedule.open_seconds(at(2026, 3, 29, 1), at(2026, 3, 29, 4)) == 2 * H
    assert schedule.open_seconds(at(2026, 3, 29, 9), at(2026, 3, 29, 13)) == 4 * H


def test_fall_back_span_across_the_repeated_hour() -> None:
    schedule = every_day(("01:00", "04:00"), ("09:00", "13:00"))
    assert schedule.open_seconds(at(2026, 10, 25), at(2026, 10, 26)) == 8 * H  # 4 + 4
    assert schedule.open_seconds(at(2026, 10, 25, 1), at(2026, 10, 25, 4)) == 4 * H
    assert schedule.open_seconds(at(2026, 10, 24), at(2026, 10, 25)) == 7 * H
    # Both passes through 02:30 are open.
    assert schedule.is_open(at(2026, 10, 25, 2, 30, fold=0))
    assert schedule.is_open(at(2026, 10, 25, 2, 30, fold=1))


def test_span_starting_or_ending_in_the_missing_hour() -> None:
    # 02:30 does not exist on 29 March: the clocks jump from 02:00 to 03:00.
    opens_in_gap = every_day(("02:30", "05:00"))
    day = (at(2026, 3, 29), at(2026, 3, 30))
    assert opens_in_gap.open_seconds(*day) == 2 * H  # 03:00-05:00
    assert opens_in_gap.next_open(day[0]) == at(2026, 3, 29, 3)
    assert not opens_in_gap.is_open(at(2026, 3, 29, 3) - 1)
    closes_in_gap = every_day(("00:00", "02:30"))
    assert closes_in_gap.open_seconds(*day) == 2 * H  # 00:00 until the jump
    assert not closes_in_gap.is_open(at(2026, 3, 29, 3))


def test_boundaries_in_the_repeated_hour_use_the_first_pass() -> None:
    # 02:30 happens twice on 25 October; spans open and close at the first one,
    # so two adjacent spans count exactly like one.
    first_pass = at(2026, 10, 25, 2, 30, fold=0)
    split = every_day(("00:00", "02:30"), ("02:30", "05:00"))
    whole = every_day(("00:00", "05:00"))
    day = (at(2026, 10, 25), at(2026, 10, 26))
    assert whole.open_seconds(*day) == 6 * H
    assert split.open_seconds(*day) == 6 * H
    late = every_day(("02:30", "05:00"))
    assert late.open_seconds(*day) == 3.5 * H
    assert late.next_open(day[0]) == first_pass


# -- spans that touch midnight -------------------------------------------------------


@pytest.mark.parametrize("end_of_day", [time(0, 0), time.max])
def test_span_ending_at_midnight(end_of_day: time) -> None:
    evening = ((time(20, 0), end_of_day),)
    night = ((time(0, 0), time(2, 0)),)
    schedule = make((*((),) * 4, evening, night, ()))  # Fri 20-24, Sat 00-02
    assert schedule.open_seconds(at(2026, 5, 8, 23), at(2026, 5, 9, 1)) == 2 * H
    assert schedule.open_seconds(at(2026, 5, 8), at(2026, 5, 10)) == 6 * H
    assert schedule.is_open(at(2026, 5, 9))


def test_overnight_span_and_holiday_after_midnight() -> None:
    night_shift = ((time(22, 0), time(2, 0)),)
    schedule = make((night_shift, (), (), (), (), (), ()))  # Monday 22:00 -> Tuesday 02:00
    start, end = at(2026, 6, 1, 21), at(2026, 6, 2, 3)
    assert schedule.open_seconds(start, end) == 4 * H
    # A holiday closes its whole day, including the night shift's part on it.
    with_holiday = make((night_shift, (), (), (), (), (), ()), frozenset({REPUBBLICA}))
    assert with_holiday.open_seconds(start, end) == 2 * H


def test_overlapping_spans_count_once() -> None:
    schedule = every_day(("09:00", "13:00"), ("11:00", "14:00"), ("12:00", "12:30"))
    assert schedule.open_seconds(at(2026, 5, 6), at(2026, 5, 7)) == 5 * H
    assert schedule.open_seconds(at(2026, 5, 6, 13), at(2026, 5, 8, 10)) == 1 * H + 5 * H + 1 * H
    assert schedule.open_seconds(at(2026, 5, 6, 14), at(2026, 5, 7, 9)) == 0.0


def test_weekly_hours_need_seven_days() -> None:
    with pytest.raises(ValueError, match="7 days"):
        make((OFFICE_DAY,) * 6)


# -- is_open and next_open -----------------------------------------------------------


def test_is_open_boundaries() -> None:
    schedule = office()
    assert schedule.is_open(at(2026, 5, 6, 9))  # opening instant counts
    assert schedule.is_open(at(2026, 5, 6, 13) - 0.001)
    assert not schedule.is_open(at(2026, 5, 6, 13))  # closing instant does not
    assert not schedule.is_open(at(2026, 5, 6, 8, 59))
    assert not schedule.is_open(at(2026, 5, 10, 11))  # Sunday
    assert not schedule.is_open(at(2026, 6, 2, 10))  # holiday
    assert not schedule.is_open(float("nan"))


def test_next_open() -> None:
    schedule = office()
    assert schedule.next_open(at(2026, 5, 5, 22)) == at(2026, 5, 6, 9)  # the night
    assert schedule.next_open(at(2026, 5, 6, 10, 5)) == at(2026, 5, 6, 10, 5)  # open now
    assert schedule.next_open(at(2026, 5, 6, 13)) == at(2026, 5, 6, 15, 30)  # lunch
    assert schedule.next_open(at(2026, 5, 9, 13)) == at(2026, 5, 11, 9)  # the weekend
    assert schedule.next_open(at(2026, 6, 1, 19, 30)) == at(2026, 6, 3, 9)  # holiday
    # The table covers 2026 only until next_open looks past its end.
    new_year = fresh(OFFICE_WEEK, frozenset({date(2027, 1, 1)}))
    assert new_year.next_open(at(2026, 12, 31, 20)) == at(2027, 1, 2, 9)


def test_never_open_has_no_next_open() -> None:
    closed = make(((),) * 7)
    assert closed.next_open(at(2026, 5, 6, 10)) is None
    assert closed.open_seconds(at(2026, 1, 1), at(2027, 1, 1)) == 0.0
    assert not closed.is_open(at(2026, 5, 6, 10))


def test_far_instants_are_clamped_not_crashing() -> None:
    # Instants are clamped to 1970-2099 (local), so a bad one costs a bounded build.
    schedule = fresh(OFFICE_WEEK)
    start = at(2099, 12, 30, 9)  # a Wednesday
    assert schedule.open_seconds(start, 1e15) == schedule.open_seconds(start, at(2100, 1, 1))
    assert schedule.open_seconds(start, 1e15) == 8 * H + 8 * H  # Wed and Thu
    assert schedule.open_seconds_many([start, 1e14], 1e15) == [16 * H, 0.0]
    assert not schedule.is_open(1e15)
    assert schedule.next_open(1e15) is None
    early = fresh(OFFICE_WEEK)
    end = at(1970, 1, 2)  # 1 January 1970 was a Thursday
    assert early.open_seconds(-1e12, end) == early.open_seconds(at(1970, 1, 1), end) == 8 * H
    assert early.open_seconds_many([-1e12, at(1970, 1, 1, 19)], end) == [8 * H, 30 * M]


def test_never_more_than_the_span_even_after_rounding() -> None:
    # Just before 2**31 s (January 2038) the cumulative open seconds of an always-open
    # table that starts in 1970 pass 2**31 and round more coarsely than the instants
    # themselves. Counts must stay within [0, end - start] all the same.
    whole_days = fresh((((time(0, 0), time(0, 0)),),) * 7)
    t = float(2**31 - 1800)
    assert whole_days.open_seconds(-1e12, t) == t - at(1970, 1, 1)
    starts, ends = [], []
    for _ in range(64):
        nxt = math.nextafter(t, math.inf)
        starts.append(t)
        ends.append(nxt)
        t = nxt
    for a, b in zip(starts, ends, strict=True):
        assert 0.0 <= whole_days.open_seconds(a, b) <= b - a
        assert 0.0 <= whole_days.open_seconds_many([a], b)[0] <= b - a


# -- bulk ----------------------------------------------------------------------------


def test_open_seconds_many_matches_open_seconds() -> None:
    rng = random.Random(7)
    end = at(2026, 5, 11, 10)
    starts = [end - rng.uniform(-86400, 40 * 86400) for _ in range(2000)]
    starts += [end, end + 1, at(2025, 12, 31, 23), float("nan")]
    nan_first = [float("nan"), *starts[:50]]
    for schedule in (office(), ALWAYS):
        for chunk in (starts, nan_first):
            many = schedule.open_seconds_many(chunk, end)
            assert many == [schedule.open_seconds(s, end) for s in chunk]
        assert schedule.open_seconds_many([], end) == []
        assert schedule.open_seconds_many(starts, float("nan")) == [0.0] * len(starts)
    assert office().open_seconds_many([at(2026, 5, 8, 19)], end) == [5.5 * H]


def test_open_seconds_many_agrees_with_one_at_a_time() -> None:
    # The dashboard computes 100,000 waits on every rebuild with the bulk form;
    # its speed is measured by ``make bench``, its answers are checked here.
    schedule = office()
    rng = random.Random(1)
    end = at(2026, 5, 11, 10)
    starts = [end - rng.uniform(0, 60 * 86400) for _ in range(100_000)]
    waits = schedule.open_seconds_many(starts, end)
    assert len(waits) == 100_000
    for index in range(0, 100_000, 997):
        assert waits[index] == pytest.approx(schedule.open_seconds(starts[index], end))


# -- properties ----------------------------------------------------------------------


def _instants(rng: random.Random, n: int) -> list[float]:
    """Random instants, many near the DST changes and holidays."""
    centres = [
        at(2026, 3, 29, 2),
        at(2026, 10, 25, 2),
        at(2026, 6, 2, 12),
        at(2026, 12, 31, 23),
    ]
    out = []
    for _ in range(n):
        if rng.random() < 0.5:
            out.append(rng.choice(centres) + rng.uniform(-3 * 86400, 3 * 86400))
        else:
            out.append(rng.uniform(at(2025, 1, 1), at(2028, 1, 1)))
    return out


PROPERTY_SCHEDULES = {
    "office": office(frozenset({REPUBBLICA, date(2026, 12, 25)})),
    "dst": every_day(("01:00", "04:00"), ("02:30", "05:00"), ("21:00", "24:00")),
    "night": make((((time(22, 0), time(2, 0)),),) * 7, frozenset({REPUBBLICA})),
    "always": ALWAYS,
}


@pytest.mark.parametrize("name", sorted(PROPERTY_SCHEDULES))
def test_open_seconds_is_additive_and_bounded(name: str) -> None:
    schedule = PROPERTY_SCHEDULES[name]
    rng = random.Random(20260329)
    for _ in range(3000):
        a, b, c = sorted(_instants(rng, 3))
        ab, bc, ac = (
            schedule.open_seconds(a, b),
            schedule.open_seconds(b, c),
            schedule.open_seconds(a, c),
        )
        assert ac == pytest.approx(ab + bc, abs=1e-6)
        assert 0.0 <= ab <= b - a
        assert 0.0 <= ac <= c - a
        assert schedule.open_seconds(c, a) == 0.0


# An independent definition: read the wall clock in Rome and look the time up in the
# weekly table. It is slow, so it checks minute by minute on minute-aligned spans.
REFERENCE_WEEK: WeeklyHours = (
    *(OFFICE_DAY,) * 5,
    spans(("09:00", "13:00"), ("12:00", "14:30"), ("23:00", "24:00")),  # overlapping spans
    spans(("01:00", "04:00"), ("20:00", "24:00")),  # Sundays are both DST days in 2026
)
REFERENCE_HOLIDAYS = frozenset({REPUBBLICA, date(2026, 12, 25)})


def _reference_is_open(t: float) -> bool:
    local = datetime.fromtimestamp(t, ROME)
    if local.date() in REFERENCE_HOLIDAYS:
        return False
    wall = local.time().replace(tzinfo=None)
    for opening, closing in REFERENCE_WEEK[local.weekday()]:
        if opening <= wall and (closing == time(0, 0) or wall < closing):
            return True
    return False


def test_open_seconds_matches_the_wall_clock_minute_by_minute() -> None:
    schedule = make(REFERENCE_WEEK, REFERENCE_HOLIDAYS)
    rng = random.Random(1025)
    for _ in range(40):
        start = float(int(_instants(rng, 1)[0]) // 60 * 60)
        end = start + 60 * rng.randrange(0, 2 * 24 * 60)
        expected = sum(60.0 for m in range(int(start), int(end), 60) if _reference_is_open(m))
        assert schedule.open_seconds(start, end) == expected, datetime.fromtimestamp(start, ROME)


def test_is_open_matches_the_wall_clock() -> None:
    schedule = make(REFERENCE_WEEK, REFERENCE_HOLIDAYS)
    rng = random.Random(2903)
    for t in _instants(rng, 5000):
        assert schedule.is_open(t) == _reference_is_open(t), datetime.fromtimestamp(t, ROME)


def test_unhashable_hours_still_make_a_schedule() -> None:
    weekly = [list(OFFICE_DAY)] * 5 + [list(SATURDAY), []]
    hours = OpenHours(weekly=weekly, timezone=ROME)  # type: ignore[arg-type]
    schedule = Schedule.from_hours(hours)
    assert schedule.open_seconds(at(2026, 5, 8, 19), at(2026, 5, 11, 10)) == 5.5 * H


def test_equal_hours_share_one_schedule() -> None:
    assert office() is office()
    assert Schedule.from_hours(None) is ALWAYS
    assert office() is not office(frozenset())
    assert Schedule.from_hours(OpenHours(weekly=OFFICE_WEEK, timezone=ROME)) is office(frozenset())
