"""The reward catalog and redemption through GraphQL: vouchers, limits, cancellation, donations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.model import Role
from domain.services.programs import create_program
from tests.api.rewards_support import (
    CANCEL,
    CATALOG,
    CREATE,
    USE,
    create_reward,
    funded_member,
    redeem,
)
from tests.support import Api, MovableClock, unique_slug


@pytest.mark.asyncio
async def test_redeeming_debits_points_takes_stock_and_issues_a_voucher(api: Api) -> None:
    # given a member with 250 points and a reward of 100 with stock 5
    await funded_member(api, "alice", 250)
    reward = await create_reward(api, stock=5)
    # when she redeems it
    result = await redeem(api, "alice", reward["id"], "r-1")
    # then the points are gone, stock is taken and a voucher with its QR code is issued
    assert result["errors"] == []
    redemption = result["redemption"]
    assert redemption["status"] == "ISSUED" and redemption["pointsSpent"] == 100
    assert len(redemption["voucherCode"].replace("-", "")) >= 10
    assert redemption["voucherQrSvg"].startswith("<svg")
    assert redemption["expiresAt"] is not None
    assert result["wallet"] == {"balance": 150, "version": 2}
    catalog = await api.ok(CATALOG, token=api.member("alice"))
    node = catalog["rewards"]["edges"][0]["node"]
    assert node["remainingStock"] == 4 and node["available"] and node["affordable"]
    history = await api.ok(
        "{ me { wallet { history(first: 1) { edges { node { kind points description } } } } } }",
        token=api.member("alice"),
    )
    entry = history["me"]["wallet"]["history"]["edges"][0]["node"]
    assert entry == {"kind": "REDEEM", "points": -100, "description": "Redeemed: Free coffee"}


@pytest.mark.asyncio
async def test_voucher_is_used_once_then_already_used(api: Api) -> None:
    await funded_member(api, "bob", 100)
    reward = await create_reward(api)
    code = (await redeem(api, "bob", reward["id"], "r-1"))["redemption"]["voucherCode"]
    # the till may type it in lower case with spaces
    first = await api.ok(USE, {"code": code.lower().replace("-", " ")}, api.staff())
    assert first["useVoucher"]["redemption"]["status"] == "USED"
    again = await api.ok(USE, {"code": code}, api.staff())
    assert again["useVoucher"]["errors"][0]["code"] == "VOUCHER_ALREADY_USED"
    unknown = await api.ok(USE, {"code": "ZZZZ-ZZZZ-ZZZZ"}, api.staff())
    assert unknown["useVoucher"]["errors"][0]["code"] == "VOUCHER_INVALID"
    garbage = await api.ok(USE, {"code": "' OR 1=1 --"}, api.staff())
    assert garbage["useVoucher"]["errors"] == [
        {
            "code": "VOUCHER_INVALID",
            "field": ["input", "code"],
            "message": "No voucher has this code.",
        }
    ]


@pytest.mark.asyncio
async def test_an_expired_voucher_cannot_be_used_or_cancelled(
    api: Api, clock: MovableClock
) -> None:
    await funded_member(api, "cara", 100)
    reward = await create_reward(api, voucherValidDays=7)
    redemption = (await redeem(api, "cara", reward["id"], "r-1"))["redemption"]
    clock.advance(timedelta(days=8))
    used = await api.ok(USE, {"code": redemption["voucherCode"]}, api.staff())
    assert used["useVoucher"]["errors"][0]["code"] == "VOUCHER_EXPIRED"
    cancelled = await api.ok(CANCEL, {"id": redemption["id"]}, api.member("cara"))
    assert cancelled["cancelRedemption"]["errors"][0]["code"] == "VOUCHER_EXPIRED"
    mine = await api.ok(
        "{ me { redemptions { edges { node { status } } } } }", token=api.member("cara")
    )
    assert mine["me"]["redemptions"]["edges"][0]["node"]["status"] == "EXPIRED"


@pytest.mark.asyncio
async def test_cancel_returns_points_with_their_expiry_and_stock_exactly_once(api: Api) -> None:
    await funded_member(api, "dan", 300)
    reward = await create_reward(api, stock=1, pointsCost=120)
    redemption = (await redeem(api, "dan", reward["id"], "r-1"))["redemption"]
    first = await api.ok(CANCEL, {"id": redemption["id"]}, api.member("dan"))
    assert first["cancelRedemption"]["errors"] == []
    assert first["cancelRedemption"]["redemption"]["status"] == "CANCELLED"
    assert first["cancelRedemption"]["wallet"]["balance"] == 300
    second = await api.ok(CANCEL, {"id": redemption["id"]}, api.member("dan"))
    assert second["cancelRedemption"]["errors"][0]["code"] == "VOUCHER_INVALID"
    assert (await api.wallet("dan"))["balance"] == 300
    catalog = await api.ok(CATALOG, token=api.admin())
    assert catalog["rewards"]["edges"][0]["node"]["remainingStock"] == 1
    # a cancelled voucher is not usable
    used = await api.ok(USE, {"code": redemption["voucherCode"]}, api.staff())
    assert used["useVoucher"]["errors"][0]["code"] == "VOUCHER_INVALID"


@pytest.mark.asyncio
async def test_another_member_cannot_cancel_or_see_my_redemption(api: Api) -> None:
    await funded_member(api, "eve", 100)
    await api.enroll("mallory")
    reward = await create_reward(api)
    redemption = (await redeem(api, "eve", reward["id"], "r-1"))["redemption"]
    # the same answer as for an id that names nothing: ids cannot be probed
    body = await api.ok(CANCEL, {"id": redemption["id"]}, api.member("mallory"))
    assert body["cancelRedemption"]["errors"][0]["code"] == "NOT_FOUND"
    node = await api.ok(
        "query($id: ID!) { node(id: $id) { id } }", {"id": redemption["id"]}, api.member("mallory")
    )
    assert node["node"] is None
    assert (await api.wallet("eve"))["balance"] == 0


@pytest.mark.asyncio
async def test_donations_issue_no_voucher_and_add_to_the_cause(api: Api) -> None:
    await funded_member(api, "fay", 500)
    await funded_member(api, "gus", 500)
    reward = await create_reward(
        api, name="Plant a tree", kind="DONATION", cause="Forest Fund", pointsCost=200, sku=None
    )
    for sub in ("fay", "gus"):
        result = await redeem(api, sub, reward["id"], f"d-{sub}")
        assert result["redemption"]["voucherCode"] == ""
        assert result["redemption"]["voucherQrSvg"] is None
        assert result["redemption"]["status"] == "USED"
    total = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Reward { donatedPoints cause } } }",
        {"id": reward["id"]},
        api.admin(),
    )
    assert total["node"] == {"donatedPoints": 400, "cause": "Forest Fund"}
    mine = await api.ok(
        "{ me { redemptions { edges { node { pointsSpent reward { kind } } } } } }",
        token=api.member("fay"),
    )
    assert mine["me"]["redemptions"]["edges"][0]["node"] == {
        "pointsSpent": 200,
        "reward": {"kind": "DONATION"},
    }
    cancel = await api.ok(
        CANCEL,
        {"id": (await redeem(api, "fay", reward["id"], "d-fay"))["redemption"]["id"]},
        api.member("fay"),
    )
    assert cancel["cancelRedemption"]["errors"][0]["code"] == "VOUCHER_ALREADY_USED"


@pytest.mark.asyncio
async def test_availability_window_early_access_and_minimum_tier(
    api: Api, clock: MovableClock
) -> None:
    gold = (
        await api.ok(
            'mutation { createTier(input: {name: "Gold", threshold: 1000}) { tier { id } } }',
            token=api.admin(),
        )
    )["createTier"]["tier"]["id"]
    now = clock.now()
    later = (now + timedelta(days=2)).isoformat()
    early = (now - timedelta(hours=1)).isoformat()
    upcoming = await create_reward(
        api, name="Launch", availableFrom=later, earlyAccessTierId=gold, earlyAccessFrom=early
    )
    gold_only = await create_reward(api, name="Lounge", minTierId=gold, pointsCost=50)
    await funded_member(api, "hal", 1000)
    member = await funded_member(api, "ivy", 1000)
    # ivy reaches Gold through tier evaluation; until then both are unavailable to everyone
    for sub in ("hal", "ivy"):
        result = await redeem(api, sub, upcoming["id"], "k-1")
        assert result["errors"][0]["code"] == "REWARD_UNAVAILABLE"
        result = await redeem(api, sub, gold_only["id"], "k-2")
        assert result["errors"][0]["code"] == "TIER_REQUIRED"
    catalog = await api.ok(CATALOG, token=api.member("hal"))
    assert {e["node"]["name"]: e["node"]["available"] for e in catalog["rewards"]["edges"]} == {
        "Lounge": False,
        "Launch": False,
    }
    # when the window opens, everyone may redeem the launch reward
    clock.advance(timedelta(days=3))
    assert (await redeem(api, "hal", upcoming["id"], "k-3"))["errors"] == []
    _ = member


@pytest.mark.asyncio
async def test_per_member_and_per_period_limits(api: Api, clock: MovableClock) -> None:
    await funded_member(api, "jo", 1000)
    once = await create_reward(api, name="Welcome gift", perMemberLimit=1)
    daily = await create_reward(api, name="Daily", periodLimit=2, limitPeriod="DAY", pointsCost=10)
    assert (await redeem(api, "jo", once["id"], "a"))["errors"] == []
    assert (await redeem(api, "jo", once["id"], "b"))["errors"][0]["code"] == "LIMIT_REACHED"
    assert (await redeem(api, "jo", daily["id"], "c"))["errors"] == []
    assert (await redeem(api, "jo", daily["id"], "d"))["errors"] == []
    assert (await redeem(api, "jo", daily["id"], "e"))["errors"][0]["code"] == "LIMIT_REACHED"
    clock.advance(timedelta(days=1))
    assert (await redeem(api, "jo", daily["id"], "f"))["errors"] == []


@pytest.mark.asyncio
async def test_archived_and_unknown_rewards_and_bad_input_write_nothing(api: Api) -> None:
    await funded_member(api, "kim", 500)
    reward = await create_reward(api)
    archived = await api.ok(
        "mutation($id: ID!) { archiveReward(input: {rewardId: $id}) { reward { archived } } }",
        {"id": reward["id"]},
        api.admin(),
    )
    assert archived["archiveReward"]["reward"]["archived"] is True
    cases = [
        (reward["id"], "REWARD_UNAVAILABLE", ["input", "rewardId"]),
        (
            "UmV3YXJkOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw",
            "NOT_FOUND",
            ["input", "rewardId"],
        ),
        ("garbage", "INVALID_INPUT", ["input", "rewardId"]),
    ]
    for reward_id, code, field in cases:
        result = await redeem(api, "kim", reward_id, f"x-{code}")
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)]
    blank = await redeem(api, "kim", reward["id"], "  ")
    assert blank["errors"][0]["field"] == ["input", "idempotencyKey"]
    wallet = await api.wallet("kim")
    assert wallet["balance"] == 500 and wallet["version"] == 1
    # archived rewards leave the member catalog
    catalog = await api.ok(CATALOG, token=api.member("kim"))
    assert catalog["rewards"]["edges"] == []


@pytest.mark.asyncio
async def test_a_reward_of_another_program_is_not_found(api: Api) -> None:
    await funded_member(api, "lee", 500)
    other = unique_slug("other")
    async with api.runtime.uow() as uow:
        await create_program(uow, api.runtime.clock, slug=other, name="Other", currency="EUR")
    foreign_admin = api.token(Role.ADMIN, "root", program=other)
    foreign = await api.ok(
        CREATE,
        {"input": {"name": "Theirs", "kind": "FREE_SHIPPING", "pointsCost": 10}},
        foreign_admin,
    )
    reward_id = foreign["createReward"]["reward"]["id"]
    result = await redeem(api, "lee", reward_id, "x")
    assert result["errors"][0]["code"] == "NOT_FOUND"
    assert (await api.wallet("lee"))["balance"] == 500


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pointsCost": 0}, ["input", "pointsCost"]),
        ({"pointsCost": -5}, ["input", "pointsCost"]),
        ({"stock": -1}, ["input", "stock"]),
        ({"kind": "FIXED_DISCOUNT", "valueMinor": None}, ["input", "valueMinor"]),
        ({"kind": "PERCENT_DISCOUNT", "percentOff": 150}, ["input", "percentOff"]),
        ({"kind": "DONATION"}, ["input", "cause"]),
        ({"name": " "}, ["input", "name"]),
        ({"imageUrl": "javascript:alert(1)"}, ["input", "imageUrl"]),
        (
            {"minTierId": "VGllcjowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA"},
            ["input", "minTierId"],
        ),
        (
            {"availableFrom": "2030-01-02T00:00:00Z", "availableUntil": "2030-01-01T00:00:00Z"},
            ["input", "availableUntil"],
        ),
        ({"periodLimit": 2}, ["input", "periodLimit"]),
    ],
)
async def test_bad_rewards_are_refused_with_the_field(api: Api, fields: dict, field: list) -> None:
    values = {"name": "X", "kind": "FREE_SHIPPING", "pointsCost": 10, **fields}
    data = await api.ok(CREATE, {"input": values}, api.admin())
    assert data["createReward"]["reward"] is None
    assert data["createReward"]["errors"][0]["field"] == field
    catalog = await api.ok(CATALOG, token=api.admin())
    assert catalog["rewards"]["edges"] == []


@pytest.mark.asyncio
async def test_catalog_pages_cheapest_first_without_overlap(api: Api) -> None:
    for cost in (500, 100, 300, 200, 400):
        await create_reward(api, name=f"R{cost}", pointsCost=cost)
    await api.enroll("max")
    token = api.member("max")
    first = (await api.ok(CATALOG, {"first": 2}, token))["rewards"]
    rest = (await api.ok(CATALOG, {"first": 10, "after": first["pageInfo"]["endCursor"]}, token))[
        "rewards"
    ]
    costs = [e["node"]["pointsCost"] for e in first["edges"] + rest["edges"]]
    assert costs == [100, 200, 300, 400, 500]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert all(e["node"]["affordable"] is False for e in rest["edges"])


@pytest.mark.asyncio
async def test_partners_see_only_their_rewards_and_use_only_their_vouchers(api: Api) -> None:
    for slug in ("cinema", "bakery"):
        data = await api.ok(
            """mutation($s: String!) {
                 createPartner(input: {slug: $s, name: $s}) { partner { id } } }""",
            {"s": slug},
            api.admin(),
        )
        if slug == "cinema":
            cinema = data["createPartner"]["partner"]["id"]
    movie = await create_reward(
        api, name="Movie ticket", kind="EXPERIENCE", partnerId=cinema, sku=None
    )
    coffee = await create_reward(api, name="Coffee")
    await funded_member(api, "nia", 1000)
    movie_code = (await redeem(api, "nia", movie["id"], "m"))["redemption"]["voucherCode"]
    coffee_code = (await redeem(api, "nia", coffee["id"], "c"))["redemption"]["voucherCode"]
    cinema_token = api.token(Role.PARTNER, "cinema-pos", partner="cinema")
    bakery_token = api.token(Role.PARTNER, "bakery-pos", partner="bakery")
    seen = await api.ok(CATALOG, token=cinema_token)
    assert [e["node"]["name"] for e in seen["rewards"]["edges"]] == ["Movie ticket"]
    assert (await api.ok(CATALOG, token=bakery_token))["rewards"]["edges"] == []
    # a partner cannot use another's voucher, nor the program's own
    for token, code in ((bakery_token, movie_code), (cinema_token, coffee_code)):
        result = await api.ok(USE, {"code": code}, token)
        assert result["useVoucher"]["errors"][0]["code"] == "VOUCHER_INVALID"
    # its own, with the member's card scanned too (see test_partners for the refusals)
    ok = await api.ok(
        """mutation($i: UseVoucherInput!) { useVoucher(input: $i) { redemption { status } } }""",
        {"i": {"code": movie_code, "cardPayload": await api.card_payload("nia")}},
        cinema_token,
    )
    assert ok["useVoucher"]["redemption"]["status"] == "USED"
    # the member catalog marks co-branded rewards with their partner
    catalog = await api.ok(CATALOG, token=api.member("nia"))
    partners = {e["node"]["name"]: e["node"]["partner"] for e in catalog["rewards"]["edges"]}
    assert partners == {"Coffee": None, "Movie ticket": {"slug": "cinema"}}


@pytest.mark.asyncio
async def test_members_cannot_create_rewards_or_redeem_for_others(api: Api) -> None:
    body = await api.raw(
        CREATE, {"input": {"name": "x", "kind": "FREE_SHIPPING", "pointsCost": 1}}, api.member("o")
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    victim = await funded_member(api, "pat", 500)
    await api.enroll("oscar")
    reward = await create_reward(api)
    result = await redeem(api, "oscar", reward["id"], "k", memberId=victim["id"])
    assert result["errors"][0]["field"] == ["input", "memberId"]
    assert (await api.wallet("pat"))["balance"] == 500
    # staff redeem for a member at the counter, after scanning the card
    refused = await api.raw(
        "mutation($i: RedeemRewardInput!) { redeemReward(input: $i) { errors { code } } }",
        {"i": {"rewardId": reward["id"], "idempotencyKey": "k2", "memberId": victim["id"]}},
        api.staff(),
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await api.scan("pat")
    staff = await redeem(api, "-", reward["id"], "k2", token=api.staff(), memberId=victim["id"])
    assert staff["errors"] == [] and staff["wallet"]["balance"] == 400


@pytest.mark.asyncio
async def test_paying_with_points_at_the_till(api: Api) -> None:
    member = await funded_member(api, "quinn", 1000)
    await api.ok(
        """mutation { updateProgram(input: {pointValue: {points: 100, valueMinor: 50,
             minPoints: 100, maxPoints: 600}}) { errors { code } } }""",
        token=api.admin(),
    )
    pay = """mutation($input: RedeemPointsForOrderInput!) { redeemPointsForOrder(input: $input) {
      pointsSpent discount { amountMinor currency } wallet { balance } errors { code field } } }"""
    await api.scan("quinn")
    variables = {"input": {"memberId": member["id"], "orderId": "till-9", "points": 500}}
    first = (await api.ok(pay, variables, api.staff()))["redeemPointsForOrder"]
    assert first["discount"] == {"amountMinor": 250, "currency": "EUR"}
    assert first["wallet"]["balance"] == 500
    again = (await api.ok(pay, variables, api.staff()))["redeemPointsForOrder"]
    assert again["discount"] == first["discount"] and again["wallet"]["balance"] == 500
    variables["input"]["points"] = 400
    conflict = (await api.ok(pay, variables, api.staff()))["redeemPointsForOrder"]
    assert conflict["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    for points, code in ((50, "INVALID_INPUT"), (700, "INVALID_INPUT")):
        variables["input"] = {"memberId": member["id"], "orderId": f"o-{points}", "points": points}
        result = (await api.ok(pay, variables, api.staff()))["redeemPointsForOrder"]
        assert result["errors"] == [{"code": code, "field": ["input", "points"]}]
    variables["input"] = {"memberId": member["id"], "orderId": "o-big", "points": 600}
    short = (await api.ok(pay, variables, api.staff()))["redeemPointsForOrder"]
    assert short["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert (await api.wallet("quinn"))["balance"] == 500
