"""Business-time arithmetic against a brute-force reference, across DST, holidays and split shifts.

The reference walks time in 15-minute UTC slots and asks, for each slot, the
definition itself: is the slot's local wall time inside a shift of its local
date (special hours first, then closed dates and public holidays, then the
weekly hours)? Every shift, start and DST change in these tests lies on a
15-minute boundary, so a slot is entirely open or entirely closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from supportkit.policies._calendar import BusinessCalendar, Shift, always_open

SLOT = timedelta(minutes=15)
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
COUNTRIES = [None, ("DE", "BY"), ("US", "NY"), ("AU", None)]
# Starts close to DST changes in the northern and southern hemispheres, and a quiet week.
ANCHORS = [
    datetime(2024, 3, 29, tzinfo=UTC),  # Europe springs forward 31 March
    datetime(2024, 10, 25, tzinfo=UTC),  # Europe falls back 27 October
    datetime(2024, 3, 8, tzinfo=UTC),  # US springs forward 10 March
    datetime(2024, 11, 1, tzinfo=UTC),  # US falls back 3 November
    datetime(2024, 4, 5, tzinfo=UTC),  # Sydney falls back 7 April
    datetime(2024, 12, 20, tzinfo=UTC),  # Christmas holidays
    datetime(2025, 6, 2, tzinfo=UTC),
]


@cache
def _holiday_set(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=range(2023, 2028))


def reference_is_open(cal: BusinessCalendar, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(cal.timezone))
    day = local.date()
    if day in cal.special_hours:
        shifts = cal.special_hours[day]
    elif day in cal.closed_dates or (
        cal.country is not None and day in _holiday_set(cal.country, cal.subdivision)
    ):
        shifts = ()
    else:
        shifts = cal.weekly[day.weekday()]
    second = local.hour * 3600 + local.minute * 60 + local.second
    return any(s.start <= second < s.end for s in shifts)


def _slots(start: datetime) -> Callable[[], tuple[datetime, datetime]]:
    """Successive [a, b) pieces of time cut at 15-minute UTC boundaries, from *start*."""
    cursor = start.astimezone(UTC)

    def step() -> tuple[datetime, datetime]:
        nonlocal cursor
        floor = cursor.replace(minute=cursor.minute // 15 * 15, second=0, microsecond=0)
        a, b = cursor, floor + SLOT
        cursor = b
        return a, b

    return step


def reference_add(cal: BusinessCalendar, start: datetime, delta: timedelta) -> datetime:
    left = delta
    if not left:
        return start.astimezone(UTC)
    step = _slots(start)
    while True:
        a, b = step()
        if reference_is_open(cal, a):
            if left <= b - a:
                return a + left
            left -= b - a


def reference_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    step = _slots(start)
    while True:
        a, b = step()
        if a >= end:
            return total
        if reference_is_open(cal, a):
            total += min(b, end) - a


# -- strategies --------------------------------------------------------------------

quarter_hours = st.integers(0, 96)


@st.composite
def day_shifts(draw: st.DrawFn, max_shifts: int = 3) -> tuple[Shift, ...]:
    """0-3 disjoint shifts on 15-minute boundaries; night shifts cross DST changes."""
    cuts = sorted(set(draw(st.lists(quarter_hours, max_size=2 * max_shifts))))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return tuple(Shift(a * 900, b * 900) for a, b in pairs if a < b)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    weekly = tuple(draw(day_shifts()) for _ in range(7))
    assume(any(weekly))
    country = draw(st.sampled_from(COUNTRIES))
    anchor = draw(st.sampled_from(ANCHORS)).date()
    near = st.integers(-3, 20).map(lambda k: anchor + timedelta(days=k))
    closed = draw(st.frozensets(near, max_size=3))
    special = draw(
        st.dictionaries(near.filter(lambda d: d not in closed), day_shifts(), max_size=3)
    )
    return BusinessCalendar(
        weekly,
        timezone=draw(st.sampled_from(ZONES)),
        country=country[0] if country else None,
        subdivision=country[1] if country else None,
        closed_dates=closed,
        special_hours=special,
    )


def instants(anchor: datetime | None = None) -> st.SearchStrategy[datetime]:
    """Instants within a few days of a DST change, to the second, in any zone."""
    anchors = st.sampled_from(ANCHORS) if anchor is None else st.just(anchor)
    return st.builds(
        lambda a, s, z: (a + timedelta(seconds=s)).astimezone(ZoneInfo(z)),
        anchors,
        st.integers(-86_400, 6 * 86_400),
        st.sampled_from(ZONES),
    )


def durations(max_hours: float) -> st.SearchStrategy[timedelta]:
    return st.integers(0, int(max_hours * 3600)).map(lambda s: timedelta(seconds=s))


# -- the fast calendar agrees with the reference --------------------------------------


@given(calendars(), instants(), durations(30))
def test_add_business_time_matches_the_reference(
    cal: BusinessCalendar, start: datetime, delta: timedelta
) -> None:
    assume(delta <= cal.week * 2)
    assert cal.add_business_time(start, delta) == reference_add(cal, start, delta)


@settings(max_examples=30, deadline=None)
@given(calendars(), instants(), st.integers(100, 2500).map(lambda h: timedelta(hours=h)))
def test_add_business_time_matches_the_reference_over_long_spans(
    cal: BusinessCalendar, start: datetime, delta: timedelta
) -> None:
    assume(cal.week >= timedelta(hours=40))
    assert cal.add_business_time(start, delta) == reference_add(cal, start, delta)


@given(calendars(), instants(), durations(24 * 8))
def test_business_time_between_matches_the_reference(
    cal: BusinessCalendar, start: datetime, span: timedelta
) -> None:
    end = start + span
    assert cal.business_time_between(start, end) == reference_between(cal, start, end)


@given(calendars(), instants())
def test_is_open_and_next_open_match_the_reference(cal: BusinessCalendar, at: datetime) -> None:
    assert cal.is_open(at) == reference_is_open(cal, at)
    nxt = cal.next_open(at)
    assert nxt >= at
    assert reference_is_open(cal, nxt)
    assert reference_between(cal, at, nxt) == timedelta(0)


# -- algebraic properties -----------------------------------------------------------


@given(calendars(), instants(), durations(24 * 60))
def test_business_time_between_start_and_due_is_the_delta(
    cal: BusinessCalendar, start: datetime, delta: timedelta
) -> None:
    due = cal.add_business_time(start, delta)
    assert due >= start
    assert cal.business_time_between(start, due) == delta


@given(calendars(), instants(), durations(24 * 30), durations(24 * 30))
def test_adding_in_two_steps_equals_adding_at_once(
    cal: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    once = cal.add_business_time(start, a + b)
    assert cal.add_business_time(cal.add_business_time(start, a), b) == once


@given(calendars(), instants(), durations(24 * 20), durations(24 * 20))
def test_business_time_is_additive_over_adjacent_spans(
    cal: BusinessCalendar, start: datetime, x: timedelta, y: timedelta
) -> None:
    mid, end = start + x, start + x + y
    assert cal.business_time_between(start, end) == cal.business_time_between(
        start, mid
    ) + cal.business_time_between(mid, end)


@given(instants(), durations(24 * 400), st.sampled_from(ZONES))
def test_always_open_business_time_is_elapsed_time(
    start: datetime, delta: timedelta, zone: str
) -> None:
    cal = always_open(zone)
    assert cal.add_business_time(start, delta) == start.astimezone(UTC) + delta


@given(calendars(), st.dates(date(2023, 6, 1), date(2027, 6, 1)))
def test_a_days_business_time_is_the_sum_of_its_open_intervals(
    cal: BusinessCalendar, day: date
) -> None:
    intervals = cal.open_intervals(day)
    assert sum((b - a for a, b in intervals), timedelta(0)) == cal.business_time_on(day)
    for a, b in intervals:
        assert a < b
        assert cal.is_open(a)
        assert reference_is_open(cal, a)
        assert reference_is_open(cal, b - timedelta(microseconds=1))
