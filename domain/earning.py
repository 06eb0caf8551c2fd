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
MAX_MULTIPLIER = 100.0  # of a tier or a campaign


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
class LineEarning:
    """What one part of an order earned and the rules that counted for it, kept with the
    purchase so a refund of the line takes back exactly this. `sku` None: the part of the
    total that no line covers (e.g. shipping)."""

    sku: str | None
    category: str | None
    quantity: int
    unit_price_minor: int
    amount_minor: int  # paid for the whole line: its price, scaled down by an order discount
    category_permille: int  # 0: excluded
    campaign: str | None  # the campaign that counted (the best running one), if any
    campaign_permille: int
    points: int
    reasons: tuple[str, ...]

    def amount_for(self, quantity: int) -> int:
        """What `quantity` of the line's units were paid (floored share of the line)."""
        return self.amount_minor * quantity // self.quantity if self.quantity else 0


@dataclass(frozen=True)
class EarnBreakdown:
    """What an order earns and why: EARN points, a spend BONUS, the reasons (each rule that
    counted, once) and what every line earned under which rules."""

    base_points: int
    points: int
    bonus_points: int
    reasons: tuple[str, ...]
    lines: tuple[LineEarning, ...]
    rate: EarnRate  # the rules it was earned with, for refunds
    tier_permille: int
    bonus_threshold_minor: int | None

    @property
    def total(self) -> int:
        return self.points + self.bonus_points


@dataclass(frozen=True)
class RefundLine:
    """A refunded line: the shop's sku and how many units; the unit price, if given, picks
    among lines of the same sku."""

    sku: str
    quantity: int
    unit_price_minor: int | None = None


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


def line_points(amount_minor: int, rate: EarnRate, category: int, tier: int, campaign: int) -> int:
    """Points of one line: amount at the rate times its multipliers (thousandths), floored."""
    return (amount_minor * rate.points * category * tier * campaign) // (
        rate.per_amount_minor * _SCALE
    )


def qualifying_spend(lines: Sequence[LineEarning], quantities: Sequence[int]) -> int:
    """Money of the given quantities of lines that earn points (excluded lines do not count)."""
    return sum(
        line.amount_for(quantity)
        for line, quantity in zip(lines, quantities, strict=True)
        if line.category_permille > 0
    )


def _best_campaign(
    campaigns: Sequence[Campaign],
    ranks: dict[uuid.UUID, int],
    tier: Tier,
    at: datetime,
    category: str | None,
) -> Campaign | None:
    """The running campaign with the highest multiplier for this line; among equal ones the
    one that started first (then by id), so the answer never depends on the order the
    campaigns were read in (the reasons name it)."""
    best: Campaign | None = None
    for campaign in campaigns:
        min_rank = ranks.get(campaign.min_tier_id, 0) if campaign.min_tier_id else 0
        if (
            campaign.applies(at, tier.rank, min_rank, category)
            and campaign.multiplier_permille > 1000
            and (best is None or _ranking(campaign) < _ranking(best))
        ):
            best = campaign
    return best


def _ranking(campaign: Campaign) -> tuple[int, datetime, str]:
    return (-campaign.multiplier_permille, campaign.starts_at, str(campaign.id))


def _line_reasons(
    category: str | None, category_m: int, campaign: Campaign | None, tier: Tier
) -> tuple[str, ...]:
    if category_m == 0:  # excluded: nothing else counts on it
        return (f"no points on {category}",)
    reasons = []
    if category_m != 1000 and category:
        reasons.append(f"{category_m / 1000:g}x {category}")
    if campaign is not None:
        reasons.append(f"{campaign.name} {campaign.multiplier_permille / 1000:g}x")
    if tier.multiplier_permille != 1000:
        reasons.append(f"{tier.earn_multiplier:g}x {tier.name}")
    return tuple(reasons)


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
    """Points for an order, line by line: category multiplier or exclusion, the best running
    campaign and the tier multiplier, floored per line; plus the spend-threshold bonus when
    the spend that earns (not excluded) reaches it. Reasons name only what counted.

    Lines describe how the total splits over categories: if they add up to more than the
    total (a discount), each is scaled down; what they leave uncovered (e.g. shipping)
    earns at the base rate.
    """
    ranks = {t.id: t.rank for t in tiers}
    parts: list[tuple[OrderLine | None, int]] = []
    covered = sum(line.amount_minor for line in lines)
    for order_line in lines:
        amount = order_line.amount_minor
        if covered > amount_minor:
            amount = amount * amount_minor // covered
        parts.append((order_line, amount))
    if covered < amount_minor:
        parts.append((None, amount_minor - covered))
    earned: list[LineEarning] = []
    for line, amount in parts:
        category = line.category if line else None
        category_m = rules.multiplier_for(category)
        campaign = _best_campaign(campaigns, ranks, tier, at, category) if category_m else None
        campaign_m = campaign.multiplier_permille if campaign else 1000
        earned.append(
            LineEarning(
                sku=line.sku if line else None,
                category=category,
                quantity=line.quantity if line else 1,
                unit_price_minor=line.unit_price_minor if line else amount,
                amount_minor=amount,
                category_permille=category_m,
                campaign=campaign.name if campaign else None,
                campaign_permille=campaign_m,
                points=line_points(amount, rate, category_m, tier.multiplier_permille, campaign_m),
                reasons=_line_reasons(category, category_m, campaign, tier),
            )
        )
    reasons: list[str] = []
    for part in earned:
        reasons.extend(reason for reason in part.reasons if reason not in reasons)
    quantities = [part.quantity for part in earned]
    threshold = rules.bonus_threshold_minor
    bonus = 0
    if threshold is not None and qualifying_spend(earned, quantities) >= threshold:
        bonus = rules.bonus_points
    return EarnBreakdown(
        base_points=base_points(amount_minor, rate),
        points=sum(part.points for part in earned),
        bonus_points=bonus,
        reasons=tuple(reasons),
        lines=tuple(earned),
        rate=rate,
        tier_permille=tier.multiplier_permille,
        bonus_threshold_minor=threshold,
    )


def earned_with(order: EarnBreakdown, quantities: Sequence[int]) -> int:
    """What the order earns with only `quantities` of its lines left, under the rules it was
    credited with (its campaign, tier multiplier and bonus, not today's)."""
    points = sum(
        line_points(
            line.amount_for(quantity),
            order.rate,
            line.category_permille,
            order.tier_permille,
            line.campaign_permille,
        )
        for line, quantity in zip(order.lines, quantities, strict=True)
    )
    threshold = order.bonus_threshold_minor
    keeps_bonus = threshold is not None and qualifying_spend(order.lines, quantities) >= threshold
    return points + (order.bonus_points if keeps_bonus else 0)


def kept_points(order: EarnBreakdown, quantities: Sequence[int], proportional_minor: int) -> int:
    """Points an order keeps with `quantities` of its lines left and `proportional_minor`
    refunded without naming lines (that money takes its share of what the lines earn)."""
    earned = earned_with(order, quantities)
    money = sum(line.amount_for(q) for line, q in zip(order.lines, quantities, strict=True))
    if money <= 0:
        return earned
    return earned - earned * min(proportional_minor, money) // money


def refund_reversal(earned: int, amount_minor: int, refunded_before: int, refunding: int) -> int:
    """Points to take back for a refund of an order kept without its lines: proportional to
    the money refunded so far, never more than was earned in all (repeated partial refunds
    add up exactly)."""
    total_refunded = min(amount_minor, refunded_before + refunding)
    target = earned * total_refunded // amount_minor
    already = earned * min(amount_minor, refunded_before) // amount_minor
    return max(0, target - already)
