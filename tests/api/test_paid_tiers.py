"""Changing tiers, and paid VIP years whose fee depends on the member's points."""

from __future__ import annotations

from datetime import timedelta

import pytest

from persistence.jobs import Jobs
from tests.support import Api, MovableClock

TIERS = "{ program { tiers { id name threshold paidFeeMinor } } }"
UPDATE = """mutation($i: UpdateTierInput!) { updateTier(input: $i) {
  tier { name threshold earnMultiplier paidFeeMinor reducedFeeMinor reducedFromPoints }
  errors { code field } } }"""
PAY = """mutation($i: RecordPaidTierInput!) { recordPaidTier(input: $i) {
  tier { name } paidUntil errors { code field message } } }"""


async def tiers(api: Api) -> dict[str, str]:
    for name, threshold in (("Silver", 1000), ("Gold", 5000)):
        await api.ok(
            """mutation($n: String!, $t: Int!) {
                 createTier(input: {name: $n, threshold: $t}) { errors { code } } }""",
            {"n": name, "t": threshold},
            api.admin(),
        )
    found = (await api.ok(TIERS, token=api.admin()))["program"]["tiers"]
    return {t["name"]: t["id"] for t in found}


@pytest.mark.asyncio
async def test_tiers_are_updated_within_their_neighbours(api: Api) -> None:
    ids = await tiers(api)
    ok = await api.ok(
        UPDATE,
        {
            "i": {
                "tierId": ids["Silver"],
                "name": "Silber",
                "threshold": 2000,
                "earnMultiplier": 1.2,
            }
        },
        api.admin(),
    )
    assert ok["updateTier"]["tier"]["name"] == "Silber"
    assert ok["updateTier"]["tier"]["threshold"] == 2000
    for tier, threshold in (("Silver", 5000), ("Silver", 0), ("Member", 10), ("Gold", 1500)):
        bad = await api.ok(
            UPDATE, {"i": {"tierId": ids[tier], "threshold": threshold}}, api.admin()
        )
        assert bad["updateTier"]["errors"] == [
            {"code": "INVALID_INPUT", "field": ["input", "threshold"]}
        ]
    clash = await api.ok(UPDATE, {"i": {"tierId": ids["Gold"], "name": "silber"}}, api.admin())
    assert clash["updateTier"]["errors"][0]["field"] == ["input", "name"]
    body = await api.raw(UPDATE, {"i": {"tierId": ids["Gold"], "name": "x"}}, api.member("m"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.asyncio
async def test_a_paid_year_costs_less_with_enough_points_and_holds_the_tier(
    api: Api, clock: MovableClock
) -> None:
    ids = await tiers(api)
    sale = {
        "tierId": ids["Gold"],
        "paidFeeMinor": 888,
        "reducedFeeMinor": 88,
        "reducedFromPoints": 1000,
    }
    assert (await api.ok(UPDATE, {"i": sale}, api.admin()))["updateTier"]["errors"] == []
    poor = await api.enroll("poor")
    rich = await api.enroll("rich")
    await api.adjust(rich["id"], 1500, "fund")
    offers = "{ me { paidTierOffers { tier { name } fee { amountMinor } } } }"
    assert (await api.ok(offers, token=api.member("poor")))["me"]["paidTierOffers"] == [
        {"tier": {"name": "Gold"}, "fee": {"amountMinor": 888}}
    ]
    assert (await api.ok(offers, token=api.member("rich")))["me"]["paidTierOffers"] == [
        {"tier": {"name": "Gold"}, "fee": {"amountMinor": 88}}
    ]

    def payment(member_id: str, amount: int, key: str) -> dict:
        return {
            "i": {
                "memberId": member_id,
                "tierId": ids["Gold"],
                "idempotencyKey": key,
                "amount": {"amountMinor": amount, "currency": "EUR"},
            }
        }

    wrong = await api.ok(PAY, payment(poor["id"], 88, "p-1"), api.admin())
    assert wrong["recordPaidTier"]["errors"][0]["field"] == ["input", "amount", "amountMinor"]
    paid = await api.ok(PAY, payment(poor["id"], 888, "p-2"), api.admin())
    assert paid["recordPaidTier"]["tier"] == {"name": "Gold"}
    again = await api.ok(PAY, payment(poor["id"], 888, "p-2"), api.admin())
    assert again["recordPaidTier"]["paidUntil"] == paid["recordPaidTier"]["paidUntil"]
    me = "{ me { tier { name } paidTierUntil } }"
    state = (await api.ok(me, token=api.member("poor")))["me"]
    assert state == {"tier": {"name": "Gold"}, "paidTierUntil": paid["recordPaidTier"]["paidUntil"]}
    # the paid year holds against evaluation; after it, the points decide
    await Jobs(api.runtime.db).run_once(clock.now() + timedelta(days=300), api.program)
    assert (await api.ok(me, token=api.member("poor")))["me"]["tier"] == {"name": "Gold"}
    await Jobs(api.runtime.db).run_once(clock.now() + timedelta(days=370), api.program)
    assert (await api.ok(me, token=api.member("poor")))["me"]["tier"] == {"name": "Member"}
    # staff need the member's card scanned first
    staff = await api.raw(PAY, payment(rich["id"], 88, "p-3"), api.staff())
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await api.scan("rich")
    assert (await api.ok(PAY, payment(rich["id"], 88, "p-3"), api.staff()))["recordPaidTier"][
        "errors"
    ] == []


@pytest.mark.asyncio
async def test_tiers_not_for_sale_cannot_be_bought(api: Api) -> None:
    ids = await tiers(api)
    member = await api.enroll("x")
    body = {
        "i": {
            "memberId": member["id"],
            "tierId": ids["Silver"],
            "idempotencyKey": "k",
            "amount": {"amountMinor": 100, "currency": "EUR"},
        }
    }
    result = await api.ok(PAY, body, api.admin())
    assert result["recordPaidTier"]["errors"][0]["field"] == ["input", "tierId"]
    entry = await api.ok(UPDATE, {"i": {"tierId": ids["Member"], "paidFeeMinor": 5}}, api.admin())
    assert entry["updateTier"]["errors"][0]["field"] == ["input", "paidFeeMinor"]


@pytest.mark.asyncio
async def test_retiring_a_tier_moves_its_members_and_rewards_down(api: Api) -> None:
    ids = await tiers(api)
    member = await api.enroll("sil")
    await api.purchase(member["id"], "o-1", 12_000)  # 1,200 points: Silver
    lounge = (
        await api.ok(
            """mutation($t: ID!) { createReward(input: {name: "Lounge", kind: EXPERIENCE,
                 pointsCost: 10, minTierId: $t}) { reward { id } } }""",
            {"t": ids["Silver"]},
            api.admin(),
        )
    )["createReward"]["reward"]["id"]
    retire = """mutation($t: ID!) { retireTier(input: {tierId: $t}) {
      tiers { name rank } errors { code field } } }"""
    result = await api.ok(retire, {"t": ids["Silver"]}, api.admin())
    assert result["retireTier"]["tiers"] == [
        {"name": "Member", "rank": 0},
        {"name": "Gold", "rank": 1},
    ]
    assert (await api.ok("{ me { tier { name } } }", token=api.member("sil")))["me"]["tier"] == {
        "name": "Member"
    }
    reward = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Reward { minTier { name } } } }",
        {"id": lounge},
        api.admin(),
    )
    assert reward["node"]["minTier"] == {"name": "Member"}
    entry = await api.ok(retire, {"t": ids["Member"]}, api.admin())
    assert entry["retireTier"]["errors"][0]["field"] == ["input", "tierId"]
