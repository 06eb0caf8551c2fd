"""Times callers give us: with their UTC offset, and within years we can store and compute on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

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
