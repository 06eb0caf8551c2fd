"""The reward catalog and redemption rules: availability, limits, vouchers, paying with points.

Pure functions over plain dataclasses; the use cases in domain/services/rewards.py
apply them under the wallet lock so that no interleaving of requests can break them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from domain.cards import UNAMBIGUOUS_ALPHABET
from domain.errors import (
    InvalidInput,
    LimitReached,
    OutOfStock,
    RewardUnavailable,
    TierRequired,
)
from domain.model import PointValue, Tier

VOUCHER_CODE_LENGTH = 12  # 31^12 ~ 7.9e17 codes: unguessable, and still typeable at a till


class RewardKind(StrEnum):
    FIXED_DISCOUNT = "FIXED_DISCOUNT"
    PERCENT_DISCOUNT = "PERCENT_DISCOUNT"
    FREE_SHIPPING = "FREE_SHIPPING"
    FREE_PRODUCT = "FREE_PRODUCT"
    DONATION = "DONATION"
    EXPERIENCE = "EXPERIENCE"


class LimitPeriod(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


class RedemptionStatus(StrEnum):
    ISSUED = "ISSUED"
    USED = "USED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


@dataclass
class Partner:
    id: uuid.UUID
    program_id: uuid.UUID
    slug: str
    name: str
    created_at: datetime


@dataclass
class Reward:
    id: uuid.UUID
    program_id: uuid.UUID
    name: str
    description: str
    kind: RewardKind
    points_cost: int
    created_at: datetime
    stock: int | None = None  # remaining; None is unlimited
    value_minor: int | None = None  # FIXED_DISCOUNT, in the program's currency
    percent_off: int | None = None  # PERCENT_DISCOUNT, 1..100
    sku: str | None = None  # FREE_PRODUCT
    cause: str | None = None  # DONATION
    category: str | None = None  # discounts apply to this product category only
    min_order_minor: int | None = None  # vouchers apply to orders of at least this total
    image_url: str | None = None
    min_tier_id: uuid.UUID | None = None
    partner_id: uuid.UUID | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    early_access_tier_id: uuid.UUID | None = None
    early_access_from: datetime | None = None
    per_member_limit: int | None = None
    period_limit: int | None = None
    limit_period: LimitPeriod | None = None
    voucher_valid_days: int | None = 30
    archived: bool = False


@dataclass
class Redemption:
    id: uuid.UUID
    program_id: uuid.UUID
    member_id: uuid.UUID
    reward_id: uuid.UUID
    status: RedemptionStatus
    points_spent: int
    voucher_code: str | None
    created_at: datetime
    expires_at: datetime | None = None
    used_at: datetime | None = None
    cancelled_at: datetime | None = None
    used_by: str | None = None

    def status_at(self, now: datetime) -> RedemptionStatus:
        """ISSUED vouchers past their expiry read as EXPIRED."""
        if self.status is RedemptionStatus.ISSUED and self.expires_at and self.expires_at <= now:
            return RedemptionStatus.EXPIRED
        return self.status


@dataclass(frozen=True)
class RedemptionCounts:
    """A member's live (issued or used) redemptions of one reward: ever, and this period."""

    total: int = 0
    in_period: int = 0


def _rank(tiers: Sequence[Tier], tier_id: uuid.UUID | None) -> int:
    for tier in tiers:
        if tier.id == tier_id:
            return tier.rank
    return 0


def opens_at(reward: Reward, tiers: Sequence[Tier], member_tier: Tier | None) -> datetime | None:
    """When the reward opens for this member: early access for the tier, else the window."""
    if (
        member_tier is not None
        and reward.early_access_tier_id is not None
        and reward.early_access_from is not None
        and member_tier.rank >= _rank(tiers, reward.early_access_tier_id)
    ):
        if reward.available_from is None:
            return reward.early_access_from
        return min(reward.early_access_from, reward.available_from)
    return reward.available_from


class Unavailable(StrEnum):
    """Why a reward cannot be redeemed now, balance aside."""

    NOT_ENROLLED = "NOT_ENROLLED"
    MEMBER_BLOCKED = "MEMBER_BLOCKED"
    ARCHIVED = "ARCHIVED"
    EARLY_ACCESS_ONLY = "EARLY_ACCESS_ONLY"
    NOT_YET_AVAILABLE = "NOT_YET_AVAILABLE"
    ENDED = "ENDED"
    TIER_REQUIRED = "TIER_REQUIRED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    MEMBER_LIMIT_REACHED = "MEMBER_LIMIT_REACHED"
    PERIOD_LIMIT_REACHED = "PERIOD_LIMIT_REACHED"


@dataclass(frozen=True)
class Redeemer:
    """The member who would redeem: their tier among the program's tiers, and their counts."""

    tiers: Sequence[Tier]
    tier: Tier | None
    counts: RedemptionCounts = field(default_factory=RedemptionCounts)


