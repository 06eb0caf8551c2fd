"""Refunds by line under the order's own rules, the spend bonus on spend that earns, reasons
that name only what counted, and tiers given up with the refund that bought them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.ids import decode
from tests.support import Api, MovableClock, ledger_totals

PURCHASE = """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
  pointsEarned breakdown { points bonusPoints reasons
    lines { sku points reasons campaign campaignMultiplier categoryMultiplier amountMinor } }
  errors { code field message } } }"""
PREVIEW = """mutation($i: PreviewEarnInput!) { previewEarn(input: $i) {
  pointsEarned breakdown { points bonusPoints reasons lines { sku points reasons campaign } }
  errors { code field } } }"""
REFUND = """mutation($i: RefundPurchaseInput!) { refundPurchase(input: $i) {
  pointsReversed wallet { balance } errors { code field message } } }"""
RULES = """mutation { updateProgram(input: {
  earnRules: {categoryMultipliers: [{category: "shoes", multiplier: 2}, {category: "gift-cards",
  multiplier: 0}], bonusThresholdMinor: 10000, bonusPoints: 100} }) { errors { code field } } }"""
TIER = """mutation($n: String!, $t: Int!, $m: Float) {
  createTier(input: {name: $n, threshold: $t, earnMultiplier: $m}) {
    tier { id } errors { code } } }"""
CAMPAIGN = (
    """mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { errors { code } } }"""
)
STANDING = "{ me { tier { name } tierProgress { qualifyingPoints keptUntil } } }"


def line(sku: str, category: str | None, price: int, quantity: int = 1) -> dict:
    return {"sku": sku, "category": category, "unitPriceMinor": price, "quantity": quantity}


async def buy(api: Api, member_id: str, order_id: str, total: int, lines: list) -> dict:
    variables = {
        "i": {
            "memberId": member_id,
            "orderId": order_id,
            "total": {"amountMinor": total, "currency": "EUR"},
            "lines": lines,
        }
    }
    result = (await api.ok(PURCHASE, variables, api.admin()))["recordPurchase"]
    assert result["errors"] == [], result
    return result


async def refund(
    api: Api, order_id: str, key: str, lines: list | None = None, amount: int | None = None
) -> dict:
    value: dict = {"orderId": order_id, "idempotencyKey": key}
    if lines is not None:
        value["lines"] = lines
    if amount is not None:
        value["amount"] = {"amountMinor": amount, "currency": "EUR"}
    return (await api.ok(REFUND, {"i": value}, api.admin()))["refundPurchase"]


async def tier_ids(api: Api, *tiers: tuple[str, int, float]) -> dict[str, str]:
    found = {}
    for name, threshold, multiplier in tiers:
        data = await api.ok(TIER, {"n": name, "t": threshold, "m": multiplier}, api.admin())
        found[name] = data["createTier"]["tier"]["id"]
    return found


@pytest.mark.asyncio
async def test_a_refunded_line_takes_back_what_it_earned_and_nothing_more(api: Api) -> None:
    # given ord-100: a 50.00 gift card (0x), two shoes at 2x, socks; 1,250 points
    assert (await api.ok(RULES, token=api.admin()))["updateProgram"]["errors"] == []
    member = await api.enroll("ann")
    lines = [
        line("gift", "gift-cards", 5000),
        line("shoe", "shoes", 3000, 2),
        line("sock", None, 500),
    ]
    bought = await buy(api, member["id"], "ord-100", 11_500, lines)
    assert bought["pointsEarned"] == 1250
    # when the gift card alone is refunded (sku and quantity are enough)
    gift = await refund(api, "ord-100", "r-1", [{"sku": "gift", "quantity": 1}])
    # then nothing is taken back
    assert gift == {"pointsReversed": 0, "wallet": {"balance": 1250}, "errors": []}
    # shoes one by one, then the socks: exactly what each earned
    assert (await refund(api, "ord-100", "r-2", [{"sku": "shoe"}]))["pointsReversed"] == 600
    retry = await refund(api, "ord-100", "r-2", [{"sku": "shoe"}])  # same key: once
    assert retry == {"pointsReversed": 600, "wallet": {"balance": 650}, "errors": []}
    conflict = await refund(api, "ord-100", "r-2", [{"sku": "sock"}])
    assert conflict["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert (await refund(api, "ord-100", "r-3", [{"sku": "shoe"}]))["pointsReversed"] == 600
    socks = await refund(api, "ord-100", "r-4", [{"sku": "sock", "unitPriceMinor": 500}])
    assert socks["pointsReversed"] == 50
    assert socks["wallet"]["balance"] == 0
    # never more than the line had: nothing left of the shoes, no such sku
    again = await refund(api, "ord-100", "r-5", [{"sku": "shoe"}])
    assert again["errors"][0]["field"] == ["input", "lines", "0", "quantity"]
    unknown = await refund(api, "ord-100", "r-6", [{"sku": "hat"}])
    assert unknown["errors"][0]["field"] == ["input", "lines", "0", "sku"]
    totals = await ledger_totals(api.runtime, decode(member["id"], "Member", ()))
    assert totals.consistent(), totals


@pytest.mark.asyncio
async def test_a_line_refund_under_the_threshold_takes_the_spend_bonus_back(api: Api) -> None:
    await api.ok(RULES, token=api.admin())
    member = await api.enroll("ben")
    # two shoes at 60.00: 2 x 1,200 points and the bonus (120.00 of spend that earns)
    bought = await buy(api, member["id"], "o-1", 12_000, [line("shoe", "shoes", 6000, 2)])
    assert bought["breakdown"]["bonusPoints"] == 100
    # one shoe back: 60.00 left, under 100.00, so the bonus goes with it
    assert (await refund(api, "o-1", "r-1", [{"sku": "shoe"}]))["pointsReversed"] == 1300
    # an amount without lines still takes its share of what is left
    assert (await refund(api, "o-1", "r-2", amount=3000))["pointsReversed"] == 600
    assert (await refund(api, "o-1", "r-3", amount=3000))["pointsReversed"] == 600
    assert (await api.wallet("ben"))["balance"] == 0


@pytest.mark.asyncio
async def test_excluded_spend_earns_no_spend_bonus(api: Api) -> None:
    await api.ok(RULES, token=api.admin())
    member = await api.enroll("cat")
    bought = await buy(api, member["id"], "o-1", 20_000, [line("gift", "gift-cards", 10_000, 2)])
    assert (bought["breakdown"]["points"], bought["breakdown"]["bonusPoints"]) == (0, 0)
    assert bought["breakdown"]["reasons"] == ["no points on gift-cards"]


@pytest.mark.asyncio
async def test_refunds_use_the_campaign_and_tier_of_the_purchase(
    api: Api, clock: MovableClock
) -> None:
    await api.ok(RULES, token=api.admin())
    await tier_ids(api, ("Silver", 500, 1.5))
    now = clock.now()
    window = {"startsAt": now.isoformat(), "endsAt": (now + timedelta(days=1)).isoformat()}
    await api.ok(CAMPAIGN, {"i": {"name": "Black Friday", "multiplier": 2, **window}}, api.admin())
    member = await api.enroll("dot")
    await buy(api, member["id"], "o-1", 2500, [])  # 500 x 2 (campaign): Silver
    # shoes at 2x, Silver 1.5x, campaign 2x: 100 x 6
    bought = await buy(api, member["id"], "o-2", 1000, [line("shoe", "shoes", 1000)])
    assert bought["pointsEarned"] == 600
    clock.advance(timedelta(days=3))  # the campaign is over
    assert (await refund(api, "o-2", "r-1", [{"sku": "shoe"}]))["pointsReversed"] == 600


@pytest.mark.asyncio
async def test_reasons_name_only_what_counted(api: Api, clock: MovableClock) -> None:
    await api.ok(RULES, token=api.admin())
    ids = await tier_ids(api, ("Silver", 500, 1.25), ("Gold", 2000, 1.5))
    now = clock.now()
    window = {"startsAt": now.isoformat(), "endsAt": (now + timedelta(days=1)).isoformat()}
    friday = {"name": "Black Friday", "multiplier": 2, "minTierId": ids["Silver"], **window}
    week = {
        "name": "Gold shoe week",
        "multiplier": 3,
        "minTierId": ids["Gold"],
        "categories": ["shoes"],
        **window,
    }
    for campaign in (friday, week):
        await api.ok(CAMPAIGN, {"i": campaign}, api.admin())
    gold = await api.enroll("gil")
    silver = await api.enroll("sam")
    await buy(api, gold["id"], "g-0", 20_000, [])
    await buy(api, silver["id"], "s-0", 5000, [])
    # a Gold member's shoes: the shoe week (3x) beats Black Friday (2x), which is not named
    preview = await api.ok(
        PREVIEW,
        {
            "i": {
                "memberId": gold["id"],
                "total": {"amountMinor": 1000, "currency": "EUR"},
                "lines": [line("shoe", "shoes", 1000)],
            }
        },
        api.admin(),
    )
    breakdown = preview["previewEarn"]["breakdown"]
    assert breakdown["reasons"] == ["2x shoes", "Gold shoe week 3x", "1.5x Gold"]
    assert breakdown["lines"] == [
        {
            "sku": "shoe",
            "points": 900,
            "reasons": ["2x shoes", "Gold shoe week 3x", "1.5x Gold"],
            "campaign": "Gold shoe week",
        }
    ]
    # a Silver member's order of gift cards only: no campaign, no tier multiplier counted
    bought = await buy(api, silver["id"], "s-1", 5000, [line("gift", "gift-cards", 5000)])
    assert bought["breakdown"]["reasons"] == ["no points on gift-cards"]
    assert bought["breakdown"]["lines"][0]["campaign"] is None
    # a mixed order names each rule once, per line where it counted
    mixed = await buy(
        api,
        silver["id"],
        "s-2",
        3000,
        [line("gift", "gift-cards", 1000), line("tee", None, 1000), line("shoe", "shoes", 1000)],
    )
    assert [part["reasons"] for part in mixed["breakdown"]["lines"]] == [
        ["no points on gift-cards"],
        ["Black Friday 2x", "1.25x Silver"],
        ["2x shoes", "Black Friday 2x", "1.25x Silver"],
    ]
    assert mixed["breakdown"]["reasons"] == [
        "no points on gift-cards",
        "Black Friday 2x",
        "1.25x Silver",
        "2x shoes",
    ]
    assert mixed["pointsEarned"] == 250 + 500


@pytest.mark.asyncio
async def test_a_tier_bought_with_an_order_goes_with_its_refund(api: Api) -> None:
    await tier_ids(api, ("Silver", 500, 1.0), ("Gold", 2000, 1.0))
    member = await api.enroll("eli")
    await buy(api, member["id"], "o-1", 3000, [])
    await buy(api, member["id"], "o-2", 2000, [])  # 500: Silver
    silver = (await api.ok(STANDING, token=api.member("eli")))["me"]
    assert silver["tier"] == {"name": "Silver"}
    # a partial refund that keeps 500 keeps Silver
    await buy(api, member["id"], "o-3", 1000, [])
    assert (await refund(api, "o-3", "r-0", amount=1000))["pointsReversed"] == 100
    assert (await api.ok(STANDING, token=api.member("eli")))["me"] == silver
    # the order that made Silver refunded in full: back to Member
    assert (await refund(api, "o-2", "r-1", amount=2000))["pointsReversed"] == 200
    me = (await api.ok(STANDING, token=api.member("eli")))["me"]
    assert me == {
        "tier": {"name": "Member"},
        "tierProgress": {"qualifyingPoints": 300, "keptUntil": None},
    }


@pytest.mark.asyncio
async def test_a_refund_keeps_the_tier_of_last_year_and_a_paid_tier(
    api: Api, clock: MovableClock
) -> None:
    ids = await tier_ids(api, ("Silver", 500, 1.0), ("Gold", 2000, 1.0))
    member = await api.enroll("fay")
    clock.freeze(datetime(2026, 6, 1, tzinfo=UTC))
    await buy(api, member["id"], "last-year", 6000, [])  # Silver, kept until 2028
    clock.freeze(datetime(2027, 3, 1, tzinfo=UTC))
    await buy(api, member["id"], "gold", 20_000, [])  # Gold this year
    assert (await api.ok(STANDING, token=api.member("fay")))["me"]["tier"] == {"name": "Gold"}
    await refund(api, "gold", "r-1", amount=20_000)
    me = (await api.ok(STANDING, token=api.member("fay")))["me"]
    # back to the Silver of last year, kept as it was: until this year ends
    assert me["tier"] == {"name": "Silver"}
    assert me["tierProgress"]["keptUntil"].startswith("2028-01-01")
    # a paid Gold year stays whatever is refunded
    await api.ok(
        "mutation($i: UpdateTierInput!) { updateTier(input: $i) { errors { code } } }",
        {"i": {"tierId": ids["Gold"], "paidFeeMinor": 500}},
        api.admin(),
    )
    await buy(api, member["id"], "more", 20_000, [])
    paid = await api.ok(
        """mutation($i: RecordPaidTierInput!) { recordPaidTier(input: $i) { errors { code } } }""",
        {
            "i": {
                "memberId": member["id"],
                "tierId": ids["Gold"],
                "idempotencyKey": "vip",
                "amount": {"amountMinor": 500, "currency": "EUR"},
            }
        },
        api.admin(),
    )
    assert paid["recordPaidTier"]["errors"] == []
    await refund(api, "more", "r-2", amount=20_000)
    assert (await api.ok(STANDING, token=api.member("fay")))["me"]["tier"] == {"name": "Gold"}


@pytest.mark.asyncio
async def test_orders_without_lines_refund_given_lines_proportionally(api: Api) -> None:
    member = await api.enroll("gus")
    await buy(api, member["id"], "o-1", 10_000, [])
    no_price = await refund(api, "o-1", "r-1", [{"sku": "x"}])
    assert no_price["errors"][0]["field"] == ["input", "lines", "0", "unitPriceMinor"]
    priced = await refund(api, "o-1", "r-2", [{"sku": "x", "unitPriceMinor": 2500}])
    assert priced["pointsReversed"] == 250
    missing = await refund(api, "o-1", "r-3")
    assert missing["errors"][0]["field"] == ["input", "amount"]
    too_much = await refund(api, "o-1", "r-4", amount=7501)
    assert too_much["errors"][0]["field"] == ["input", "amount"]
