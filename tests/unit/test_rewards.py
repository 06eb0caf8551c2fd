"""Reward rules without a database: windows, early access, tiers, limits, codes, point value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.cards import UNAMBIGUOUS_ALPHABET
from domain.errors import (
    DomainError,
    InvalidInput,
    LimitReached,
    OutOfStock,
    RewardUnavailable,
    TierRequired,
)
from domain.model import PointValue, Tier, new_id
from domain.rewards import (
    LimitPeriod,
    Redeemer,
    RedemptionCounts,
    Reward,
    RewardKind,
    Unavailable,
    check_available,
    new_voucher_code,
    normalise_voucher_code,
    period_start,
    points_to_money,
    unavailable_reason,
)

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)  # a Friday


def is_available(
    reward: Reward, tiers: list[Tier], tier: Tier | None, counts: RedemptionCounts, now: datetime
) -> bool:
    """Whether `check_available`, the check redeeming runs, lets the redemption through."""
    try:
        check_available(reward, tiers, tier, counts, now)
    except DomainError:
        return False
    return True


def is_offered(reward: Reward, now: datetime) -> bool:
    """Whether the catalog shows the reward as on offer (no reason it is unavailable)."""
    return unavailable_reason(reward, now) is None


PROGRAM = new_id()
TIERS = [
    Tier(new_id(), PROGRAM, "Member", 0, 0, 1000),
    Tier(new_id(), PROGRAM, "Silver", 1, 1000, 1000),
    Tier(new_id(), PROGRAM, "Gold", 2, 5000, 1000),
]
MEMBER, SILVER, GOLD = TIERS


def reward(**fields: object) -> Reward:
    values: dict[str, object] = {
        "id": new_id(),
        "program_id": PROGRAM,
        "name": "R",
        "description": "",
        "kind": RewardKind.FREE_SHIPPING,
        "points_cost": 100,
        "created_at": NOW,
    }
    values.update(fields)
    return Reward(**values)  # type: ignore[arg-type]


def test_window_edges_start_inclusive_end_exclusive() -> None:
    r = reward(available_from=NOW, available_until=NOW + timedelta(days=1))
    assert is_available(r, TIERS, MEMBER, RedemptionCounts(), NOW)
    assert not is_available(r, TIERS, MEMBER, RedemptionCounts(), NOW - timedelta(microseconds=1))
    assert not is_available(r, TIERS, MEMBER, RedemptionCounts(), NOW + timedelta(days=1))


def test_early_access_opens_earlier_for_the_tier_and_above_only() -> None:
    r = reward(
        available_from=NOW + timedelta(days=2),
        early_access_tier_id=SILVER.id,
        early_access_from=NOW - timedelta(hours=1),
    )
    assert not is_available(r, TIERS, MEMBER, RedemptionCounts(), NOW)
    assert is_available(r, TIERS, SILVER, RedemptionCounts(), NOW)
    assert is_available(r, TIERS, GOLD, RedemptionCounts(), NOW)


@pytest.mark.parametrize(
    ("fields", "counts", "tier", "error"),
    [
        ({"archived": True}, RedemptionCounts(), GOLD, RewardUnavailable),
        ({"min_tier_id": GOLD.id}, RedemptionCounts(), SILVER, TierRequired),
        ({"stock": 0}, RedemptionCounts(), GOLD, OutOfStock),
        ({"per_member_limit": 2}, RedemptionCounts(total=2), GOLD, LimitReached),
        (
            {"period_limit": 1, "limit_period": LimitPeriod.DAY},
            RedemptionCounts(total=5, in_period=1),
            GOLD,
            LimitReached,
        ),
    ],
)
def test_each_reason_is_reported_with_its_code(
    fields: dict, counts: RedemptionCounts, tier: Tier, error: type
) -> None:
    with pytest.raises(error):
        check_available(reward(**fields), TIERS, tier, counts, NOW)


EARLY = {
    "available_from": NOW + timedelta(days=2),
    "early_access_tier_id": SILVER.id,
    "early_access_from": NOW - timedelta(hours=1),
}


@pytest.mark.parametrize(
    ("fields", "counts", "tier", "reason", "error"),
    [
        ({}, RedemptionCounts(), MEMBER, None, None),
        ({"archived": True, "stock": 0}, RedemptionCounts(), GOLD, "ARCHIVED", RewardUnavailable),
        (EARLY, RedemptionCounts(), MEMBER, "EARLY_ACCESS_ONLY", RewardUnavailable),
        (
            {**EARLY, "early_access_from": NOW + timedelta(hours=1)},
            RedemptionCounts(),
            SILVER,
            "NOT_YET_AVAILABLE",
            RewardUnavailable,
        ),
        ({"available_until": NOW}, RedemptionCounts(), GOLD, "ENDED", RewardUnavailable),
        (
            {"min_tier_id": GOLD.id, "stock": 0},
            RedemptionCounts(),
            SILVER,
            "TIER_REQUIRED",
            TierRequired,
        ),
        (
            {"stock": 0, "per_member_limit": 1},
            RedemptionCounts(total=1),
            GOLD,
            "OUT_OF_STOCK",
            OutOfStock,
        ),
        (
            {"per_member_limit": 2},
            RedemptionCounts(total=2),
            GOLD,
            "MEMBER_LIMIT_REACHED",
            LimitReached,
        ),
        (
            {"period_limit": 1, "limit_period": LimitPeriod.DAY},
            RedemptionCounts(total=5, in_period=1),
            GOLD,
            "PERIOD_LIMIT_REACHED",
            LimitReached,
        ),
    ],
)
def test_the_unavailable_reason_is_the_rule_redeeming_refuses_with(
    fields: dict, counts: RedemptionCounts, tier: Tier, reason: str | None, error: type | None
) -> None:
    # given a reward that fails one rule (the first, when it fails several)
    r = reward(**fields)
    # then the reason names it, `available` agrees, and redeeming raises that rule's error
    assert unavailable_reason(r, NOW, Redeemer(TIERS, tier, counts)) == (
        Unavailable(reason) if reason else None
    )
    assert is_available(r, TIERS, tier, counts, NOW) is (reason is None)
    if error is None:
        check_available(r, TIERS, tier, counts, NOW)
    else:
        with pytest.raises(error):
            check_available(r, TIERS, tier, counts, NOW)


def test_without_a_redeemer_only_the_offer_counts() -> None:
    # tier, early access and limits are the member's; staff see window and stock only
    assert unavailable_reason(reward(min_tier_id=GOLD.id, per_member_limit=1), NOW) is None
    assert unavailable_reason(reward(**EARLY), NOW) is Unavailable.EARLY_ACCESS_ONLY
    assert unavailable_reason(reward(stock=0), NOW) is Unavailable.OUT_OF_STOCK
    assert is_offered(reward(min_tier_id=GOLD.id), NOW)
    assert not is_offered(reward(available_until=NOW), NOW)


def test_limit_periods_start_at_day_monday_and_first_of_month() -> None:
    assert period_start(LimitPeriod.DAY, NOW) == datetime(2026, 11, 27, tzinfo=UTC)
    assert period_start(LimitPeriod.WEEK, NOW) == datetime(2026, 11, 23, tzinfo=UTC)
    assert period_start(LimitPeriod.MONTH, NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    assert period_start(None, NOW) < datetime(1, 1, 2, tzinfo=UTC)


def test_voucher_codes_are_unambiguous_and_normalised_from_what_tills_type() -> None:
    codes = {new_voucher_code() for _ in range(1000)}
    assert len(codes) == 1000
    for code in list(codes)[:50]:
        raw = code.replace("-", "")
        assert len(raw) == 12 and set(raw) <= set(UNAMBIGUOUS_ALPHABET)
        assert normalise_voucher_code(f"  {raw.lower()} ") == code
    assert normalise_voucher_code("O0O0-I1I1-LLLL") == ""
    assert normalise_voucher_code("short") == ""


def test_points_to_money_floors_and_enforces_bounds() -> None:
    value = PointValue(points=100, value_minor=50, min_points=100, max_points=1000)
    assert points_to_money(100, value) == 50
    assert points_to_money(199, value) == 99
    for points in (0, -1, 99, 1001):
        with pytest.raises(InvalidInput) as raised:
            points_to_money(points, value)
        assert raised.value.field == ("input", "points")
