"""Business calendars: opening hours, holidays, exceptions, DST and bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.policies._calendar import BusinessCalendar, Shift, always_open, office_hours

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


# -- arithmetic --------------------------------------------------------------------


def test_friday_evening_ticket_is_due_on_monday_morning() -> None:
    cal = office_hours("Europe/Berlin")
    due = cal.add_business_time(berlin(2024, 1, 5, 17), 2 * H)
    assert due == berlin(2024, 1, 8, 10)


def test_results_are_utc_whatever_the_input_zone() -> None:
    cal = office_hours("Europe/Berlin")
    due = cal.add_business_time(berlin(2024, 1, 8, 9), H)
    assert due.tzinfo is UTC
    assert due == datetime(2024, 1, 8, 9, tzinfo=UTC)
    assert cal.next_open(berlin(2024, 1, 8, 12)).tzinfo is UTC


def test_deadline_that_fills_a_day_is_the_end_of_that_day() -> None:
    cal = office_hours("Europe/Berlin")
    assert cal.add_business_time(berlin(2024, 1, 8, 9), 9 * H) == berlin(2024, 1, 8, 18)


def test_zero_business_time_is_due_immediately_even_when_closed() -> None:
    cal = office_hours("UTC")
    start = datetime(2024, 1, 6, 3, tzinfo=UTC)
    assert cal.add_business_time(start, timedelta(0)) == start


def test_arithmetic_is_exact_to_the_microsecond() -> None:
    cal = office_hours("UTC")
    start = datetime(2024, 1, 8, 17, 59, 59, 999_000, tzinfo=UTC)
    due = cal.add_business_time(start, timedelta(seconds=1))
    assert due == datetime(2024, 1, 9, 9, 0, 0, 999_000, tzinfo=UTC)
    assert cal.business_time_between(start, due) == timedelta(seconds=1)


def test_lunch_break_of_a_split_shift_is_not_business_time() -> None:
    cal = BusinessCalendar({"mon-fri": ["09:00-13:00", "14:00-18:00"]}, timezone="UTC")
    start = datetime(2024, 1, 8, 12, tzinfo=UTC)
    assert cal.add_business_time(start, 2 * H) == datetime(2024, 1, 8, 15, tzinfo=UTC)
    assert not cal.is_open(datetime(2024, 1, 8, 13, 30, tzinfo=UTC))
    assert cal.next_open(datetime(2024, 1, 8, 13, 30, tzinfo=UTC)) == datetime(
        2024, 1, 8, 14, tzinfo=UTC
    )


def test_business_time_between_is_negative_when_the_end_comes_first() -> None:
    cal = office_hours("UTC")
    a, b = datetime(2024, 1, 8, 10, tzinfo=UTC), datetime(2024, 1, 9, 10, tzinfo=UTC)
    assert cal.business_time_between(a, b) == 9 * H
    assert cal.business_time_between(b, a) == -9 * H


def test_a_week_of_office_hours_is_45_hours() -> None:
    assert office_hours().week == 45 * H


def test_long_spans_skip_whole_weeks_and_still_count_holidays() -> None:
    cal = office_hours("Europe/Berlin", country="DE", subdivision="BY")
    start = berlin(2024, 1, 2, 9)
    due = cal.add_business_time(start, 2000 * H)
    assert cal.business_time_between(start, due) == 2000 * H
    # 2000 h = 222 days and 2 h of Mon-Fri, past the Bavarian holidays of 2024.
    assert due == berlin(2024, 11, 19, 11)


# -- calendar time and DST --------------------------------------------------------


def test_always_open_counts_real_time_across_dst() -> None:
    cal = always_open("Europe/Berlin")
    assert cal.business_time_on(date(2024, 3, 31)) == 23 * H
    assert cal.business_time_on(date(2024, 10, 27)) == 25 * H
    start = berlin(2024, 3, 30, 12)
    assert cal.add_business_time(start, 24 * H) == start.astimezone(UTC) + 24 * H


def test_night_shift_loses_an_hour_on_spring_forward() -> None:
    cal = BusinessCalendar({"mon-sun": "01:00-04:00"}, timezone="Europe/Berlin")
    assert cal.business_time_on(date(2024, 3, 31)) == 2 * H
    assert cal.business_time_on(date(2024, 10, 27)) == 4 * H
    assert cal.business_time_on(date(2024, 6, 1)) == 3 * H


def test_office_hours_keep_local_time_across_dst() -> None:
    cal = office_hours("America/New_York")
    start = datetime(2024, 3, 8, 17, tzinfo=ZoneInfo("America/New_York"))
    due = cal.add_business_time(start, 2 * H)
    assert due == datetime(2024, 3, 11, 10, tzinfo=ZoneInfo("America/New_York"))
    assert due == datetime(2024, 3, 11, 14, tzinfo=UTC)


# -- holidays and exceptions ------------------------------------------------------


def test_public_holidays_are_closed() -> None:
    cal = office_hours("Europe/Berlin", country="DE")
    assert not cal.is_open(berlin(2024, 12, 25, 10))
    assert cal.business_time_on(date(2024, 12, 25)) == timedelta(0)
    assert cal.next_open(berlin(2024, 12, 24, 19)) == berlin(2024, 12, 27, 9)


def test_subdivision_holidays_only_close_that_subdivision() -> None:
    bavaria = office_hours("Europe/Berlin", country="DE", subdivision="BY")
    berlin_state = office_hours("Europe/Berlin", country="DE", subdivision="BE")
    epiphany = berlin(2025, 1, 6, 10)
    assert not bavaria.is_open(epiphany)
    assert berlin_state.is_open(epiphany)


def test_closed_dates_close_and_special_hours_override_everything() -> None:
    cal = office_hours(
        "Europe/Berlin",
        country="DE",
        closed_dates=[date(2024, 12, 23)],
        special_hours={date(2024, 12, 25): "10:00-12:00", date(2024, 12, 27): []},
    )
    assert cal.business_time_on(date(2024, 12, 23)) == timedelta(0)
    assert cal.business_time_on(date(2024, 12, 25)) == 2 * H
    assert cal.business_time_on(date(2024, 12, 27)) == timedelta(0)
    start = berlin(2024, 12, 20, 18)
    # Tue 24th: 9 h; Wed 25th (a holiday): 10-12 only; 26th holiday; 27th closed.
    assert cal.add_business_time(start, 11 * H) == berlin(2024, 12, 25, 12)
    assert cal.add_business_time(start, 12 * H) == berlin(2024, 12, 30, 10)


def test_shifts_accept_times_and_text() -> None:
    assert Shift.of(time(9), time(0)) == Shift.parse("09:00-24:00") == Shift(9 * 3600, 86_400)
    assert str(Shift.parse("9:30-13:15:30")) == "09:30-13:15:30"


def test_weekday_keys_can_be_numbers_or_names() -> None:
    cal = BusinessCalendar({0: "09:00-12:00", "Saturday": "10:00-11:00"})
    assert cal.week == 4 * H


# -- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekly", "kwargs", "message"),
    [
        ({}, {}, "no open hours at all"),
        ({"sat-sun": []}, {}, "no open hours at all"),
        ({"mon": ["09:00-13:00", "12:00-18:00"]}, {}, "overlapping shifts on mon"),
        ({"mon": "18:00-09:00"}, {}, "starts at or after its end"),
        ({"mon": "09:00-09:00"}, {}, "starts at or after its end"),
        ({"mon": "9 to 5"}, {}, "write them as 'HH:MM-HH:MM'"),
        ({"mon": "09:00-25:00"}, {}, "not valid times of day"),
        ({"funday": "09:00-18:00"}, {}, "unknown weekday"),
        ({"mon-fri": "09:00-18:00", "fri": "10:00-12:00"}, {}, "given twice"),
        ({"fri-mon": "09:00-18:00"}, {}, "runs backwards"),
        ({"mon": "09:00-18:00"}, {"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"mon": "09:00-18:00"}, {"country": "XX"}, "no country 'XX'"),
        ({"mon": "09:00-18:00"}, {"subdivision": "BY"}, "without a country"),
        (
            {"mon": "09:00-18:00"},
            {
                "closed_dates": [date(2024, 1, 1)],
                "special_hours": {date(2024, 1, 1): "10:00-11:00"},
            },
            "both a closed date and has special hours",
        ),
    ],
)
def test_bad_calendars_are_rejected_at_construction(
    weekly: dict[str, object], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BusinessCalendar(weekly, **kwargs)  # type: ignore[arg-type]


def test_negative_business_time_is_rejected() -> None:
    with pytest.raises(ValidationError, match="negative business time"):
        office_hours().add_business_time(datetime(2024, 1, 8, tzinfo=UTC), -H)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValidationError, match="naive datetime"):
        office_hours().is_open(datetime(2024, 1, 8, 10))


def test_a_calendar_closed_for_decades_says_so() -> None:
    cal = BusinessCalendar(
        {"mon": "09:00-10:00"},
        closed_dates=[date(2024, 1, 1) + timedelta(days=7 * k) for k in range(1100)],
    )
    with pytest.raises(ValidationError, match="no open hours"):
        cal.next_open(datetime(2024, 1, 1, tzinfo=UTC))


def test_result_beyond_year_9999_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="beyond year 9999"):
        always_open().add_business_time(datetime(9999, 12, 1, tzinfo=UTC), timedelta(days=60))
