"""The program's calendar (domain/times.py): local days, weeks, months around midnight and
DST changes, and birthdays in years without 29 February."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import InvalidInput
from domain.times import (
    Period,
    birthday_in,
    local_date,
    local_midnight,
    month_bounds,
    period_bounds,
    valid_zone,
)

BERLIN = "Europe/Berlin"


def test_a_moment_just_before_and_after_local_midnight_falls_on_different_days() -> None:
    # 22:59:59 UTC is 23:59:59 in Berlin in winter; one second later is the next local day.
    before = datetime(2026, 1, 14, 22, 59, 59, tzinfo=UTC)
    after = before + timedelta(seconds=1)
    assert local_date(before, BERLIN) == date(2026, 1, 14)
    assert local_date(after, BERLIN) == date(2026, 1, 15)
    assert local_date(after, "UTC") == date(2026, 1, 14)
    start, end = period_bounds(after, Period.DAY, BERLIN)
    assert (start, end) == (after, after + timedelta(days=1))


def test_days_across_a_dst_change_are_23_and_25_hours_long() -> None:
    spring = datetime(2026, 3, 29, 12, tzinfo=UTC)  # Berlin springs forward that night
    start, end = period_bounds(spring, Period.DAY, BERLIN)
    assert end - start == timedelta(hours=23)
    autumn = datetime(2026, 10, 25, 12, tzinfo=UTC)
    start, end = period_bounds(autumn, Period.DAY, BERLIN)
    assert end - start == timedelta(hours=25)
    assert start == datetime(2026, 10, 24, 22, tzinfo=UTC)


def test_a_day_without_a_midnight_starts_at_the_first_moment_that_exists() -> None:
    # Santiago de Chile skips 00:00-01:00 on its spring change (6 September 2026).
    start = local_midnight(date(2026, 9, 6), "America/Santiago")
    assert start == datetime(2026, 9, 6, 4, tzinfo=UTC)  # 01:00 at -03
    assert local_date(start, "America/Santiago") == date(2026, 9, 6)
    assert local_date(start - timedelta(seconds=1), "America/Santiago") == date(2026, 9, 5)


def test_weeks_start_on_monday_and_months_on_the_first_in_the_zone() -> None:
    sunday_night = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # Monday 00:30 in Berlin
    start, end = period_bounds(sunday_night, Period.WEEK, BERLIN)
    assert start == datetime(2026, 12, 6, 23, tzinfo=UTC)
    assert end - start == timedelta(days=7)
    start, end = period_bounds(sunday_night, Period.WEEK, "UTC")
    assert start == datetime(2026, 11, 30, tzinfo=UTC)
    assert month_bounds(2026, 12, BERLIN) == (
        datetime(2026, 11, 30, 23, tzinfo=UTC),
        datetime(2026, 12, 31, 23, tzinfo=UTC),
    )
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert period_bounds(new_year, Period.MONTH, BERLIN)[0] == datetime(
        2026, 12, 31, 23, tzinfo=UTC
    )
    assert period_bounds(new_year, Period.YEAR, BERLIN)[1] == datetime(2027, 12, 31, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    ("year", "kept"),
    [(2027, date(2027, 2, 28)), (2028, date(2028, 2, 29)), (2100, date(2100, 2, 28))],
)
def test_a_leap_day_birthday_is_kept_on_28_february_in_other_years(year: int, kept: date) -> None:
    assert birthday_in(year, date(2000, 2, 29)) == kept
    assert birthday_in(year, date(1990, 7, 4)) == date(year, 7, 4)


@pytest.mark.parametrize("name", ["", " ", "Nowhere/City", "utc/", "../zoneinfo/UTC", "a" * 65])
def test_unknown_zones_are_invalid_input(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        valid_zone(name, ("input", "timeZone"))
    assert raised.value.field == ("input", "timeZone")


def test_known_zones_pass() -> None:
    assert valid_zone("Asia/Kolkata", ("f",)) == "Asia/Kolkata"
    assert valid_zone(" UTC ", ("f",)) == "UTC"


def test_calendar_qualifying_years_and_kept_tiers_follow_the_programs_zone() -> None:
    from domain import tiers
    from domain.model import QualifyingPeriod

    calendar = QualifyingPeriod.CALENDAR_YEAR
    new_year_in_berlin = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January
    start, end = tiers.qualifying_window(calendar, new_year_in_berlin, BERLIN)
    assert (start, end) == (
        datetime(2026, 12, 31, 23, tzinfo=UTC),
        datetime(2027, 12, 31, 23, tzinfo=UTC),
    )
    assert tiers.qualifying_window(calendar, new_year_in_berlin, "UTC")[0] == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    # reached in Berlin's 2027: kept until 2028 ends there
    assert tiers.kept_until(calendar, new_year_in_berlin, BERLIN) == datetime(
        2028, 12, 31, 23, tzinfo=UTC
    )
    # points earned at 00:30 on 1 November in Berlin expire at the end of its month there
    assert tiers.add_months(
        datetime(2026, 10, 31, 23, 30, tzinfo=UTC), 1, to_month_end=True, zone=BERLIN
    ) == datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert tiers.add_months(
        datetime(2026, 10, 31, 23, 30, tzinfo=UTC), 1, to_month_end=True
    ) == datetime(2026, 12, 1, tzinfo=UTC)
