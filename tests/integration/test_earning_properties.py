"""Property test of earning and refunds through the domain use cases, on both databases.

For any sequence of purchases (random lines in multiplied, excluded and plain categories,
shipping that no line covers, campaigns running or not, the tier multiplier the member has
at the time) and refunds (by line or by amount, partial or full), the member's points and
tier at the end are what the rules give for what remains of the orders: each order's
remaining lines priced again with `compute_earn` under the rules of its purchase (its tier,
its campaigns, its time), less the share of any amount refunded without lines. Every
breakdown names exactly the rules that changed the points.

`LOYALTY_EARNING_EXAMPLES=500 pytest tests/integration/test_earning_properties.py` runs it
longer by hand.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.runtime import Runtime
from domain import tiers
from domain.earning import Campaign, EarnBreakdown, OrderLine, RefundLine, compute_earn
from domain.errors import InvalidInput
from domain.model import EarnRate, EarnRules, Principal, Role, Tier
from domain.services import campaigns, members, programs, purchases, refunds
from tests.support import MovableClock, unique_slug

EXAMPLES = int(os.environ.get("LOYALTY_EARNING_EXAMPLES", "100"))
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)  # mid-period: one qualifying year throughout
RATE = EarnRate(10, 100)
RULES = EarnRules((("shoes", 2000), ("bags", 1500), ("gift-cards", 0)), 5000, 50)
CATEGORIES = ["shoes", "bags", "gift-cards", "gift-cards", "tops", None]
TIERS = (("Silver", 800, 1.25), ("Gold", 3000, 1.5))


@dataclass
class Order:
    """The model of one purchase: its lines, what of them is left, and its rules."""

    order_id: str
    lines: list[OrderLine]
    shipping: int
    tier: Tier
    left: list[int] = field(default_factory=list)
    proportional: int = 0  # money refunded without naming lines

    def __post_init__(self) -> None:
        self.left = [line.quantity for line in self.lines]

    @property
    def total(self) -> int:
        return self.shipping + sum(line.amount_minor for line in self.lines)

    def remaining_money(self) -> int:
        """The money of the order that is left by line (before amounts refunded without lines)."""
        return self.shipping + sum(
            n * line.unit_price_minor for line, n in zip(self.lines, self.left, strict=True)
        )

    def money_left(self) -> int:
        return self.remaining_money() - self.proportional


campaign_strategy = st.fixed_dictionaries(
    {
        "multiplier": st.sampled_from([1.5, 2.0, 3.0]),
        "min_tier": st.sampled_from([None, "Silver", "Gold"]),
        "categories": st.sampled_from([(), ("shoes",), ("bags", "tops")]),
        "running": st.booleans(),
    }
)
line_strategy = st.tuples(st.sampled_from(CATEGORIES), st.integers(1, 3), st.integers(1, 6000))
purchase_strategy = st.tuples(
    st.just("buy"),
    st.lists(line_strategy, max_size=4),
    st.sampled_from([0, 0, 490, 1000]),  # shipping no line covers
)
refund_lines_strategy = st.tuples(st.just("lines"), st.integers(0, 99), st.integers(1, 15))
refund_amount_strategy = st.tuples(
    st.just("amount"), st.integers(0, 99), st.sampled_from([10, 33, 50, 100, 100])
)
operations = st.lists(
    st.one_of(purchase_strategy, refund_lines_strategy, refund_amount_strategy),
    min_size=1,
    max_size=12,
)


def applied(breakdown_line_reasons: tuple[str, ...]) -> Fraction:
    """The product of the multipliers a line's reasons name ('no points on x' is 0)."""
    product = Fraction(1)
    for reason in breakdown_line_reasons:
        if reason.startswith("no points on "):
            return Fraction(0)
        found = re.search(r"(\d+(?:\.\d+)?)x", reason)
        assert found, reason
        product *= Fraction(found.group(1))
    return product


