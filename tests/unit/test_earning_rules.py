"""Earning rules and refunds without a database, with a property test of refund sequences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.earning import (
    Campaign,
    OrderLine,
    compute_earn,
    earned_with,
    kept_points,
    refund_reversal,
)
from domain.model import EarnRate, EarnRules, Tier, new_id

P = new_id()
BASE, SILVER = Tier(new_id(), P, "Member", 0, 0, 1000), Tier(new_id(), P, "Silver", 1, 1000, 1500)
RATE = EarnRate(10, 100)
RULES = EarnRules((("gift-cards", 0), ("shoes", 2000)), 10_000, 50)
START = datetime(2026, 11, 27, tzinfo=UTC)
FRIDAY = Campaign(new_id(), P, "Black Friday", START, START + timedelta(days=1), 2000, SILVER.id)


def earn(amount: int, lines: list[OrderLine], tier: Tier, at: datetime) -> int:
    return compute_earn(amount, lines, RATE, RULES, tier, [BASE, SILVER], [FRIDAY], at).total


@pytest.mark.parametrize(
    ("at", "tier", "expected"),
    [
        (START - timedelta(microseconds=1), SILVER, 150),  # before: 1.5x tier only
        (START, SILVER, 300),  # first instant: campaign 2x on top
        (START + timedelta(days=1) - timedelta(microseconds=1), SILVER, 300),
        (START + timedelta(days=1), SILVER, 150),  # end is exclusive
        (START, BASE, 100),  # below the campaign's minimum tier
    ],
)
def test_campaign_window_edges_and_minimum_tier(at: datetime, tier: Tier, expected: int) -> None:
    assert earn(1000, [], tier, at) == expected


def test_exclusions_multipliers_and_bonus_threshold() -> None:
    lines = [OrderLine("a", "Shoes", 1, 5000), OrderLine("b", "gift-cards", 1, 5000)]
    # shoes 500 x2 = 1000, gift cards 0; only the 50.00 of shoes count towards the bonus
    assert earn(10_000, lines, BASE, START - timedelta(days=5)) == 1000
    assert earn(15_000, [*lines, OrderLine("c", None, 1, 5000)], BASE, START) == 1550
    assert earn(9_999, [OrderLine("a", None, 1, 9_999)], BASE, START - timedelta(days=5)) == 999


@given(
    earned=st.integers(0, 100_000),
    amount=st.integers(1, 1_000_000),
    cuts=st.lists(st.integers(1, 1_000_000), max_size=10),
)
def test_repeated_partial_refunds_never_reverse_more_than_earned(
    earned: int, amount: int, cuts: list[int]
) -> None:
    refunded = reversed_total = 0
    for cut in cuts:
        cut = min(cut, amount - refunded)
        if cut <= 0:
            break
        step = refund_reversal(earned, amount, refunded, cut)
        assert step >= 0
        refunded += cut
        reversed_total += step
        assert reversed_total == earned * refunded // amount  # proportional, exactly
    assert reversed_total <= earned
    if refunded == amount:
        assert reversed_total == earned


def test_lines_keep_what_they_earned_and_refunds_reprice_what_is_left() -> None:
    # given shoes (2x, Silver 1.5x, Black Friday 2x), a gift card (0x) and shipping
    lines = [OrderLine("s", "shoes", 3, 2000), OrderLine("g", "gift-cards", 1, 5000)]
    order = compute_earn(11_500, lines, RATE, RULES, SILVER, [BASE, SILVER], [FRIDAY], START)
    shoes, gift, shipping = order.lines
    assert (shoes.points, gift.points, shipping.points) == (1200 * 3, 0, 150)
    assert (shoes.campaign, gift.campaign) == ("Black Friday", None)
    assert gift.reasons == ("no points on gift-cards",)
    assert order.bonus_points == 0  # 65.00 of spend earns: under the 100.00 threshold
    # when lines are refunded, the order keeps what is left under its own rules
    assert kept_points(order, [3, 1, 1], 0) == order.total
    assert kept_points(order, [3, 0, 1], 0) == order.total  # the gift card earned nothing
    assert kept_points(order, [1, 1, 1], 0) == 1200 + 150
    assert kept_points(order, [0, 0, 1], 500) == 0  # shipping refunded as an amount
    assert kept_points(order, [1, 1, 1], 500) == 1350 - 1350 * 500 // 7500


def test_a_refund_under_the_threshold_takes_the_bonus() -> None:
    order = compute_earn(
        12_000, [OrderLine("s", None, 2, 6000)], RATE, RULES, BASE, [BASE], [], START
    )
    assert order.total == 1200 + 50
    assert earned_with(order, [2]) == 1250
    assert earned_with(order, [1]) == 600


@given(
    quantities=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    prices=st.lists(st.integers(0, 9999), min_size=4, max_size=4),
    cuts=st.lists(st.integers(0, 3), max_size=8),
)
def test_line_refunds_never_take_back_more_than_the_line_earned(
    quantities: list[int], prices: list[int], cuts: list[int]
) -> None:
    categories = ["shoes", "gift-cards", None, "x"]
    lines = [OrderLine(f"l{i}", categories[i], q, prices[i]) for i, q in enumerate(quantities)]
    amount = sum(line.amount_minor for line in lines) or 1
    order = compute_earn(amount, lines, RATE, RULES, SILVER, [BASE, SILVER], [FRIDAY], START)
    left = [line.quantity for line in order.lines]
    kept = order.total
    for cut in cuts:
        index = cut % len(left)
        left[index] = max(0, left[index] - 1)
        now = kept_points(order, left, 0)
        assert 0 <= now <= kept  # each refund takes back something or nothing, never adds
        kept = now
    if not any(left[: len(lines)]):
        assert kept == 0  # every line refunded: nothing is kept (no shipping here earns)


def test_the_best_campaign_among_equals_does_not_depend_on_the_order_read() -> None:
    # given two running campaigns with the same multiplier, the earlier one started first
    first = Campaign(
        new_id(), P, "Early", START - timedelta(days=2), START + timedelta(days=1), 2000
    )
    second = Campaign(
        new_id(), P, "Late", START - timedelta(days=1), START + timedelta(days=1), 2000
    )
    for read in ([first, second], [second, first]):
        # when an order is priced with them read in either order
        order = compute_earn(1000, [], RATE, RULES, SILVER, [BASE, SILVER], read, START)
        # then the same one counts and is named
        assert [line.campaign for line in order.lines] == ["Early"]
