"""How purchases turn into points. Integer arithmetic only: floor, never round up."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidInput
from domain.model import EarnRate, EarnRules, Tier

MAX_RATE_POINTS = 1_000_000
MAX_RATE_PER_AMOUNT = 1_000_000_000


def validate_earn_rate(points: int, per_amount_minor: int, field: tuple[str, ...]) -> EarnRate:
    """An earn rate: 0..1,000,000 points per a positive amount of minor units."""
    if not 0 <= points <= MAX_RATE_POINTS:
        raise InvalidInput(f"points must be between 0 and {MAX_RATE_POINTS}.", (*field, "points"))
    if not 0 < per_amount_minor <= MAX_RATE_PER_AMOUNT:
        raise InvalidInput(
            f"perAmountMinor must be between 1 and {MAX_RATE_PER_AMOUNT}.",
            (*field, "perAmountMinor"),
        )
    return EarnRate(points=points, per_amount_minor=per_amount_minor)


def base_points(amount_minor: int, rate: EarnRate) -> int:
    """floor(amountMinor * points / perAmountMinor): what a spend earns before multipliers."""
    if amount_minor <= 0:
        return 0
    return amount_minor * rate.points // rate.per_amount_minor


def apply_multiplier(points: int, multiplier_permille: int) -> int:
    """Scale points by a multiplier stored in thousandths, flooring the result."""
    return points * multiplier_permille // 1000


def purchase_points(amount_minor: int, rate: EarnRate, tier_multiplier_permille: int = 1000) -> int:
    """Points for a purchase at the program rate and the member's tier multiplier."""
    return apply_multiplier(base_points(amount_minor, rate), tier_multiplier_permille)


@dataclass(frozen=True)
class OrderLine:
    sku: str
    category: str | None
    quantity: int
    unit_price_minor: int

    @property
    def amount_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True)
class Campaign:
    """Extra points for a time window: [starts_at, ends_at), optional tier and categories."""

    id: uuid.UUID
    program_id: uuid.UUID
    name: str
    starts_at: datetime
    ends_at: datetime
    multiplier_permille: int
    min_tier_id: uuid.UUID | None = None
    categories: tuple[str, ...] = ()

    def applies(self, at: datetime, tier_rank: int, min_rank: int, category: str | None) -> bool:
        if not self.starts_at <= at < self.ends_at or tier_rank < min_rank:
            return False
        return not self.categories or (category or "").casefold() in self.categories


@dataclass(frozen=True)
class EarnBreakdown:
    """What an order earns and why: EARN points, a spend BONUS, and the reasons."""

    base_points: int
    points: int
    bonus_points: int
    reasons: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.points + self.bonus_points


MAX_LINES = 200
_SCALE = 1000 * 1000 * 1000  # category x tier x campaign, each in thousandths


def validate_lines(lines: Sequence[OrderLine], field: tuple[str, ...]) -> tuple[OrderLine, ...]:
    """Order lines: at most 200, positive quantities, non-negative prices, sane sizes."""
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"At most {MAX_LINES} order lines.", field)
    for index, line in enumerate(lines):
        at = (*field, str(index))
        if not 0 < line.quantity <= 100_000:
            raise InvalidInput("quantity must be 1 to 100,000.", (*at, "quantity"))
        if not 0 <= line.unit_price_minor <= 1_000_000_000:
            raise InvalidInput(
                "unitPriceMinor must be 0 to 1,000,000,000.", (*at, "unitPriceMinor")
            )
        if not line.sku.strip() or len(line.sku) > 80:
            raise InvalidInput("sku must be 1 to 80 characters.", (*at, "sku"))
        if line.category is not None and len(line.category) > 80:
            raise InvalidInput("category must be at most 80 characters.", (*at, "category"))
    return tuple(lines)


def compute_earn(
    amount_minor: int,
    lines: Sequence[OrderLine],
    rate: EarnRate,
    rules: EarnRules,
    tier: Tier,
    tiers: Sequence[Tier],
    campaigns: Sequence[Campaign],
    at: datetime,
) -> EarnBreakdown:
    """Points for an order: per line (category multiplier or exclusion, best campaign),
    times the tier multiplier, floored once at the end; plus the spend-threshold bonus.

    Lines describe how the total splits over categories: if they add up to more than the
    total (a discount), each is scaled down; what they leave uncovered (e.g. shipping)
    earns at the base rate.
    """
    ranks = {t.id: t.rank for t in tiers}
    parts: list[tuple[int, str | None]] = []  # (amount, category)
    covered = sum(line.amount_minor for line in lines)
    for line in lines:
        amount = line.amount_minor
        if covered > amount_minor:
            amount = amount * amount_minor // covered
        parts.append((amount, line.category))
    if covered < amount_minor:
        parts.append((amount_minor - covered, None))
    reasons: list[str] = []
    numerator = 0
    for amount, category in parts:
        category_m = rules.multiplier_for(category)
        campaign_m = 1000
        for campaign in campaigns:
            min_rank = ranks.get(campaign.min_tier_id, 0) if campaign.min_tier_id else 0
            if campaign.applies(at, tier.rank, min_rank, category):
                if campaign.multiplier_permille > campaign_m:
                    campaign_m = campaign.multiplier_permille
                reason = f"{campaign.name} {campaign.multiplier_permille / 1000:g}x"
                if reason not in reasons:
                    reasons.append(reason)
        if category_m != 1000 and category:
            note = (
                f"no points on {category}"
                if category_m == 0
                else f"{category_m / 1000:g}x {category}"
            )
            if note not in reasons:
                reasons.append(note)
        numerator += amount * rate.points * category_m * tier.multiplier_permille * campaign_m
    points = numerator // (rate.per_amount_minor * _SCALE)
    if tier.multiplier_permille != 1000:
        reasons.append(f"{tier.earn_multiplier:g}x {tier.name}")
    bonus = 0
    if rules.bonus_threshold_minor is not None and amount_minor >= rules.bonus_threshold_minor:
        bonus = rules.bonus_points
    return EarnBreakdown(
        base_points=base_points(amount_minor, rate),
        points=points,
        bonus_points=bonus,
        reasons=tuple(reasons),
    )


def refund_reversal(earned: int, amount_minor: int, refunded_before: int, refunding: int) -> int:
    """Points to take back for a refund: proportional to the money refunded so far, never
    more than was earned in all (repeated partial refunds add up exactly)."""
    total_refunded = min(amount_minor, refunded_before + refunding)
    target = earned * total_refunded // amount_minor
    already = earned * min(amount_minor, refunded_before) // amount_minor
    return max(0, target - already)
