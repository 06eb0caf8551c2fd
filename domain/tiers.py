"""Tier rules: a member's current tier, qualifying periods, the tier points earn, progress
towards the next, and the dates of the evaluation at a period's end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from domain.model import EntryKind, Member, QualifyingPeriod, Tier
from domain.times import Period, local_date, local_midnight, period_bounds

# Earned points count towards tiers and refund reversals take them back; spending,
# expiry and adjustments do not change what a member has qualified with.
QUALIFYING_KINDS = frozenset(
    {
        EntryKind.EARN,
        EntryKind.BONUS,
        EntryKind.REVERSAL,
        EntryKind.REFERRAL,
        EntryKind.CHALLENGE,
        EntryKind.ACTION,
    }
)


def calendar_period(now: datetime, zone: str) -> tuple[datetime, datetime]:
    """The calendar year containing `now` in the program's zone, as [start, end) in UTC."""
    return period_bounds(now, Period.YEAR, zone)


def _new_year(year: int, zone: str) -> datetime:
    """1 January of `year` at midnight in the zone, in UTC."""
    return local_midnight(date(year, 1, 1), zone)


def current_tier(tiers: Sequence[Tier], member: Member) -> Tier:
    """The member's tier among the program's tiers (sorted by rank); the entry tier when it
    is not among them (retired after the member was read: its members moved down)."""
    for tier in tiers:
        if tier.id == member.tier_id:
            return tier
    return tiers[0]


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


