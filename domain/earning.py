"""How purchases turn into points. Integer arithmetic only: floor, never round up."""

from __future__ import annotations

from domain.errors import InvalidInput
from domain.model import EarnRate

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