def expected_reasons(
    order: Order, tier: Tier, all_tiers: list[Tier], running: list[Campaign]
) -> list[str]:
    """What counted on each part, as the rules say, in order and once each."""
    ranks = {t.id: t.rank for t in all_tiers}
    reasons: list[str] = []
    parts = [(line.category, line.amount_minor) for line in order.lines]
    if order.shipping:
        parts.append((None, order.shipping))
    for category, _ in parts:
        multiplier = RULES.multiplier_for(category)
        if multiplier == 0:
            names = [f"no points on {category}"]
        else:
            names = [f"{multiplier / 1000:g}x {category}"] if multiplier != 1000 else []
            candidates = [
                c
                for c in running
                if ranks[c.min_tier_id or all_tiers[0].id] <= tier.rank
                and (not c.categories or (category or "") in c.categories)
            ]
            if candidates:
                # the highest multiplier; among equals the earliest start, then the lowest id
                best = min(
                    candidates, key=lambda c: (-c.multiplier_permille, c.starts_at, str(c.id))
                )
                names.append(f"{best.name} {best.multiplier_permille / 1000:g}x")
            if tier.multiplier_permille != 1000:
                names.append(f"{tier.earn_multiplier:g}x {tier.name}")
        reasons.extend(name for name in names if name not in reasons)
    return reasons


def check_breakdown(breakdown: EarnBreakdown, order: Order, expected: list[str]) -> None:
    """Reasons name what counted; the bonus counts only the spend that earns."""
    assert list(breakdown.reasons) == expected, (breakdown.reasons, expected)
    earning = order.shipping + sum(
        line.amount_minor for line in order.lines if RULES.multiplier_for(line.category) > 0
    )
    assert RULES.bonus_threshold_minor is not None
    bonus = RULES.bonus_points if earning >= RULES.bonus_threshold_minor else 0
    assert breakdown.bonus_points == bonus, (breakdown.bonus_points, earning)
    for line in breakdown.lines:
        exact = Fraction(line.amount_minor * RATE.points, RATE.per_amount_minor)
        assert line.points == int(exact * applied(line.reasons)), line


def kept(order: Order, all_tiers: list[Tier], campaigns: list[Campaign]) -> int:
    """What an order keeps: its remaining lines priced by the rules of its purchase, less
    the share of the money refunded without lines."""
    lines = [
        OrderLine(line.sku, line.category, n, line.unit_price_minor)
        for line, n in zip(order.lines, order.left, strict=True)
        if n
    ]
    money = order.remaining_money()
    earned = compute_earn(money, lines, RATE, RULES, order.tier, all_tiers, campaigns, NOW).total
    return earned - earned * order.proportional // money if money else earned