def add_months(
    moment: datetime, months: int, *, to_month_end: bool = False, zone: str = "UTC"
) -> datetime:
    """`moment` plus whole months (day clamped to the month's length); optionally the end
    of that month in the program's zone (the first instant of the following month there)."""
    if to_month_end:
        local = local_date(moment, zone)
        index = local.month + months  # the month after the target month, 0-based
        return local_midnight(date(local.year + index // 12, index % 12 + 1, 1), zone)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    days = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def qualifying_window(
    period: QualifyingPeriod, now: datetime, zone: str
) -> tuple[datetime, datetime | None]:
    """[start, end) of the qualifying period containing `now` (a calendar year in the
    program's zone); rolling periods never end."""
    if period is QualifyingPeriod.ROLLING_12_MONTHS:
        return add_months(now, -12), None
    return calendar_period(now, zone)


def kept_until(period: QualifyingPeriod, reached_at: datetime, zone: str) -> datetime:
    """A tier reached at `reached_at` is kept for the whole next period, then evaluated
    (calendar years: until the next year ends in the program's zone)."""
    if period is QualifyingPeriod.ROLLING_12_MONTHS:
        return add_months(reached_at, 12)
    return _new_year(local_date(reached_at, zone).year + 2, zone)


# A tier given at an evaluation is kept for 12 months from it, then evaluated again on the
# 12 months just ended (the qualifying period of a calendar year is 12 months too).
EVALUATED_MONTHS = 12


def ended_period(evaluated_at: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the period whose points decide the tier at an evaluation due at
    `evaluated_at` (a member's `tier_valid_until`)."""
    return add_months(evaluated_at, -EVALUATED_MONTHS), evaluated_at


@dataclass(frozen=True)
class Evaluation:
    tier: Tier
    valid_until: datetime | None  # None: the entry tier, kept for good


def evaluation(
    tiers: Sequence[Tier],
    current: Tier,
    evaluated_at: datetime,
    earned_in_ended_period: int,
    earned_now: int,
) -> Evaluation:
    """The tier after the evaluation due at `evaluated_at` (see `evaluate`), and until when
    it is kept: 12 months from the evaluation, except the entry tier (never evaluated)."""
    tier = evaluate(tiers, current, earned_in_ended_period, earned_now)
    until = add_months(evaluated_at, EVALUATED_MONTHS) if tier.rank > 0 else None
    return Evaluation(tier, until)


def upgrade(tiers: Sequence[Tier], current: Tier, qualifying_points: int) -> Tier | None:
    """The higher tier the points now reach, or None: upgrades happen at once."""
    reached = tier_for_points(tiers, qualifying_points)
    return reached if reached.rank > current.rank else None


def evaluate(
    tiers: Sequence[Tier], current: Tier, earned_in_ended_period: int, earned_now: int
) -> Tier:
    """At a period's end: the tier earned in the period just ended, or one reached already
    in the new one (downgrades happen only here)."""
    by_ended = tier_for_points(tiers, earned_in_ended_period)
    by_now = tier_for_points(tiers, earned_now)
    return by_ended if by_ended.rank >= by_now.rank else by_now


def points_to_keep(current: Tier, qualifying_points: int) -> int:
    """Points still to earn in this period to keep the current tier at the next evaluation."""
    return max(0, current.threshold - qualifying_points)


def paid_fee(tier: Tier, points: int) -> int | None:
    """What a year of a paid tier costs a member with `points` (None: not for sale)."""
    if tier.paid_fee_minor is None:
        return None
    if (
        tier.reduced_fee_minor is not None
        and tier.reduced_from_points is not None
        and points >= tier.reduced_from_points
    ):
        return tier.reduced_fee_minor
    return tier.paid_fee_minor


def floor_window(
    period: QualifyingPeriod, now: datetime, valid_until: datetime | None, zone: str
) -> tuple[datetime, datetime] | None:
    """For a tier reached in the current qualifying period, the [start, end) of the period
    whose points decide the tier kept from before it; None when the member holds the tier
    from an earlier period (kept, or evaluated), which refunds do not take away.

    Calendar years: a tier reached this year is kept until the end of next year, so it is
    valid beyond this year's end; the floor is the tier last year's points earn. Rolling
    12 months: a tier reached at `t` is valid until `t + 12 months`; the floor is the tier
    of the 12 months before `t` (for an evaluated tier that is the tier itself).
    """
    if valid_until is None:
        return None
    if period is QualifyingPeriod.ROLLING_12_MONTHS:
        return add_months(valid_until, -24), add_months(valid_until, -12)
    start, end = calendar_period(now, zone)
    if valid_until <= end:
        return None
    return _new_year(local_date(now, zone).year - 1, zone), start


def after_refund(
    tiers: Sequence[Tier],
    current: Tier,
    qualifying_points: int,
    floor_points: int,
    period: QualifyingPeriod,
    now: datetime,
    valid_until: datetime,
    zone: str,
) -> tuple[Tier, datetime | None] | None:
    """The tier (and until when it is kept) after a refund lowered the qualifying points of
    a member whose tier was reached in this period: the tier the points still reach, never
    below the one kept from before (`floor_points`); None when the current tier stays."""
    reached = tier_for_points(tiers, qualifying_points)
    floor = tier_for_points(tiers, floor_points)
    new = reached if reached.rank >= floor.rank else floor
    if new.rank >= current.rank:
        return None
    if new.rank == 0:
        return new, None
    if new.rank == reached.rank:  # still reached in this period: kept as long as before
        return new, valid_until
    if period is QualifyingPeriod.ROLLING_12_MONTHS:
        return new, add_months(valid_until, -12)  # evaluated from the reach on, as jobs do
    return new, calendar_period(now, zone)[1]  # kept from last year: until this year ends


@dataclass(frozen=True)
class Retirement:
    """What retiring a tier changes: whatever named `retired` (members, rewards, campaigns)
    names `successor` instead, and the tiers above move down a rank, lowest first, so no two
    ever share one."""

    retired: Tier
    successor: Tier
    moved_down: tuple[Tier, ...]


def retirement(tiers: Sequence[Tier], retired: Tier) -> Retirement:
    """Retire `retired` (not the entry tier) from `tiers` (sorted by rank): the tier below
    takes its place."""
    index = next(i for i, tier in enumerate(tiers) if tier.id == retired.id)
    if index == 0:
        raise ValueError("the entry tier cannot be retired")
    above = tiers[index + 1 :]
    return Retirement(
        retired=retired,
        successor=tiers[index - 1],
        moved_down=tuple(replace(tier, rank=tier.rank - 1) for tier in above),
    )
