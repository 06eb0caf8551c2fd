"""The monthly leaderboard: what counts, how members rank, and who the month's bonus pays.

Rules (issue 17), decided here once for the board, the query and the job:

* Points earned in a calendar month of the program's zone: the sum of the member's
  entries of the earning kinds (`ledger.EARNING_KINDS`: purchases, spend bonuses and the
  engagement kinds) and REVERSAL (a refund takes back what its purchase earned), by the
  time they were written. Redemptions, expiry and admin adjustments do not count: they are
  spending, housekeeping and corrections, not earning. The board's own bonuses do not count
  either (reference `leaderboard:...`), so last month's winners start level.
* Only members who opted in and are not blocked are ranked, and only with more than zero.
* Ties share a rank (competition ranking: 100, 90, 90, 80 rank 1, 2, 2, 4); the board lists
  equal members by display name. Every member ranked within the top N is paid, so a tie at
  rank N pays all of the tied members.
* The job pays the month just ended once (one round per program and month), the bonus of
  the member's rank: `bonus_points[rank - 1]`, the last value for ranks beyond the list.
  A month that ended before the leaderboard was enabled pays nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain import ledger, times
from domain.errors import InvalidInput
from domain.model import EntryKind

# What a month's total sums; see the module docstring.
COUNTED_KINDS = frozenset(ledger.EARNING_KINDS | {EntryKind.REVERSAL})
# References of the board's own bonuses, left out of the totals.
REFERENCE_PREFIX = "leaderboard:"

MAX_TOP_N = 100
MAX_BONUS_POINTS = 1_000_000
DEFAULT_BOARD_SIZE = 10
MAX_BOARD_SIZE = 100

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class LeaderboardSettings:
    """A program's leaderboard: shown and paid only when `enabled`; the top `top_n` of each
    month get `bonus_points` by rank. `enabled_at`: when it was last switched on."""

    enabled: bool = False
    top_n: int = 3
    bonus_points: tuple[int, ...] = (500, 300, 100)
    enabled_at: datetime | None = None

    def bonus_for(self, rank: int) -> int:
        """Points the month's bonus pays for `rank` (1 is first)."""
        if not self.bonus_points or not 1 <= rank <= self.top_n:
            return 0
        return self.bonus_points[min(rank, len(self.bonus_points)) - 1]


@dataclass(frozen=True)
class Month:
    """A calendar month, as `YYYY-MM`."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def bounds(self, zone_name: str) -> tuple[datetime, datetime]:
        """[start, end) of the month in the zone, in UTC."""
        return times.month_bounds(self.year, self.month, zone_name)

    def previous(self) -> Month:
        if self.month == 1:
            return Month(self.year - 1, 12)
        return Month(self.year, self.month - 1)


@dataclass(frozen=True)
class Standing:
    """One ranked member of a month: their place in the list, rank (ties share one) and
    points earned."""

    member_id: uuid.UUID
    display_name: str | None
    points: int
    rank: int
    position: int


def month_of(moment: datetime, zone_name: str) -> Month:
    """The month of the zone's calendar that `moment` falls in."""
    day = times.local_date(moment, zone_name)
    return Month(day.year, day.month)


def parse_month(text: str, field: Sequence[str]) -> Month:
    """`YYYY-MM` as a Month; INVALID_INPUT on `field` for anything else."""
    found = _MONTH.match(text.strip()) if len(text) <= 20 else None
    if found is None:
        raise InvalidInput("Give the month as YYYY-MM, e.g. 2026-12.", field)
    year, month = int(found[1]), int(found[2])
    if not 1 <= month <= 12:
        raise InvalidInput("A month runs from 01 to 12.", field)
    # a month's bounds must stay within the calendar times may hold
    if not times.MIN_YEAR <= year < times.MAX_YEAR:
        raise InvalidInput(f"Give a year between {times.MIN_YEAR} and {times.MAX_YEAR - 1}.", field)
    return Month(year, month)


def board_size(first: int | None) -> int:
    """How many entries the board lists: `first`, 1 to 100; left out: 10."""
    if first is None:
        return DEFAULT_BOARD_SIZE
    if not 1 <= first <= MAX_BOARD_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_BOARD_SIZE}.", ("first",))
    return first


def validate_settings(
    current: LeaderboardSettings,
    *,
    enabled: bool | None,
    top_n: int | None,
    bonus_points: Sequence[int] | None,
    now: datetime,
) -> LeaderboardSettings:
    """The settings after an admin's change (None leaves a value as it is); INVALID_INPUT
    on the field at fault."""
    new_top = current.top_n if top_n is None else top_n
    if not 1 <= new_top <= MAX_TOP_N:
        raise InvalidInput(f"topN must be between 1 and {MAX_TOP_N}.", ("input", "topN"))
    bonuses = current.bonus_points if bonus_points is None else tuple(bonus_points)
    field = ("input", "bonusPoints")
    if not 1 <= len(bonuses) <= MAX_TOP_N:
        raise InvalidInput(f"Give 1 to {MAX_TOP_N} bonus amounts, one per rank.", field)
    if any(not 1 <= points <= MAX_BONUS_POINTS for points in bonuses):
        raise InvalidInput(f"Each bonus must be between 1 and {MAX_BONUS_POINTS} points.", field)
    now_enabled = current.enabled if enabled is None else enabled
    switched_on = now_enabled and not current.enabled
    return LeaderboardSettings(
        enabled=now_enabled,
        top_n=new_top,
        bonus_points=bonuses,
        enabled_at=now if switched_on else current.enabled_at,
    )


def month_to_pay(settings: LeaderboardSettings, now: datetime, zone_name: str) -> Month | None:
    """The month whose bonus is due at `now`: the one just ended in the zone, when the
    leaderboard was enabled before it ended; else None."""
    if not settings.enabled or settings.enabled_at is None:
        return None
    month = month_of(now, zone_name).previous()
    _, end = month.bounds(zone_name)
    return month if settings.enabled_at < end else None


def winners(standings: Sequence[Standing], settings: LeaderboardSettings) -> list[Standing]:
    """Those the month's bonus pays: every member ranked within the top N (ties included)."""
    return [s for s in standings if s.rank <= settings.top_n and s.points > 0]


def bonus_reference(month: Month) -> str:
    return f"{REFERENCE_PREFIX}{month}"


def bonus_description(month: Month, rank: int) -> str:
    return f"Leaderboard bonus: rank {rank} in {month}"