class Scenario:
    """One member in a program of their own, driven through the use cases."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.slug = unique_slug("prop")
        self.admin = Principal(role=Role.ADMIN, program_slug=self.slug, subject="admin")

    async def setup(self, campaign_specs: list[dict]) -> None:  # type: ignore[type-arg]
        clock = self.runtime.clock
        async with self.runtime.uow() as uow:
            await programs.create_program(
                uow, clock, slug=self.slug, name="Properties", currency="EUR"
            )
        async with self.runtime.uow() as uow:
            await programs.update_program(
                uow, self.admin, programs.ProgramChanges(earn_rules=RULES)
            )
        for name, threshold, multiplier in TIERS:
            async with self.runtime.uow() as uow:
                await programs.create_tier(
                    uow,
                    self.runtime.clock,
                    self.admin,
                    programs.NewTier(name, threshold, multiplier),
                )
        async with self.runtime.reader() as uow:
            program = await uow.programs.get_by_slug(self.slug)
            assert program is not None
            self.tiers = await uow.tiers.all(program.id)
        by_name = {tier.name: tier for tier in self.tiers}
        self.running: list[Campaign] = []
        for index, spec in enumerate(campaign_specs):
            start = NOW - timedelta(days=1) if spec["running"] else NOW - timedelta(days=5)
            command = campaigns.NewCampaign(
                name=f"Campaign {index}",
                starts_at=start,
                ends_at=start + timedelta(days=2),
                multiplier=spec["multiplier"],
                min_tier_id=by_name[spec["min_tier"]].id if spec["min_tier"] else None,
                categories=spec["categories"],
            )
            async with self.runtime.uow() as uow:
                campaign = await campaigns.create_campaign(
                    uow, self.runtime.clock, self.admin, command
                )
            if spec["running"]:
                self.running.append(campaign)
        member = Principal(role=Role.MEMBER, program_slug=self.slug, subject="m")
        async with self.runtime.uow() as uow:
            self.member = await members.enroll(uow, clock, member, members.Enrollment())

    async def buy(self, order: Order) -> purchases.PurchaseResult:
        command = purchases.RecordPurchase(
            self.member.id, order.order_id, order.total, "EUR", lines=tuple(order.lines)
        )
        async with self.runtime.uow() as uow:
            return await purchases.record_purchase(uow, self.runtime.clock, self.admin, command)

    async def refund(
        self, order: Order, amount: int | None, lines: tuple[RefundLine, ...] = ()
    ) -> refunds.RefundResult:
        command = refunds.RefundPurchase(
            order.order_id, amount, "EUR", uuid.uuid4().hex, lines=lines
        )
        async with self.runtime.uow() as uow:
            return await refunds.refund_purchase(uow, self.runtime.clock, self.admin, command)

    async def standing(self) -> tuple[int, uuid.UUID]:
        async with self.runtime.reader() as uow:
            wallet = await uow.ledger.wallet(self.member.program_id, self.member.id)
            member = await uow.members.get(self.member.program_id, self.member.id)
        assert wallet is not None and member is not None
        return wallet.balance, member.tier_id


@pytest.mark.asyncio
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(campaign_specs=st.lists(campaign_strategy, max_size=3), steps=operations)
async def test_points_and_tier_are_what_the_remaining_orders_earn(
    runtime: Runtime,
    campaign_specs: list[dict],  # type: ignore[type-arg]
    steps: list[tuple],  # type: ignore[type-arg]
) -> None:
    clock = runtime.clock
    assert isinstance(clock, MovableClock)
    clock.freeze(NOW)
    scenario = Scenario(runtime)
    await scenario.setup(campaign_specs)
    all_tiers, everything = scenario.tiers, []
    async with runtime.reader() as uow:
        everything = await uow.purchases.campaigns(scenario.member.program_id, NOW)
    orders: list[Order] = []
    tier = all_tiers[0]

    def qualifying() -> int:
        return sum(kept(order, all_tiers, everything) for order in orders)

    for step in steps:
        if step[0] == "buy":
            _, specs, shipping = step
            lines = [
                OrderLine(f"sku-{i}", category, quantity, price)
                for i, (category, quantity, price) in enumerate(specs)
            ]
            if not lines and not shipping:
                shipping = 1500
            order = Order(f"o-{len(orders)}", lines, shipping, tier)
            result = await scenario.buy(order)
            orders.append(order)
            assert result.breakdown is not None
            assert result.points_earned == kept(order, all_tiers, everything)
            check_breakdown(
                result.breakdown, order, expected_reasons(order, tier, all_tiers, scenario.running)
            )
            reached = tiers.tier_for_points(all_tiers, qualifying())
            tier = reached if reached.rank > tier.rank else tier
            continue
        open_orders = [order for order in orders if order.money_left() > 0]
        if not open_orders:
            continue
        order = open_orders[step[1] % len(open_orders)]
        if step[0] == "amount":
            money = max(1, order.money_left() * step[2] // 100)
            await scenario.refund(order, money)
            order.proportional += money
        else:
            wanted: list[RefundLine] = []
            pick = step[2]
            for index, line in enumerate(order.lines):
                if order.left[index] and pick & (1 << (index % 4)):
                    quantity = 1 + (pick + index) % order.left[index]
                    wanted.append(RefundLine(line.sku, quantity))
            if not wanted:
                continue
            money = sum(
                r.quantity * next(x.unit_price_minor for x in order.lines if x.sku == r.sku)
                for r in wanted
            )
            if money > order.money_left():
                with pytest.raises(InvalidInput):
                    await scenario.refund(order, None, tuple(wanted))
                continue
            await scenario.refund(order, None, tuple(wanted))
            for refund_line in wanted:
                index = next(i for i, x in enumerate(order.lines) if x.sku == refund_line.sku)
                order.left[index] -= refund_line.quantity
        # a refund gives up what the remaining orders no longer reach (one period: no floor)
        reached = tiers.tier_for_points(all_tiers, qualifying())
        tier = reached if reached.rank < tier.rank else tier
    balance, tier_id = await scenario.standing()
    assert balance == qualifying()
    assert tier_id == tier.id, (tier.name, [t.name for t in all_tiers if t.id == tier_id])
