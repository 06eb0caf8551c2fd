"""Partners end to end: terms, purchases at the partner, redemptions, statements, privacy."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from domain.model import Role
from tests.api.live_support import connect, wait_for_subscribers
from tests.api.rewards_support import create_reward, redeem
from tests.api.test_live import live  # noqa: F401  (the running server fixture)
from tests.support import Api, MovableClock

PARTNER_PURCHASE = """mutation($i: RecordPartnerPurchaseInput!) { recordPartnerPurchase(input: $i) {
  pointsEarned cardNumber displayName errors { code field } } }"""
STATEMENT = """query($p: String!, $id: ID) { partnerStatement(period: $p, partnerId: $id) {
  period pointsIssued ownedBy: owedByPartner { amountMinor currency } redemptions
  owedToPartner { amountMinor } net { amountMinor } closed } }"""


USE_AT_PARTNER = """mutation($i: UseVoucherInput!) { useVoucher(input: $i) {
  redemption { status voucherCode } errors { code field } } }"""


async def with_card(api: Api, sub: str, code: str) -> dict[str, str]:
    """useVoucher input for a partner: the voucher and the member's card, scanned together."""
    return {"code": code, "cardPayload": await api.card_payload(sub)}


async def partner(api: Api, slug: str) -> str:
    data = await api.ok(
        "mutation($s: String!) { createPartner(input: {slug: $s, name: $s}) { partner { id } } }",
        {"s": slug},
        api.admin(),
    )
    return data["createPartner"]["partner"]["id"]


async def terms(api: Api, partner_id: str, **extra: object) -> None:
    values = {
        "partnerId": partner_id,
        "earnRate": {"points": 5, "perAmountMinor": 100},
        "pricePer100PointsMinor": 50,
        "payoutPerRedemptionMinor": 300,
        **extra,
    }
    data = await api.ok(
        """mutation($i: UpdatePartnerTermsInput!) { updatePartnerTerms(input: $i) {
             terms { earnPoints } errors { code field } } }""",
        {"i": values},
        api.admin(),
    )
    assert data["updatePartnerTerms"]["errors"] == [], data


