"""The full earning rules, previews, refunds and pending points through GraphQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.ids import decode
from tests.support import Api, MovableClock, ledger_totals

PURCHASE = """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
  pointsEarned breakdown { basePoints points bonusPoints total reasons }
  wallet { balance pending } errors { code field message } } }"""
PREVIEW = """mutation($i: PreviewEarnInput!) { previewEarn(input: $i) {
  pointsEarned breakdown { points bonusPoints reasons } errors { code field } } }"""
REFUND = """mutation($i: RefundPurchaseInput!) { refundPurchase(input: $i) {
  pointsReversed wallet { balance pending } errors { code field message } } }"""
RULES = """mutation { updateProgram(input: {
  earnRules: {categoryMultipliers: [{category: "Shoes", multiplier: 2}, {category: "gift-cards",
  multiplier: 0}], bonusThresholdMinor: 10000, bonusPoints: 100} }) { errors { code field } } }"""


def order(member_id: str, order_id: str, total: int, lines: list | None = None) -> dict:
    value = {
        "memberId": member_id,
        "orderId": order_id,
        "total": {"amountMinor": total, "currency": "EUR"},
    }
    if lines is not None:
        value["lines"] = lines
    return {"i": value}


def line(sku: str, category: str | None, price: int, quantity: int = 1) -> dict:
    return {"sku": sku, "category": category, "unitPriceMinor": price, "quantity": quantity}


@pytest.mark.asyncio
async def test_categories_exclusions_and_spend_bonus(api: Api) -> None:
    # given 2x on shoes, nothing on gift cards, +100 from 100.00
    assert (await api.ok(RULES, token=api.admin()))["updateProgram"]["errors"] == []
    member = await api.enroll("alice")
    lines = [
        line("sneaker", "shoes", 9000),
        line("card", "Gift-Cards", 5000),
        line("sock", None, 500, 2),
    ]
    data = await api.ok(PURCHASE, order(member["id"], "o-1", 15_000, lines), api.admin())
    result = data["recordPurchase"]
    # 90.00 shoes at 2x = 1800, gift card 0, socks 10.00 = 100; the 100.00 of spend that
    # earns (not the gift card) reaches the bonus
    assert result["breakdown"] == {
        "basePoints": 1500,
        "points": 1900,
        "bonusPoints": 100,
        "total": 2000,
        "reasons": ["2x shoes", "no points on Gift-Cards"],
    }
    assert result["wallet"]["balance"] == 2000
    history = await api.ok(
        "{ me { wallet { history(first: 2) { edges { node { kind points description } } } } } }",
        token=api.member("alice"),
    )
    kinds = [e["node"]["kind"] for e in history["me"]["wallet"]["history"]["edges"]]
    assert kinds == ["BONUS", "EARN"]


@pytest.mark.asyncio
async def test_discounted_lines_scale_down_and_uncovered_amounts_earn_base(api: Api) -> None:
    await api.ok(RULES, token=api.admin())
    member = await api.enroll("bob")
    # lines add up to 100.00 but 80.00 was paid: each line scaled by 0.8
    result = (
        await api.ok(
            PURCHASE, order(member["id"], "o-1", 8000, [line("shoe", "shoes", 10_000)]), api.admin()
        )
    )["recordPurchase"]
    assert result["pointsEarned"] == 1600
    # lines cover 20.00 of 50.00: 30.00 (shipping, say) at base
    result = (
        await api.ok(
            PURCHASE, order(member["id"], "o-2", 5000, [line("shoe", "shoes", 2000)]), api.admin()
        )
    )["recordPurchase"]
    assert result["pointsEarned"] == 400 + 300


@pytest.mark.asyncio
async def test_campaign_for_silver_and_above_within_its_window(
    api: Api, clock: MovableClock
) -> None:
    silver = (
        await api.ok(
            'mutation { createTier(input: {name: "Silver", threshold: 500}) { tier { id } } }',
            token=api.admin(),
        )
    )["createTier"]["tier"]["id"]
    now = clock.now()
    created = await api.ok(
        """mutation($i: CreateCampaignInput!) { createCampaign(input: $i) {
             campaign { name multiplier } errors { code field } } }""",
        {
            "i": {
                "name": "Black Friday",
                "startsAt": (now + timedelta(days=1)).isoformat(),
                "endsAt": (now + timedelta(days=2)).isoformat(),
                "multiplier": 2,
                "minTierId": silver,
            }
        },
        api.admin(),
    )
    assert created["createCampaign"]["campaign"] == {"name": "Black Friday", "multiplier": 2.0}
    low = await api.enroll("cara")
    high = await api.enroll("dan")
    await api.purchase(high["id"], "qualify", 5000)  # 500 points: Silver at once
    clock.advance(timedelta(days=1))  # the first instant of the campaign
    assert (await api.purchase(low["id"], "l-1", 1000))["pointsEarned"] == 100
    assert (await api.purchase(high["id"], "h-1", 1000))["pointsEarned"] == 200
    clock.advance(timedelta(days=1))  # its end is exclusive
    assert (await api.purchase(high["id"], "h-2", 1000))["pointsEarned"] == 100


@pytest.mark.asyncio
async def test_preview_equals_what_is_then_credited_and_writes_nothing(api: Api) -> None:
    await api.ok(RULES, token=api.admin())
    member = await api.enroll("eve")
    lines = [line("boot", "shoes", 7000), line("gift", "gift-cards", 4000)]
    preview = await api.ok(
        PREVIEW,
        {
            "i": {
                "memberId": member["id"],
                "total": {"amountMinor": 11_000, "currency": "EUR"},
                "lines": lines,
            }
        },
        api.member("eve"),
    )
    expected = preview["previewEarn"]["pointsEarned"]
    assert (await api.wallet("eve"))["version"] == 0
    credited = await api.ok(PURCHASE, order(member["id"], "o-1", 11_000, lines), api.admin())
    # 70.00 of shoes earn; the gift cards do not count towards the 100.00 bonus threshold
    assert credited["recordPurchase"]["pointsEarned"] == expected == 1400
    # a member may not preview for someone else: to them, that member does not exist
    other = await api.enroll("fay")
    body = await api.ok(
        PREVIEW,
        {"i": {"memberId": other["id"], "total": {"amountMinor": 100, "currency": "EUR"}}},
        api.member("eve"),
    )
    assert body["previewEarn"]["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.asyncio
async def test_refunds_reverse_proportionally_once_per_key_and_never_more(
    api: Api,
) -> None:
    member = await api.enroll("gus")
    await api.purchase(member["id"], "o-1", 10_000)  # 1,000 points

    async def refund(amount: int, key: str) -> dict:
        variables = {
            "i": {
                "orderId": "o-1",
                "amount": {"amountMinor": amount, "currency": "EUR"},
                "idempotencyKey": key,
            }
        }
        return (await api.ok(REFUND, variables, api.admin()))["refundPurchase"]

    assert (await refund(3333, "r-1"))["pointsReversed"] == 333
    assert (await refund(3333, "r-1"))["pointsReversed"] == 333  # same key: once
    assert (await api.wallet("gus"))["balance"] == 667
    assert (await refund(3333, "r-2"))["pointsReversed"] == 333
    assert (await refund(3334, "r-3"))["pointsReversed"] == 334  # the rest, exactly
    assert (await api.wallet("gus"))["balance"] == 0
    too_much = await refund(1, "r-4")
    assert too_much["errors"][0]["field"] == ["input", "amount"]
    unknown = (
        await api.ok(
            REFUND,
            {
                "i": {
                    "orderId": "nope",
                    "amount": {"amountMinor": 1, "currency": "EUR"},
                    "idempotencyKey": "x",
                }
            },
            api.admin(),
        )
    )["refundPurchase"]
    assert unknown["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.asyncio
async def test_refund_of_spent_points_goes_negative_and_later_credits_repay(api: Api) -> None:
    member = await api.enroll("hal")
    await api.purchase(member["id"], "o-1", 10_000)  # 1,000
    await api.adjust(member["id"], -900, "spent")  # spends 900
    variables = {
        "i": {
            "orderId": "o-1",
            "amount": {"amountMinor": 10_000, "currency": "EUR"},
            "idempotencyKey": "r",
        }
    }
    result = (await api.ok(REFUND, variables, api.admin()))["refundPurchase"]
    assert result["wallet"]["balance"] == -900
    await api.purchase(member["id"], "o-2", 5000)  # +500 repays debt first
    assert (await api.wallet("hal"))["balance"] == -400
    totals = await ledger_totals(api.runtime, decode(member["id"], "Member", ()))
    assert totals.consistent(), totals
    assert totals.lots_remaining == 0


@pytest.mark.asyncio
async def test_held_points_are_pending_and_a_refund_during_the_hold_removes_them(
    api: Api,
) -> None:
    await api.ok(
        "mutation { updateProgram(input: {policy: {holdDays: 14}}) { errors { code } } }",
        token=api.admin(),
    )
    member = await api.enroll("ivy")
    await api.purchase(member["id"], "o-1", 10_000)
    assert await api.wallet("ivy") == {
        "balance": 0,
        "pending": 1000,
        "lifetimeEarned": 1000,
        "version": 1,
    }
    spend = await api.adjust(member["id"], -1, "cannot spend pending")
    assert spend["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    variables = {
        "i": {
            "orderId": "o-1",
            "amount": {"amountMinor": 4000, "currency": "EUR"},
            "idempotencyKey": "r",
        }
    }
    refunded = (await api.ok(REFUND, variables, api.admin()))["refundPurchase"]
    assert refunded["wallet"] == {"balance": 0, "pending": 600}
    totals = await ledger_totals(api.runtime, decode(member["id"], "Member", ()))
    assert totals.consistent(), totals


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([line("x", None, 100, 0)], ["input", "lines", "0", "quantity"]),
        ([line("x", None, -5)], ["input", "lines", "0", "unitPriceMinor"]),
        ([line(" ", None, 5)], ["input", "lines", "0", "sku"]),
        ([line("x", None, 1)] * 201, ["input", "lines"]),
    ],
)
async def test_bad_lines_are_refused(api: Api, lines: list, field: list) -> None:
    member = await api.enroll("jo")
    data = await api.ok(PURCHASE, order(member["id"], "o-1", 1000, lines), api.admin())
    assert data["recordPurchase"]["errors"][0]["field"] == field
    assert (await api.wallet("jo"))["version"] == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("multiplier", [-1.0, 101.0, 1e308, -1e308])
async def test_absurd_category_multipliers_are_invalid_input_not_a_crash(
    api: Api, multiplier: float
) -> None:
    data = await api.ok(
        """mutation($m: Float!) { updateProgram(input: {earnRules: {categoryMultipliers:
             [{category: "x", multiplier: $m}]}}) { errors { code field } } }""",
        {"m": multiplier},
        api.admin(),
    )
    assert data["updateProgram"]["errors"] == [
        {
            "code": "INVALID_INPUT",
            "field": ["input", "earnRules", "categoryMultipliers", "0", "multiplier"],
        }
    ]
