"""Referrals that pay, through GraphQL over HTTP on both databases: the friend's welcome,
the referrer's points on the friend's first qualifying purchase (after the hold, not
refunded, once), milestones, anti-fraud and review, and who may see and decide what."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from api.ids import decode
from persistence.jobs import Jobs
from tests.api.referrals_support import (
    APPROVE,
    REJECT,
    REVIEW,
    SETTINGS,
    block,
    configure,
    enroll,
    mine,
    purchase,
    referral_credits,
    refund,
    set_hold,
    statuses,
)
from tests.api.rewards_support import CANCEL, create_reward
from tests.support import Api, MovableClock, StatementCounter, ledger_totals

RULES = {
    "welcomePoints": 200,
    "referrerPoints": 500,
    "minPurchase": {"amountMinor": 2000, "currency": "EUR"},
}


async def referred(api: Api, referrer: str, friend: str, **fields: object) -> dict:
    """`referrer` enrolls, then `friend` enrolls with their code."""
    code = (await enroll(api, referrer))["member"]["referralCode"]
    payload = await enroll(api, friend, referralCode=code, **fields)
    assert payload["errors"] == [], payload
    return payload["member"]


@pytest.mark.asyncio
async def test_the_friend_gets_the_welcome_points_and_voucher_on_enrolling(api: Api) -> None:
    # given a program whose welcome is 200 points and a 10 % voucher, with a link template
    reward = await create_reward(
        api, name="10 % off", kind="PERCENT_DISCOUNT", percentOff=10, pointsCost=1, sku=None
    )
    settings = await configure(
        api,
        **RULES,
        welcomeRewardId=reward["id"],
        linkTemplate="https://brand.example/r/{code}",
    )
    assert settings["welcomeRewardId"] == reward["id"]
    # when a friend enrolls with a member's code
    await referred(api, "rita", "finn")
    # then the friend has the points and a free voucher, the referrer sees them pending
    friend = await mine(api, "finn")
    assert friend["wallet"]["balance"] == 200
    assert referral_credits(friend) == [200]
    vouchers = await api.ok(
        "{ me { usableVouchers { pointsSpent reward { name } } } }", token=api.member("finn")
    )
    assert vouchers["me"]["usableVouchers"] == [{"pointsSpent": 0, "reward": {"name": "10 % off"}}]
    rita = await mine(api, "rita")
    assert rita["referralLink"] == f"https://brand.example/r/{rita['referralCode']}"
    node = rita["referrals"]["edges"][0]["node"]
    assert (node["refereeDisplayName"], node["status"], node["points"]) == ("Finn", "PENDING", 0)
    assert node["qualifiedAt"] is None
    assert rita["wallet"]["balance"] == 0
    # and the settings read back on the program
    program = await api.ok(
        "{ program { referralProgram { welcomePoints referrerPoints } } }", token=api.member("finn")
    )
    assert program["program"]["referralProgram"] == {"welcomePoints": 200, "referrerPoints": 500}


@pytest.mark.asyncio
async def test_the_first_qualifying_purchase_pays_the_referrer_once(api: Api) -> None:
    # given hold 0, a 20.00 minimum and a referred friend
    await configure(api, **RULES)
    friend = await referred(api, "rita", "finn")
    # when the friend buys below the minimum, the referrer gets nothing
    await purchase(api, friend["id"], "small", 1999)
    assert await statuses(api, "rita") == [("PENDING", None, 0)]
    # then the first purchase at the minimum pays, once; later ones do not
    await purchase(api, friend["id"], "big", 2000)
    await purchase(api, friend["id"], "bigger", 9000)
    rita = await mine(api, "rita")
    assert await statuses(api, "rita") == [("QUALIFIED", None, 500)]
    assert rita["referrals"]["edges"][0]["node"]["qualifiedAt"] is not None
    assert referral_credits(rita) == [500]
    assert rita["wallet"]["balance"] == 500
    rita_id = (await api.ok("{ me { id } }", token=api.member("rita")))["me"]["id"]
    assert (await ledger_totals(api.runtime, decode(rita_id, "Member", ()))).consistent()


@pytest.mark.asyncio
async def test_with_a_hold_the_referrer_is_paid_when_the_job_releases_the_purchase(
    api: Api, clock: MovableClock
) -> None:
    # given a 14-day hold and a friend's qualifying purchase
    await set_hold(api, 14)
    await configure(api, **RULES)
    friend = await referred(api, "rita", "finn")
    await purchase(api, friend["id"], "o-1", 5000)
    # when the jobs run during the hold, nothing is paid
    jobs = Jobs(api.runtime.db)
    report = await jobs.run_once(clock.now() + timedelta(days=13), api.program)
    assert report.referrals_qualified == 0
    assert await statuses(api, "rita") == [("PENDING", None, 0)]
    # then the run after the hold releases the points and pays the referrer, once
    clock.advance(timedelta(days=15))
    report = await jobs.run_once(clock.now(), api.program)
    assert report.referrals_qualified == 1
    again = await jobs.run_once(clock.now(), api.program)
    assert again.referrals_qualified == 0
    assert await statuses(api, "rita") == [("QUALIFIED", None, 500)]
    assert referral_credits(await mine(api, "rita")) == [500]


@pytest.mark.asyncio
async def test_a_first_purchase_refunded_during_the_hold_does_not_qualify(
    api: Api, clock: MovableClock
) -> None:
    # given a 14-day hold and a friend's qualifying purchase, refunded in full in the hold
    await set_hold(api, 14)
    await configure(api, **RULES)
    friend = await referred(api, "rita", "finn")
    await purchase(api, friend["id"], "o-1", 5000)
    assert (await refund(api, "o-1", 5000))["errors"] == []
    # when the hold has passed and the jobs run
    clock.advance(timedelta(days=15))
    await Jobs(api.runtime.db).run_once(clock.now(), api.program)
    # then the referrer got nothing
    assert await statuses(api, "rita") == [("PENDING", None, 0)]
    # and the friend's next qualifying purchase pays once it is released
    await purchase(api, friend["id"], "o-2", 3000)
    clock.advance(timedelta(days=15))
    await Jobs(api.runtime.db).run_once(clock.now(), api.program)
    assert await statuses(api, "rita") == [("QUALIFIED", None, 500)]


@pytest.mark.asyncio
async def test_two_first_purchases_at_once_pay_the_referrer_once(api: Api) -> None:
    # given a referred friend
    await configure(api, **RULES)
    friend = await referred(api, "rita", "finn")
    # when ten first purchases land at once
    await asyncio.gather(*(purchase(api, friend["id"], f"o-{i}", 3000) for i in range(10)))
    # then the referrer was paid once
    rita = await mine(api, "rita")
    assert referral_credits(rita) == [500]
    assert await statuses(api, "rita") == [("QUALIFIED", None, 500)]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("own", "typed"),
    [
        ({"email": "Jo.Hn+x@gmail.com"}, {"email": "john@GMAIL.com"}),
        ({"email": "john@gmail.com"}, {"email": "J.o.h.n+ref@gmail.com"}),
        ({"email": "Ann@Example.com"}, {"email": "ann@example.COM"}),
        ({"phone": "+49 151 23456789"}, {"phone": "+4915123456789"}),
        ({"phone": "+4915123456789"}, {"phone": "+49 (151) 234-56789"}),
    ],
)
async def test_no_self_referral_by_normalised_email_or_phone(
    api: Api, own: dict, typed: dict
) -> None:
    # given a program that ignores dots and +tags at gmail.com, and a referrer
    await configure(api, **RULES, normalisedDomains=["Gmail.com"])
    code = (await enroll(api, "rita", **own))["member"]["referralCode"]
    # when someone enrolls with the referrer's code and the same email or phone, spelled
    # differently
    payload = await enroll(api, "finn", referralCode=code, **typed)
    # then it is refused on the code, and nothing is written
    assert payload["member"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("REFERRAL_INVALID", ["input", "referralCode"])
    ]
    assert (await api.ok("{ me { id } }", token=api.member("finn")))["me"] is None
    assert await statuses(api, "rita") == []


@pytest.mark.asyncio
async def test_dots_count_at_domains_the_program_does_not_list(api: Api) -> None:
    await configure(api, **RULES, normalisedDomains=["gmail.com"])
    code = (await enroll(api, "rita", email="john@example.com"))["member"]["referralCode"]
    payload = await enroll(api, "finn", referralCode=code, email="jo.hn@example.com")
    assert payload["errors"] == []


@pytest.mark.asyncio
async def test_over_the_monthly_cap_a_referral_is_recorded_void(
    api: Api, clock: MovableClock
) -> None:
    # given a cap of one referral a month in Berlin, mid-month
    await api.ok(
        'mutation { updateProgram(input: {timeZone: "Europe/Berlin"}) { errors { code } } }',
        token=api.admin(),
    )
    clock.freeze(clock.now().replace(year=2026, month=5, day=10, hour=12))
    await configure(api, **RULES, monthlyCap=1)
    code = (await enroll(api, "rita"))["member"]["referralCode"]
    first = await enroll(api, "finn", referralCode=code)
    # when a second friend enrolls the same month
    clock.advance(timedelta(minutes=1))
    second = await enroll(api, "gale", referralCode=code)
    # then it is recorded VOID (MONTHLY_CAP) without a welcome, and never pays
    assert first["errors"] == second["errors"] == []
    assert await statuses(api, "rita") == [("VOID", "MONTHLY_CAP", 0), ("PENDING", None, 0)]
    assert (await mine(api, "gale"))["wallet"]["balance"] == 0
    await purchase(api, second["member"]["id"], "g-1", 5000)
    assert referral_credits(await mine(api, "rita")) == []
    # still May in Berlin at 21:59 UTC on 31 May: capped
    clock.freeze(clock.now().replace(month=5, day=31, hour=21, minute=59))
    assert (await enroll(api, "ivy", referralCode=code))["errors"] == []
    assert (await statuses(api, "rita"))[0] == ("VOID", "MONTHLY_CAP", 0)
    # and the next month (from local midnight) the referrer may refer again
    clock.freeze(clock.now().replace(month=5, day=31, hour=22, minute=0))  # 00:00 in Berlin
    third = await enroll(api, "hal", referralCode=code)
    assert third["errors"] == []
    assert (await statuses(api, "rita"))[0] == ("PENDING", None, 0)


@pytest.mark.asyncio
async def test_referrals_from_a_blocked_referrer_are_void(api: Api) -> None:
    # given a blocked referrer
    await configure(api, **RULES)
    referrer = (await enroll(api, "rita"))["member"]
    await block(api, referrer["id"])
    # when a friend enrolls with the code and buys
    payload = await enroll(api, "finn", referralCode=referrer["referralCode"])
    assert payload["errors"] == []
    await purchase(api, payload["member"]["id"], "o-1", 5000)
    # then the referral is void: no welcome, nothing for the referrer
    assert (await mine(api, "finn"))["wallet"]["balance"] == 500  # the purchase only
    data = await api.ok(
        "query($id: ID!) { member(id: $id) { referrals { edges { node { status reason } } } } }",
        {"id": referrer["id"]},
        api.admin(),
    )
    assert data["member"]["referrals"]["edges"] == [
        {"node": {"status": "VOID", "reason": "REFERRER_BLOCKED"}}
    ]


@pytest.mark.asyncio
async def test_a_referrer_blocked_before_the_purchase_is_not_paid(api: Api) -> None:
    await configure(api, **RULES)
    friend = await referred(api, "rita", "finn")
    rita = (await api.ok("{ me { id } }", token=api.member("rita")))["me"]
    await block(api, rita["id"])
    await purchase(api, friend["id"], "o-1", 5000)
    data = await api.ok(
        "query($id: ID!) { member(id: $id) { referrals { edges { node { status reason } } } } }",
        {"id": rita["id"]},
        api.admin(),
    )
    assert data["member"]["referrals"]["edges"] == [
        {"node": {"status": "VOID", "reason": "REFERRER_BLOCKED"}}
    ]


@pytest.mark.asyncio
async def test_same_device_is_held_for_review_and_approval_pays(api: Api) -> None:
    # given a referrer who enrolled on a device
    await configure(api, **RULES)
    code = (await enroll(api, "rita", deviceId="device-1"))["member"]["referralCode"]
    # when a friend enrolls with the code on the same device, and buys
    friend = (await enroll(api, "finn", referralCode=code, deviceId="device-1"))["member"]
    await purchase(api, friend["id"], "o-1", 5000)
    # then the referral is held: no welcome, nothing for the referrer, on the review list
    assert await statuses(api, "rita") == [("HELD_FOR_REVIEW", "SAME_DEVICE", 0)]
    assert (await mine(api, "finn"))["wallet"]["balance"] == 500
    review = (await api.ok(REVIEW, token=api.admin()))["referralsForReview"]
    [node] = [e["node"] for e in review["edges"]]
    assert (node["refereeDisplayName"], node["refereeId"]) == ("Finn", friend["id"])
    # when an admin approves it
    approved = (await api.ok(APPROVE, {"id": node["id"]}, api.admin()))["approveReferral"]
    # then the friend gets the welcome and the referrer is paid for the purchase made
    assert approved["errors"] == []
    assert approved["referral"]["status"] == "QUALIFIED"
    assert referral_credits(await mine(api, "finn")) == [200]
    assert referral_credits(await mine(api, "rita")) == [500]
    assert (await api.ok(REVIEW, token=api.admin()))["referralsForReview"]["edges"] == []
    # and approving again is refused
    again = (await api.ok(APPROVE, {"id": node["id"]}, api.admin()))["approveReferral"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [
        ("REFERRAL_NOT_HELD", ["input", "referralId"])
    ]


@pytest.mark.asyncio
async def test_paying_like_the_referrer_is_held_and_can_be_rejected(api: Api) -> None:
    # given a referrer who paid with a card, and a referred friend
    await configure(api, **RULES)
    friend = await referred(api, "rita", "finn")
    rita = (await api.ok("{ me { id } }", token=api.member("rita")))["me"]
    await purchase(api, rita["id"], "r-1", 1000, paymentFingerprint="card-abc")
    # when the friend's first purchase is paid with the same card
    await purchase(api, friend["id"], "f-1", 5000, paymentFingerprint="card-abc")
    # then it is held instead of paying
    assert await statuses(api, "rita") == [("HELD_FOR_REVIEW", "SAME_PAYMENT", 0)]
    review = (await api.ok(REVIEW, token=api.admin()))["referralsForReview"]
    referral_id = review["edges"][0]["node"]["id"]
    # when the admin rejects it, it never pays
    rejected = (await api.ok(REJECT, {"id": referral_id}, api.admin()))["rejectReferral"]
    assert rejected["referral"] == {
        "id": referral_id,
        "status": "REJECTED",
        "reason": "REJECTED_BY_ADMIN",
        "note": "same person",
    }
    await purchase(api, friend["id"], "f-2", 5000, paymentFingerprint="card-xyz")
    assert referral_credits(await mine(api, "rita")) == []


@pytest.mark.asyncio
async def test_each_milestone_is_paid_once(api: Api) -> None:
    # given a ladder: 2 friends -> 1000 points, 3 friends -> 3000 points
    await configure(
        api, **RULES, milestones=[{"count": 3, "points": 3000}, {"count": 2, "points": 1000}]
    )
    code = (await enroll(api, "rita"))["member"]["referralCode"]
    friends = []
    for name in ("finn", "gale", "hal"):
        friends.append((await enroll(api, name, referralCode=code))["member"])
    progress = (await mine(api, "rita"))["referralProgress"]
    assert progress == {
        "successfulCount": 0,
        "referralsToNext": 2,
        "nextMilestone": {"count": 2, "points": 1000},
    }
    # when two friends' first purchases land (each buying twice)
    for friend in friends[:2]:
        await purchase(api, friend["id"], f"{friend['id']}-1", 3000)
        await purchase(api, friend["id"], f"{friend['id']}-2", 3000)
    # then the 2-friend milestone is paid once, the next one is shown
    rita = await mine(api, "rita")
    assert referral_credits(rita) == [1000, 500, 500]
    assert rita["referralProgress"] == {
        "successfulCount": 2,
        "referralsToNext": 1,
        "nextMilestone": {"count": 3, "points": 3000},
    }
    # and the third friend reaches the top milestone, paid once as well
    await purchase(api, friends[2]["id"], "h-1", 3000)
    rita = await mine(api, "rita")
    assert referral_credits(rita) == [3000, 500, 1000, 500, 500]
    assert rita["referralProgress"]["nextMilestone"] is None


@pytest.mark.asyncio
async def test_only_admins_set_rules_and_review(api: Api) -> None:
    # given a held referral
    await configure(api, **RULES)
    code = (await enroll(api, "rita", deviceId="d"))["member"]["referralCode"]
    await enroll(api, "finn", referralCode=code, deviceId="d")
    review = (await api.ok(REVIEW, token=api.admin()))["referralsForReview"]
    referral_id = review["edges"][0]["node"]["id"]
    # members and staff may neither approve, set the rules nor read the review list
    for token in (api.member("rita"), api.member("finn"), api.staff()):
        for query, variables in (
            (APPROVE, {"id": referral_id}),
            (REJECT, {"id": referral_id}),
            (SETTINGS, {"input": {"referrerPoints": 1}}),
            (REVIEW, {}),
        ):
            body = await api.raw(query, variables, token)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    # the referrer sees no one else's ids; another member cannot read a referral by id
    node = (await mine(api, "rita"))["referrals"]["edges"][0]["node"]
    assert node["status"] == "HELD_FOR_REVIEW"
    seen = await api.ok(
        "query($id: ID!) { node(id: $id) { id } }", {"id": referral_id}, api.member("finn")
    )
    assert seen["node"] is None
    mine_by_id = await api.ok(
        "query($id: ID!) { node(id: $id) { id } }", {"id": referral_id}, api.member("rita")
    )
    assert mine_by_id["node"] == {"id": referral_id}
    # and the referral is still held
    assert (await statuses(api, "rita")) == [("HELD_FOR_REVIEW", "SAME_DEVICE", 0)]


@pytest.mark.asyncio
async def test_another_programs_admin_sees_nothing(api: Api, runtime: object) -> None:
    from domain.services.programs import create_program
    from tests.support import unique_slug

    await configure(api, **RULES)
    code = (await enroll(api, "rita", deviceId="d"))["member"]["referralCode"]
    await enroll(api, "finn", referralCode=code, deviceId="d")
    referral_id = (await api.ok(REVIEW, token=api.admin()))["referralsForReview"]["edges"][0][
        "node"
    ]["id"]
    slug = unique_slug()
    async with api.runtime.uow() as uow:
        await create_program(uow, api.runtime.clock, slug=slug, name="Other", currency="EUR")
    other = api.token("admin", "admin-9", program=slug)
    assert (await api.ok(REVIEW, token=other))["referralsForReview"]["edges"] == []
    refused = (await api.ok(APPROVE, {"id": referral_id}, other))["approveReferral"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]
    assert (await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": referral_id}, other))[
        "node"
    ] is None
    # the other program's code does not work here either
    foreign = await api.ok(
        "mutation($c: String!) { enroll(input: {referralCode: $c}) { errors { code } } }",
        {"c": code},
        token=api.token("member", "zed", program=slug),
    )
    assert foreign["enroll"]["errors"] == [{"code": "REFERRAL_INVALID"}]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"referrerPoints": -1}, ["input", "referrerPoints"]),
        ({"welcomePoints": 10**9}, ["input", "welcomePoints"]),
        ({"monthlyCap": 0}, ["input", "monthlyCap"]),
        (
            {"minPurchase": {"amountMinor": 100, "currency": "USD"}},
            ["input", "minPurchase", "currency"],
        ),
        ({"minPurchase": {"amountMinor": -1, "currency": "EUR"}}, ["input", "minPurchaseMinor"]),
        (
            {"milestones": [{"count": 5, "points": 1}, {"count": 5, "points": 2}]},
            ["input", "milestones", "1", "count"],
        ),
        ({"milestones": [{"count": 5}]}, ["input", "milestones", "0", "points"]),
        ({"linkTemplate": "http://brand.example/r/{code}"}, ["input", "linkTemplate"]),
        ({"linkTemplate": "https://brand.example/r/"}, ["input", "linkTemplate"]),
        ({"normalisedDomains": ["me@gmail.com"]}, ["input", "normalisedDomains"]),
        ({"welcomeRewardId": "UmV3YXJkOjA"}, ["input", "welcomeRewardId"]),
    ],
)
async def test_bad_settings_are_refused_and_change_nothing(
    api: Api, change: dict, field: list
) -> None:
    await configure(api, **RULES)
    data = await api.ok(SETTINGS, {"input": {"referrerPoints": 1, **change}}, api.admin())
    payload = data["updateReferralProgram"]
    assert payload["referralProgram"] is None
    assert [e["field"] for e in payload["errors"]] == [field], payload
    program = await api.ok("{ program { referralProgram { referrerPoints } } }", token=api.admin())
    assert program["program"]["referralProgram"]["referrerPoints"] == 500


@pytest.mark.asyncio
async def test_bad_device_ids_and_fingerprints_are_refused(api: Api) -> None:
    payload = await enroll(api, "finn", deviceId="x" * 201)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("INVALID_INPUT", ["input", "deviceId"])
    ]
    member = (await enroll(api, "finn"))["member"]
    data = await api.ok(
        """mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) {
             errors { code field } } }""",
        {
            "input": {
                "memberId": member["id"],
                "orderId": "o",
                "paymentFingerprint": " ",
                "total": {"amountMinor": 100, "currency": "EUR"},
            }
        },
        api.admin(),
    )
    assert data["recordPurchase"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "paymentFingerprint"]}
    ]
    assert (await mine(api, "finn"))["wallet"]["balance"] == 0


@pytest.mark.asyncio
async def test_friends_enrolling_at_once_stay_within_the_cap(api: Api) -> None:
    # given a cap of two referrals a month
    await configure(api, **RULES, monthlyCap=2)
    code = (await enroll(api, "rita"))["member"]["referralCode"]
    # when six friends enroll with the code at once
    names = [f"friend{i}" for i in range(6)]
    results = await asyncio.gather(*(enroll(api, n, referralCode=code) for n in names))
    # then all are members, two referrals pending (with a welcome), four void
    assert all(r["errors"] == [] for r in results)
    found = sorted(s for s, _, _ in await statuses(api, "rita"))
    assert found == ["PENDING"] * 2 + ["VOID"] * 4
    welcomed = [len(referral_credits(await mine(api, n))) for n in names]
    assert sorted(welcomed) == [0, 0, 0, 0, 1, 1]


@pytest.mark.asyncio
async def test_approving_twice_at_once_pays_once(api: Api) -> None:
    # given a held referral whose friend has bought
    await configure(api, **RULES)
    code = (await enroll(api, "rita", deviceId="d"))["member"]["referralCode"]
    friend = (await enroll(api, "finn", referralCode=code, deviceId="d"))["member"]
    await purchase(api, friend["id"], "o-1", 5000)
    review = (await api.ok(REVIEW, token=api.admin()))["referralsForReview"]
    referral_id = review["edges"][0]["node"]["id"]
    # when five admins approve it at once
    answers = await asyncio.gather(
        *(api.ok(APPROVE, {"id": referral_id}, api.admin()) for _ in range(5))
    )
    # then one approval went through; each side was paid once
    codes = sorted(str([e["code"] for e in a["approveReferral"]["errors"]]) for a in answers)
    assert codes == ["['REFERRAL_NOT_HELD']"] * 4 + ["[]"]
    assert referral_credits(await mine(api, "finn")) == [200]
    assert referral_credits(await mine(api, "rita")) == [500]


@pytest.mark.asyncio
@pytest.mark.parametrize("friends", [2, 6])
async def test_the_referrals_screen_costs_the_same_for_any_number_of_friends(
    api: Api, friends: int
) -> None:
    # given a referrer with one or six friends, held ones among them
    await configure(api, **RULES, linkTemplate="https://brand.example/r/{code}")
    code = (await enroll(api, "rita", deviceId="d"))["member"]["referralCode"]
    for n in range(friends):
        await enroll(api, f"friend{n}", referralCode=code, deviceId="d" if n % 2 else None)
    screen = """{ me { referralLink referralProgress { successfulCount }
      referrals(first: 20) { nodes { refereeDisplayName status points } } } }"""
    review = "{ referralsForReview(first: 20) { nodes { refereeDisplayName referrerId } } }"
    # when the app loads the referrals screen, and an admin the review list
    with StatementCounter(api.runtime) as counter:
        data = await api.ok(screen, token=api.member("rita"))
    with StatementCounter(api.runtime) as admin_counter:
        await api.ok(review, token=api.admin())
    # then: program, member+wallet, settings (link), settings + count (progress), one page
    assert len(data["me"]["referrals"]["nodes"]) == friends
    reads = [s for s in counter.statements if "cost_bucket" not in s]
    assert len(reads) == 6, counter.statements
    # and the review list: program (the field's and the use case's), the page, the names
    admin_reads = [s for s in admin_counter.statements if "cost_bucket" not in s]
    assert len(admin_reads) == 4, admin_counter.statements


@pytest.mark.asyncio
async def test_two_job_runners_at_once_pay_the_referrer_once(api: Api, clock: MovableClock) -> None:
    # given held first purchases of three referred friends, past their hold
    await set_hold(api, 7)
    await configure(api, **RULES)
    code = (await enroll(api, "rita"))["member"]["referralCode"]
    for name in ("finn", "gale", "hal"):
        friend = (await enroll(api, name, referralCode=code))["member"]
        await purchase(api, friend["id"], f"{name}-1", 3000)
    clock.advance(timedelta(days=8))
    # when two job runners run at once
    reports = await asyncio.gather(
        *(Jobs(api.runtime.db).run_once(clock.now(), api.program) for _ in range(2))
    )
    # then each referral paid the referrer once
    assert sum(r.referrals_qualified for r in reports) == 3
    assert referral_credits(await mine(api, "rita")) == [500, 500, 500]


@pytest.mark.asyncio
async def test_referral_points_can_lift_the_referrer_a_tier(api: Api) -> None:
    # given a Silver tier at 400 points and a referrer with none
    data = await api.ok(
        'mutation { createTier(input: {name: "Silver", threshold: 400, earnMultiplier: 1}) '
        "{ errors { code } } }",
        token=api.admin(),
    )
    assert data["createTier"]["errors"] == []
    await configure(api, **RULES)
    friend = await referred(api, "rita", "finn")
    # when the friend's first qualifying purchase pays the referrer 500
    await purchase(api, friend["id"], "o-1", 3000)
    # then the referrer is Silver at once
    tier = await api.ok("{ me { tier { name } } }", token=api.member("rita"))
    assert tier["me"]["tier"] == {"name": "Silver"}


@pytest.mark.asyncio
async def test_a_welcome_voucher_can_be_given_back_for_no_points(api: Api) -> None:
    # given a friend's free welcome voucher
    reward = await create_reward(
        api, name="10 % off", kind="PERCENT_DISCOUNT", percentOff=10, pointsCost=1, sku=None
    )
    await configure(api, welcomeRewardId=reward["id"])
    await referred(api, "rita", "finn")
    found = await api.ok("{ me { redemptions { nodes { id status } } } }", token=api.member("finn"))
    [voucher] = found["me"]["redemptions"]["nodes"]
    # when the friend cancels it
    data = await api.ok(CANCEL, {"id": voucher["id"]}, api.member("finn"))
    # then it is cancelled, and no points move
    assert data["cancelRedemption"]["errors"] == []
    assert data["cancelRedemption"]["redemption"]["status"] == "CANCELLED"
    assert (await mine(api, "finn"))["wallet"]["balance"] == 0
