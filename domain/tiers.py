"""Tier rules: qualifying periods, the tier points earn, and progress towards the next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.model import EntryKind, Tier

# Earned points count towards tiers and refund reversals take them back; spending,
# expiry and adjustments do not change what a member has qualified with.
QUALIFYING_KINDS = frozenset({EntryKind.EARN, EntryKind.BONUS, EntryKind.REVERSAL})


def calendar_period(now: datetime) -> tuple[datetime, datetime]:
    """The calendar year containing `now`, as [start, end) in UTC."""
    start = datetime(now.year, 1, 1, tzinfo=UTC)
    return start, datetime(now.year + 1, 1, 1, tzinfo=UTC)


def tier_for_points(tiers: Sequence[Tier], qualifying_points: int) -> Tier:
    """The highest tier whose threshold the points reach (tiers sorted by rank)."""
    reached = [tier for tier in tiers if tier.threshold <= qualifying_points]
    return reached[-1] if reached else tiers[0]


@dataclass(frozen=True)
class TierProgress:
    current: Tier
    next: Tier | None
    qualifying_points: int
    points_to_next: int | None
    percent: float
    period_ends_at: datetime | None


def progress(
    tiers: Sequence[Tier], current: Tier, qualifying_points: int, period_ends_at: datetime | None
) -> TierProgress:
    """Where a member stands: the next tier above the current one and how far to it."""
    above = [tier for tier in tiers if tier.rank > current.rank]
    nxt = above[0] if above else None
    if nxt is None:
        return TierProgress(current, None, qualifying_points, None, 100.0, period_ends_at)
    to_next = max(0, nxt.threshold - qualifying_points)
    percent = (
        min(100.0, round(100 * qualifying_points / nxt.threshold, 1)) if nxt.threshold else 100.0
    )
    return TierProgress(current, nxt, qualifying_points, to_next, max(0.0, percent), period_ends_at)
