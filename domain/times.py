"""Times callers give us: with their UTC offset, and within years we can store and compute on."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidInput

# Wide enough for any real date, narrow enough that adding a year or a validity period
# to one never leaves the calendar Python (and so both databases) can represent.
MIN_YEAR = 1900
MAX_YEAR = 9998


def utc_time(moment: datetime, field: Sequence[str]) -> datetime:
    """`moment` in UTC; INVALID_INPUT on `field` when it has no offset or is out of range."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("Give the time with its UTC offset.", field)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise InvalidInput(f"Give a time between the years {MIN_YEAR} and {MAX_YEAR}.", field)
    return utc


def check_year(year: int, field: Sequence[str]) -> None:
    """INVALID_INPUT on `field` for a year outside what times may hold."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"Give a year between {MIN_YEAR} and {MAX_YEAR}.", field)


# --- The program's calendar -------------------------------------------------------------
# A program runs in one IANA time zone (Program.time_zone, default UTC). Its days, weeks
# (Monday first, ISO) and months start at local midnight there; what is stored stays UTC.


class Period(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


MAX_ZONE_LENGTH = 64


def valid_zone(name: str, field: Sequence[str]) -> str:
    """`name` when it is an IANA zone this machine knows (e.g. Europe/Berlin); INVALID_INPUT
    on `field` otherwise. Zones are case-sensitive, as in the tz database."""
    text = name.strip()
    if not text or len(text) > MAX_ZONE_LENGTH or text.startswith(("/", ".")) or ".." in text:
        raise InvalidInput("Give an IANA time zone such as Europe/Berlin.", field)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone {text!r}; give an IANA name.", field) from None
    return text


@cache
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for a stored zone name; UTC for one this machine no longer knows."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, zone_name: str) -> date:
    """The calendar day `moment` falls on in the zone."""
    return moment.astimezone(zone(zone_name)).date()


def local_midnight(day: date, zone_name: str) -> datetime:
    """When `day` begins in the zone, in UTC. On a DST change at midnight (a day that starts
    at 01:00) it is the first moment of the day that exists."""
    # In a gap, fold=0 reads the wall time with the offset before the change, which lands on
    # the first moment after the gap (PEP 495); at an ambiguous midnight it is the first one.
    return datetime.combine(day, time(), tzinfo=zone(zone_name)).astimezone(UTC)


def period_start_day(day: date, period: Period) -> date:
    """The first calendar day of the period that contains `day`."""
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_period_day(start: date, period: Period) -> date:
    """The first day of the period after the one starting on `start`."""
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    if period is Period.MONTH:
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def period_bounds(moment: datetime, period: Period, zone_name: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the program-local day, week, month or year holding `moment`."""
    start_day = period_start_day(local_date(moment, zone_name), period)
    end_day = next_period_day(start_day, period)
    return local_midnight(start_day, zone_name), local_midnight(end_day, zone_name)


def month_bounds(year: int, month: int, zone_name: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a calendar month in the zone."""
    start_day = date(year, month, 1)
    return local_midnight(start_day, zone_name), local_midnight(
        next_period_day(start_day, Period.MONTH), zone_name
    )


def birthday_in(year: int, birthday: date) -> date:
    """The day a birthday is kept in `year`: 29 February is 28 February in other years."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)