@pytest.mark.asyncio
async def test_a_scripted_month_of_a_partner_deal(api: Api, clock: MovableClock) -> None:
    clock.freeze(datetime(2026, 11, 10, 12, tzinfo=UTC))
    cinema = await partner(api, "cinema")
    await terms(api, cinema)
    token = api.token(Role.PARTNER, "box-office", partner="cinema")
    member = await api.enroll("alice")
    await api.adjust(member["id"], 2000, "fund")
    # two purchases at the cinema: by QR scan and by card number, 5 points per 1.00
    scanned = await api.ok(
        PARTNER_PURCHASE,
        {
            "i": {
                "orderId": "c-1",
                "total": {"amountMinor": 2000, "currency": "EUR"},
                "cardPayload": await api.card_payload("alice"),
            }
        },
        token,
    )
    assert scanned["recordPartnerPurchase"] == {
        "pointsEarned": 100,
        "cardNumber": member["cardNumber"],
        "displayName": "Alice",
        "errors": [],
    }
    typed = {
        "i": {
            "orderId": "c-2",
            "total": {"amountMinor": 5000, "currency": "EUR"},
            "cardNumber": member["cardNumber"],
        }
    }
    assert (await api.ok(PARTNER_PURCHASE, typed, token))["recordPartnerPurchase"][
        "pointsEarned"
    ] == 250
    # a retry of the same order credits once
    assert (await api.ok(PARTNER_PURCHASE, typed, token))["recordPartnerPurchase"][
        "pointsEarned"
    ] == 250
    assert (await api.wallet("alice"))["balance"] == 2350
    # three vouchers of the cinema's reward, two used at the box office
    ticket = await create_reward(
        api, name="Ticket", kind="EXPERIENCE", sku=None, partnerId=cinema, pointsCost=300
    )
    codes = [
        (await redeem(api, "alice", ticket["id"], f"k{n}"))["redemption"]["voucherCode"]
        for n in range(3)
    ]
    for code in codes[:2]:
        clock.advance(timedelta(seconds=30))  # alice shows a fresh card code each time
        used = await api.ok(USE_AT_PARTNER, {"i": await with_card(api, "alice", code)}, token)
        assert used["useVoucher"]["errors"] == []
    # then the statement: 350 points issued at 0.50 per 100 = 175; 2 x 3.00 payouts = 600
    statement = (await api.ok(STATEMENT, {"p": "2026-11"}, token))["partnerStatement"]
    assert statement == {
        "period": "2026-11",
        "pointsIssued": 350,
        "ownedBy": {"amountMinor": 175, "currency": "EUR"},
        "redemptions": 2,
        "owedToPartner": {"amountMinor": 600},
        "net": {"amountMinor": -425},
        "closed": False,
    }
    # closing is only for finished months, once, and freezes the figures
    close = """mutation($id: ID!, $p: String!) {
      closePartnerPeriod(input: {partnerId: $id, period: $p}) {
        statement { closed net { amountMinor } } errors { code field } } }"""
    early = await api.ok(close, {"id": cinema, "p": "2026-11"}, api.admin())
    assert early["closePartnerPeriod"]["errors"][0]["field"] == ["input", "period"]
    clock.freeze(datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    used = await api.ok(USE_AT_PARTNER, {"i": await with_card(api, "alice", codes[2])}, token)
    assert used["useVoucher"]["errors"] == []
    clock.freeze(datetime(2026, 12, 1, 0, 1, tzinfo=UTC))
    closed = await api.ok(close, {"id": cinema, "p": "2026-11"}, api.admin())
    assert closed["closePartnerPeriod"]["statement"] == {
        "closed": True,
        "net": {"amountMinor": -725},
    }
    again = await api.ok(close, {"id": cinema, "p": "2026-11"}, api.admin())
    assert again["closePartnerPeriod"]["errors"][0]["code"] == "INVALID_INPUT"
    frozen = (await api.ok(STATEMENT, {"p": "2026-11", "id": cinema}, api.admin()))[
        "partnerStatement"
    ]
    assert frozen["closed"] is True and frozen["redemptions"] == 3


@pytest.mark.asyncio
async def test_partners_see_their_own_and_only_what_a_voucher_needs(api: Api) -> None:
    cinema, bakery = await partner(api, "cinema"), await partner(api, "bakery")
    member = await api.enroll("bob", email="bob@example.com", phone="+4915123456789")
    await api.adjust(member["id"], 1000, "fund")
    ticket = await create_reward(api, name="Ticket", kind="EXPERIENCE", sku=None, partnerId=cinema)
    await redeem(api, "bob", ticket["id"], "k")
    cinema_token = api.token(Role.PARTNER, "pos", partner="cinema")
    bakery_token = api.token(Role.PARTNER, "pos", partner="bakery")
    query = """{ partnerRedemptions { edges { node { cardNumber displayName
                 redemption { status voucherCode reward { name } } } } } }"""
    seen = (await api.ok(query, token=cinema_token))["partnerRedemptions"]["edges"]
    assert [e["node"]["cardNumber"] for e in seen] == [member["cardNumber"]]
    assert "bob@example.com" not in str(seen) and "+4915123456789" not in str(seen)
    assert (await api.ok(query, token=bakery_token))["partnerRedemptions"]["edges"] == []
    stats = await api.ok(
        "{ partnerRewardStats { reward { name } redemptions pointsSpent used issued } }",
        token=cinema_token,
    )
    assert stats["partnerRewardStats"] == [
        {"reward": {"name": "Ticket"}, "redemptions": 1, "pointsSpent": 100, "used": 0, "issued": 1}
    ]
    # another partner's statement, members and the program's other data are out of reach
    other = await api.raw(STATEMENT, {"p": "2026-11", "id": cinema}, bakery_token)
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for body in (
        await api.raw(
            "query($id: ID!) { member(id: $id) { id } }", {"id": member["id"]}, cinema_token
        ),
        await api.raw("{ auditLog { edges { node { id } } } }", token=cinema_token),
    ):
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    node = await api.ok(
        "query($id: ID!) { node(id: $id) { id } }", {"id": member["id"]}, cinema_token
    )
    assert node["node"] is None
    assert (await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": bakery}, cinema_token))[
        "node"
    ] is None


@pytest.mark.asyncio
async def test_partners_edit_their_rewards_only_when_their_terms_allow(api: Api) -> None:
    cinema = await partner(api, "cinema")
    ticket = await create_reward(
        api, name="Ticket", kind="EXPERIENCE", sku=None, partnerId=cinema, stock=5
    )
    token = api.token(Role.PARTNER, "pos", partner="cinema")
    edit = """mutation($i: UpdateRewardInput!) { updateReward(input: $i) {
                reward { name remainingStock } errors { code } } }"""
    refused = await api.raw(edit, {"i": {"rewardId": ticket["id"], "stock": 9}}, token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await terms(api, cinema, mayEditRewards=True)
    done = await api.ok(
        edit, {"i": {"rewardId": ticket["id"], "name": "Premiere", "stock": 9}}, token
    )
    assert done["updateReward"]["reward"] == {"name": "Premiere", "remainingStock": 9}
    cost = await api.raw(edit, {"i": {"rewardId": ticket["id"], "pointsCost": 1}}, token)
    assert cost["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    coffee = await create_reward(api, name="Coffee")
    theirs = await api.ok(edit, {"i": {"rewardId": coffee["id"], "stock": 1}}, token)
    assert theirs["updateReward"]["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.asyncio
async def test_points_issued_are_priced_per_period_not_per_order(
    api: Api, clock: MovableClock
) -> None:
    # given two partners on the same terms (5 points per 1.00, 0.50 per 100 points)
    clock.freeze(datetime(2026, 10, 5, 12, tzinfo=UTC))
    ids = {slug: await partner(api, slug) for slug in ("kiosk", "cinema")}
    for partner_id in ids.values():
        await terms(api, partner_id)
    member = await api.enroll("alice")

    async def buy(slug: str, order: str, amount: int) -> None:
        done = await api.ok(
            PARTNER_PURCHASE,
            {
                "i": {
                    "orderId": order,
                    "total": {"amountMinor": amount, "currency": "EUR"},
                    "cardNumber": member["cardNumber"],
                }
            },
            api.token(Role.PARTNER, "pos", partner=slug),
        )
        assert done["recordPartnerPurchase"]["errors"] == [], done

    # when the kiosk sells 40 coffees of 0.39 (1 point each) and the cinema one 8.00 ticket
    for n in range(40):
        await buy("kiosk", f"k-{n}", 39)
    await buy("cinema", "c-1", 800)
    # then both issued 40 points and owe the same 0.20 for them, open and once closed
    clock.freeze(datetime(2026, 11, 2, tzinfo=UTC))
    close = """mutation($id: ID!) { closePartnerPeriod(input: {partnerId: $id, period: "2026-10"}) {
        statement { pointsIssued owedByPartner { amountMinor } } errors { code } } }"""
    for partner_id in ids.values():
        statement = (await api.ok(STATEMENT, {"p": "2026-10", "id": partner_id}, api.admin()))[
            "partnerStatement"
        ]
        assert (statement["pointsIssued"], statement["ownedBy"]["amountMinor"]) == (40, 20)
        closed = (await api.ok(close, {"id": partner_id}, api.admin()))["closePartnerPeriod"]
        assert closed["statement"] == {"pointsIssued": 40, "owedByPartner": {"amountMinor": 20}}


@pytest.mark.asyncio
async def test_partner_purchases_are_audited_and_failed_card_numbers_rate_limited(
    api: Api, clock: MovableClock
) -> None:
    # given a partner's till and a member
    clock.freeze(datetime(2026, 11, 10, 12, tzinfo=UTC))
    await terms(api, await partner(api, "cinema"))
    await partner(api, "bakery")
    member = await api.enroll("alice")
    till = api.token(Role.PARTNER, "pos", partner="cinema")

    async def buy(token: str, order: str, card_number: str) -> dict:
        variables = {
            "i": {
                "orderId": order,
                "total": {"amountMinor": 1000, "currency": "EUR"},
                "cardNumber": card_number,
            }
        }
        return (await api.ok(PARTNER_PURCHASE, variables, token))["recordPartnerPurchase"]

    # when it credits one purchase, then types ten card numbers that are nobody's
    assert (await buy(till, "o-1", member["cardNumber"]))["errors"] == []
    for n in range(10):
        wrong = await buy(till, f"x-{n}", f"{4000000000000000 + n}")
        assert wrong["errors"] == [{"code": "NOT_FOUND", "field": ["input", "cardNumber"]}]
        assert wrong["displayName"] is None
    # then the next attempt is refused, even with a real card number, and credits nothing
    limited = await buy(till, "o-2", member["cardNumber"])
    assert limited == {
        "pointsEarned": None,
        "cardNumber": None,
        "displayName": None,
        "errors": [{"code": "RATE_LIMITED", "field": ["input"]}],
    }
    assert (await api.wallet("alice"))["balance"] == 50
    # the same user name at another partner is another till, and a minute later this one
    # may try again
    bakery = api.token(Role.PARTNER, "pos", partner="bakery")
    assert (await buy(bakery, "b-1", member["cardNumber"]))["errors"] == []
    clock.advance(timedelta(minutes=1, seconds=1))
    assert (await buy(till, "o-2", member["cardNumber"]))["errors"] == []
    # an order that failed for a mistyped card number goes through with the right one
    assert (await buy(till, "x-0", member["cardNumber"]))["pointsEarned"] == 50
    # and every purchase and every failed attempt is in the audit log
    log = await api.ok(
        "{ auditLog(first: 100) { edges { node { actor action outcome memberId } } } }",
        token=api.admin(),
    )
    seen = Counter(
        (e["node"]["actor"], e["node"]["action"], e["node"]["outcome"], bool(e["node"]["memberId"]))
        for e in log["auditLog"]["edges"]
    )
    assert seen == {
        ("partner:pos@cinema", "partner-purchase", "OK", True): 3,
        ("partner:pos@cinema", "partner-purchase", "NOT_FOUND", False): 10,
        ("partner:pos@cinema", "partner-purchase", "RATE_LIMITED", False): 1,
        ("partner:pos@bakery", "partner-purchase", "OK", True): 1,
    }


SEEN_BY_PARTNER = "id status voucherCode voucherQrSvg"


@pytest.mark.asyncio
async def test_partners_see_a_code_only_once_used_and_accept_it_only_with_the_member_there(
    live,  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    api, runtime, host = live
    # given a partner's reward, its till following its redemptions live, and two members
    cinema = await partner(api, "cinema")
    await terms(api, cinema)
    ticket = await create_reward(api, name="Ticket", kind="EXPERIENCE", sku=None, partnerId=cinema)
    await api.adjust((await api.enroll("alice"))["id"], 500, "fund")
    await api.enroll("bob")
    till = api.token(Role.PARTNER, "pos", partner="cinema")
    async with connect(host, till) as sock:
        assert (await sock.receive())["type"] == "connection_ack"
        await sock.subscribe("1", f"subscription {{ partnerRedemptions {{ {SEEN_BY_PARTNER} }} }}")
        await wait_for_subscribers(runtime, 1)
        # when alice redeems it, the partner learns of it by every path, but not its code
        redeemed = (await redeem(api, "alice", ticket["id"], "k"))["redemption"]
        hidden = {
            "id": redeemed["id"],
            "status": "ISSUED",
            "voucherCode": "",
            "voucherQrSvg": None,
        }
        assert (await sock.next_data())["partnerRedemptions"] == hidden
        listed = await api.ok(
            "{ partnerRedemptions(first: 5) { edges { node { redemption { "
            + SEEN_BY_PARTNER
            + " } } } } }",
            token=till,
        )
        assert listed["partnerRedemptions"]["edges"] == [{"node": {"redemption": hidden}}]
        node = await api.ok(
            f"query($id: ID!) {{ node(id: $id) {{ ... on Redemption {{ {SEEN_BY_PARTNER} }} }} }}",
            {"id": redeemed["id"]},
            till,
        )
        assert node["node"] == hidden
        # the till cannot accept it on its own, nor with another member's card
        code = redeemed["voucherCode"]
        alone = await api.ok(USE_AT_PARTNER, {"i": {"code": code}}, till)
        assert alone["useVoucher"]["errors"] == [
            {"code": "INVALID_INPUT", "field": ["input", "cardPayload"]}
        ]
        bobs = {"code": code, "cardPayload": await api.card_payload("bob")}
        other = await api.ok(USE_AT_PARTNER, {"i": bobs}, till)
        assert other["useVoucher"]["errors"] == [
            {"code": "CARD_INVALID", "field": ["input", "cardPayload"]}
        ]
        # but with alice at the counter showing her card, it can; then the code is shown
        alices = {"code": code, "cardPayload": await api.card_payload("alice")}
        used = await api.ok(USE_AT_PARTNER, {"i": alices}, till)
        assert used["useVoucher"] == {
            "redemption": {"status": "USED", "voucherCode": code},
            "errors": [],
        }
        pushed = (await sock.next_data())["partnerRedemptions"]
        assert (pushed["status"], pushed["voucherCode"]) == ("USED", code)
    period = runtime.clock.now().strftime("%Y-%m")
    statement = (await api.ok(STATEMENT, {"p": period}, till))["partnerStatement"]
    assert statement["redemptions"] == 1
    # the failed card check is audited beside the use (and counts towards the rate limit)
    log = await api.ok(
        "{ auditLog { edges { node { actor action outcome } } } }", token=api.admin()
    )
    assert [e["node"] for e in log["auditLog"]["edges"]] == [
        {"actor": "partner:pos@cinema", "action": "use-voucher", "outcome": "OK"},
        {"actor": "partner:pos@cinema", "action": "use-voucher", "outcome": "CARD_INVALID"},
    ]


@pytest.mark.asyncio
async def test_a_partner_month_is_the_month_in_the_programs_time_zone(
    api: Api, clock: MovableClock
) -> None:
    # given a program in Berlin and a partner purchase at 23:30 UTC on 31 October,
    # which is 00:30 on 1 November in Berlin
    zone = """mutation { updateProgram(input: {timeZone: "Europe/Berlin"}) { errors { code } } }"""
    assert (await api.ok(zone, token=api.admin()))["updateProgram"]["errors"] == []
    clock.freeze(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    kiosk = await partner(api, "kiosk")
    await terms(api, kiosk)
    member = await api.enroll("alice")
    done = await api.ok(
        PARTNER_PURCHASE,
        {
            "i": {
                "orderId": "late-1",
                "total": {"amountMinor": 200, "currency": "EUR"},
                "cardNumber": member["cardNumber"],
            }
        },
        api.token(Role.PARTNER, "pos", partner="kiosk"),
    )
    assert done["recordPartnerPurchase"]["pointsEarned"] == 10
    # then it is November's business in Berlin, not October's
    issued = {}
    for period in ("2026-10", "2026-11"):
        data = await api.ok(STATEMENT, {"p": period, "id": kiosk}, api.admin())
        issued[period] = data["partnerStatement"]["pointsIssued"]
    assert issued == {"2026-10": 0, "2026-11": 10}
    # and October is finished (it closes) at Berlin's midnight, 23:00 UTC on 31 October
    close = """mutation($id: ID!) { closePartnerPeriod(input: {partnerId: $id, period: "2026-10"}) {
        errors { code } } }"""
    assert (await api.ok(close, {"id": kiosk}, api.admin()))["closePartnerPeriod"]["errors"] == []