def unavailable_reason(
    reward: Reward, now: datetime, redeemer: Redeemer | None = None
) -> Unavailable | None:
    """Why the reward cannot be redeemed now (balance aside), or None when it can: for a
    redeemer, with early access, tier and limits; without one, the offer itself (window, stock).
    The first rule that fails wins, in the order redeeming checks them."""
    if reward.archived:
        return Unavailable.ARCHIVED
    tiers, tier = (redeemer.tiers, redeemer.tier) if redeemer else ((), None)
    start = opens_at(reward, tiers, tier)
    if start is not None and now < start:
        early = reward.early_access_from
        if reward.early_access_tier_id is not None and early is not None and early <= now:
            return Unavailable.EARLY_ACCESS_ONLY
        return Unavailable.NOT_YET_AVAILABLE
    if reward.available_until is not None and now >= reward.available_until:
        return Unavailable.ENDED
    needed = reward.min_tier_id
    if (
        redeemer is not None
        and needed is not None
        and (tier is None or tier.rank < _rank(tiers, needed))
    ):
        return Unavailable.TIER_REQUIRED
    if reward.stock is not None and reward.stock <= 0:
        return Unavailable.OUT_OF_STOCK
    if redeemer is None:
        return None
    if reward.per_member_limit is not None and redeemer.counts.total >= reward.per_member_limit:
        return Unavailable.MEMBER_LIMIT_REACHED
    if reward.period_limit is not None and redeemer.counts.in_period >= reward.period_limit:
        return Unavailable.PERIOD_LIMIT_REACHED
    return None


def check_available(
    reward: Reward,
    tiers: Sequence[Tier],
    member_tier: Tier | None,
    counts: RedemptionCounts,
    now: datetime,
) -> None:
    """Raise why this member cannot redeem the reward now (balance aside), or return."""
    reason = unavailable_reason(reward, now, Redeemer(tiers, member_tier, counts))
    at = ("input", "rewardId")
    if reason is Unavailable.ARCHIVED:
        raise RewardUnavailable("This reward is no longer offered.", at)
    if reason is Unavailable.EARLY_ACCESS_ONLY:
        raise RewardUnavailable("This reward is open only to early access for now.", at)
    if reason is Unavailable.NOT_YET_AVAILABLE:
        raise RewardUnavailable("This reward is not available yet.", at)
    if reason is Unavailable.ENDED:
        raise RewardUnavailable("This reward is no longer available.", at)
    if reason is Unavailable.TIER_REQUIRED:
        raise TierRequired("A higher tier is needed for this reward.", at)
    if reason is Unavailable.OUT_OF_STOCK:
        raise OutOfStock("This reward is out of stock.", at)
    if reason is Unavailable.MEMBER_LIMIT_REACHED:
        raise LimitReached("You have redeemed this reward as often as allowed.")
    if reason is Unavailable.PERIOD_LIMIT_REACHED:
        raise LimitReached("You have redeemed this reward as often as allowed for now.")


def period_start(period: LimitPeriod | None, now: datetime) -> datetime:
    """Start of the current limit period in UTC (weeks start on Monday)."""
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if period is LimitPeriod.DAY:
        return day
    if period is LimitPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    if period is LimitPeriod.MONTH:
        return day.replace(day=1)
    return datetime.min.replace(tzinfo=UTC)


def new_voucher_code() -> str:
    """An unguessable voucher code from the unambiguous alphabet, e.g. `K7M2-QX9D-4HTP`."""
    raw = "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(VOUCHER_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, VOUCHER_CODE_LENGTH, 4))


def normalise_voucher_code(code: str) -> str:
    """Codes are typed at tills: ignore case, spaces and dashes."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    if len(raw) != VOUCHER_CODE_LENGTH or not set(raw) <= set(UNAMBIGUOUS_ALPHABET):
        return ""
    return "-".join(raw[i : i + 4] for i in range(0, VOUCHER_CODE_LENGTH, 4))


def voucher_expiry(reward: Reward, now: datetime) -> datetime | None:
    if reward.kind is RewardKind.DONATION or reward.voucher_valid_days is None:
        return None
    return now + timedelta(days=reward.voucher_valid_days)


def points_to_money(points: int, value: PointValue) -> int:
    """Money off for `points` at the program's point value (floor), validating bounds."""
    field = ("input", "points")
    if points <= 0:
        raise InvalidInput("points must be positive.", field)
    if points < value.min_points:
        raise InvalidInput(f"At least {value.min_points} points must be used.", field)
    if value.max_points is not None and points > value.max_points:
        raise InvalidInput(f"At most {value.max_points} points may be used per order.", field)
    return points * value.value_minor // value.points
