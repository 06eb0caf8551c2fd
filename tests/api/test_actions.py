"""Earning actions through GraphQL: the catalog, recordAction, limits in the program's
zone, signup and birthday bonuses, and what a member can still earn."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from api.runtime import Runtime
from persistence.jobs import Jobs
from tests.api.actions_support import (
    ME_ACTIONS,
    RECORD,
    action,
    create_action,
    history,
    record,
    set_zone,
)
from tests.support import Api, MovableClock, StatementCounter

# 23:59 and 00:01 in Berlin (CET, UTC+1) on 14/15 January 2027.
BEFORE_MIDNIGHT = datetime(2027, 1, 14, 22, 59, tzinfo=UTC)
AFTER_MIDNIGHT = datetime(2027, 1, 14, 23, 1, tzinfo=UTC)


@pytest.mark.asyncio
async def test_backend_reports_an_action_once_per_event_id(api: Api) -> None:
    # given a review action and a member
    await action(api, key="review", kind="PRODUCT_REVIEW", name="Product review", points=50)
    member = await api.enroll("ana")
    # when the brand's backend reports the same review twice
    first = await record(api, "review", "rev-1", member["id"])
    again = await record(api, "review", "rev-1", member["id"])
    # then one credit, and the retry answers the first result
    assert first["errors"] == [] and first["record"]["points"] == 50
    assert first["wallet"]["balance"] == 50
    assert again["record"] == first["record"]
    assert (await api.wallet("ana"))["balance"] == 50
    entries = await history(api, "ana")
    assert entries == [{"kind": "ACTION", "points": 50, "description": "Action: Product review"}]
    # and the same event id for another action is a conflict, nothing written
    await action(api, key="share", kind="SHARE", name="Share", points=5)
    clash = await record(api, "share", "rev-1", member["id"])
    assert clash["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert (await api.wallet("ana"))["balance"] == 50


@pytest.mark.asyncio
async def test_members_report_only_actions_the_program_trusts_them_with(api: Api) -> None:
    await action(
        api,
        key="wishlist",
        kind="WISHLIST_ADD",
        name="Wishlist",
        points=3,
        reportedBy="MEMBER",
        limits={"period": "DAY", "perPeriod": 10},
    )
    await action(api, key="review", kind="PRODUCT_REVIEW", name="Review", points=50)
    await api.enroll("ben")
    own = await record(api, "wishlist", "w-1", token=api.member("ben"))
    assert own["errors"] == [] and own["wallet"]["balance"] == 3
    refused = await record(api, "review", "r-1", token=api.member("ben"))
    assert refused["errors"][0]["code"] == "ACTION_NOT_ALLOWED"
    assert (await api.wallet("ben"))["balance"] == 3


@pytest.mark.asyncio
async def test_a_member_cannot_report_for_another_member(api: Api) -> None:
    await action(
        api,
        key="wishlist",
        kind="WISHLIST_ADD",
        name="Wishlist",
        points=3,
        reportedBy="MEMBER",
        limits={"period": "DAY", "perPeriod": 10},
    )
    await api.enroll("cat")
    other = await api.enroll("dan")
    result = await record(api, "wishlist", "w-1", other["id"], token=api.member("cat"))
    assert result["errors"][0] == {
        "code": "INVALID_INPUT",
        "field": ["input", "memberId"],
        "message": result["errors"][0]["message"],
    }
    assert (await api.wallet("dan"))["balance"] == 0


@pytest.mark.asyncio
async def test_authorization_of_the_catalog_and_of_reporting(api: Api) -> None:
    await api.enroll("eve")
    fields = {"key": "news", "kind": "NEWSLETTER_SIGNUP", "name": "News", "points": 10}
    for token in (api.member("eve"), api.staff(), api.token("shop", "shop-1")):
        body = await api.raw(
            "mutation($input: CreateEarningActionInput!) { createEarningAction(input: $input) "
            "{ errors { code } } }",
            {"input": fields},
            token,
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        body = await api.raw("{ earningActions { edges { node { key } } } }", token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # partners cannot report actions at all
    body = await api.raw(
        RECORD,
        {"input": {"action": "news", "eventId": "e"}},
        api.token("partner", "p", partner="p"),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # staff need the member's card scanned
    await action(api, **fields)
    member = await api.enroll("fay")
    body = await api.raw(
        RECORD,
        {"input": {"action": "news", "eventId": "e", "memberId": member["id"]}},
        api.staff(),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await api.scan("fay")
    ok = await record(api, "news", "e", member["id"], token=api.staff())
    assert ok["errors"] == [] and ok["wallet"]["balance"] == 10
    # the web shop reports for members of its program
    ok = await record(
        api, "news", "e2", (await api.enroll("gus"))["id"], token=api.token("shop", "shop-1")
    )
    assert ok["errors"] == [], ok


@pytest.mark.asyncio
async def test_another_programs_token_sees_nothing(api: Api, runtime) -> None:  # type: ignore[no-untyped-def]
    from domain.services.programs import create_program
    from tests.support import unique_slug

    created = await action(api, key="news", kind="NEWSLETTER_SIGNUP", name="News", points=10)
    other = unique_slug()
    async with runtime.uow() as uow:
        await create_program(uow, runtime.clock, slug=other, name="Other", currency="EUR")
    admin = api.token("admin", "a", program=other)
    data = await api.ok("{ earningActions { edges { node { key } } } }", token=admin)
    assert data["earningActions"]["edges"] == []
    data = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": created["id"]}, admin)
    assert data["node"] is None
    member = await api.enroll("hal")
    result = await api.ok(
        RECORD, {"input": {"action": "news", "eventId": "x", "memberId": member["id"]}}, admin
    )
    assert result["recordAction"]["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"points": -5}, ["input", "points"]),
        ({"points": 0}, ["input", "points"]),
        ({"points": None}, ["input", "points"]),
        ({"key": "Not a slug!"}, ["input", "key"]),
        ({"name": "  "}, ["input", "name"]),
        ({"limits": {"lifetime": 0}}, ["input", "limits", "lifetime"]),
        ({"limits": {"perPeriod": 2}}, ["input", "limits", "perPeriod"]),
        ({"limits": {"period": "DAY", "perPeriod": -1}}, ["input", "limits", "perPeriod"]),
        (
            {"startsAt": "2027-02-01T00:00:00+00:00", "endsAt": "2027-01-01T00:00:00+00:00"},
            ["input", "endsAt"],
        ),
        ({"kind": "SOCIAL_FOLLOW"}, ["input", "network"]),
        ({"network": "instagram"}, ["input", "network"]),
        ({"reportedBy": "AUTOMATIC"}, ["input", "reportedBy"]),
        (
            {"rewardId": "UmV3YXJkOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA=="},
            ["input", "points"],
        ),
    ],
)
async def test_bad_catalog_input_is_refused_and_nothing_written(
    api: Api,
    fields: dict,
    field: list[str],  # type: ignore[type-arg]
) -> None:
    base = {"key": "news", "kind": "NEWSLETTER_SIGNUP", "name": "News", "points": 10}
    payload = await create_action(api, **{**base, **fields})
    assert payload["action"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]
    data = await api.ok("{ earningActions { edges { node { key } } } }", token=api.admin())
    assert data["earningActions"]["edges"] == []


@pytest.mark.asyncio
async def test_keys_and_one_follow_per_network_are_unique(api: Api) -> None:
    await action(
        api, key="ig", kind="SOCIAL_FOLLOW", name="Instagram", points=20, network="Instagram"
    )
    same_key = await create_action(api, key="ig", kind="CUSTOM", name="X", points=1)
    assert same_key["errors"][0]["field"] == ["input", "key"]
    same_network = await create_action(
        api, key="ig2", kind="SOCIAL_FOLLOW", name="IG", points=1, network="instagram"
    )
    assert same_network["errors"][0]["field"] == ["input", "network"]
    tiktok = await create_action(
        api, key="tt", kind="SOCIAL_FOLLOW", name="TikTok", points=20, network="tiktok"
    )
    assert tiktok["errors"] == []


@pytest.mark.asyncio
async def test_unknown_inactive_and_archived_actions_refuse(api: Api, clock: MovableClock) -> None:
    member = await api.enroll("ida")
    unknown = await record(api, "nope", "e1", member["id"])
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    assert unknown["errors"][0]["field"] == ["input", "action"]
    later = (clock.now() + timedelta(days=1)).isoformat()
    await action(api, key="soon", kind="CUSTOM", name="Soon", points=5, startsAt=later)
    early = await record(api, "soon", "e2", member["id"])
    assert early["errors"][0]["code"] == "ACTION_INACTIVE"
    gone = await action(api, key="gone", kind="CUSTOM", name="Gone", points=5)
    archived = await api.ok(
        "mutation($id: ID!) { archiveEarningAction(input: {actionId: $id}) "
        "{ action { archived } errors { code } } }",
        {"id": gone["id"]},
        api.admin(),
    )
    assert archived["archiveEarningAction"]["action"]["archived"] is True
    refused = await record(api, "gone", "e3", member["id"])
    assert refused["errors"][0]["code"] == "ACTION_INACTIVE"
    assert (await api.wallet("ida"))["balance"] == 0


@pytest.mark.asyncio
async def test_per_day_limit_resets_at_local_midnight(api: Api, clock: MovableClock) -> None:
    # given a once-a-day action in Berlin
    await set_zone(api, "Europe/Berlin")
    await action(
        api,
        key="daily",
        kind="CUSTOM",
        name="Daily check-in",
        points=5,
        limits={"period": "DAY", "perPeriod": 1},
    )
    member = await api.enroll("jan")
    # when reported at 23:59 and 23:59:30 local, and at 00:01 local the next day
    clock.freeze(BEFORE_MIDNIGHT)
    assert (await record(api, "daily", "d1", member["id"]))["errors"] == []
    clock.freeze(BEFORE_MIDNIGHT + timedelta(seconds=30))
    second = await record(api, "daily", "d2", member["id"])
    assert second["errors"][0]["code"] == "ACTION_LIMIT_REACHED"
    left = (await api.ok(ME_ACTIONS, token=api.member("jan")))["me"]["actions"]
    assert left[0]["canEarnNow"] is False and left[0]["remainingInPeriod"] == 0
    assert left[0]["periodResetsAt"] == "2027-01-14T23:00:00+00:00"  # Berlin midnight
    clock.freeze(AFTER_MIDNIGHT)
    # then the new local day pays again (in UTC it is still the 14th)
    assert (await record(api, "daily", "d3", member["id"]))["errors"] == []
    assert (await api.wallet("jan"))["balance"] == 10


@pytest.mark.asyncio
async def test_per_week_and_month_limits_in_the_zone(api: Api, clock: MovableClock) -> None:
    await set_zone(api, "Europe/Berlin")
    await action(
        api,
        key="weekly",
        kind="SURVEY",
        name="Survey",
        points=7,
        limits={"period": "WEEK", "perPeriod": 2},
    )
    await action(
        api,
        key="monthly",
        kind="SHARE",
        name="Share",
        points=3,
        limits={"period": "MONTH", "perPeriod": 1},
    )
    member = await api.enroll("kim")
    # Sunday 31 January 2027, 23:59 Berlin: the end of a week and of a month
    sunday = datetime(2027, 1, 31, 22, 59, tzinfo=UTC)
    clock.freeze(sunday)
    assert (await record(api, "weekly", "w1", member["id"]))["errors"] == []
    assert (await record(api, "weekly", "w2", member["id"]))["errors"] == []
    assert (await record(api, "weekly", "w3", member["id"]))["errors"][0]["code"] == (
        "ACTION_LIMIT_REACHED"
    )
    assert (await record(api, "monthly", "m1", member["id"]))["errors"] == []
    assert (await record(api, "monthly", "m2", member["id"]))["errors"][0]["code"] == (
        "ACTION_LIMIT_REACHED"
    )
    # Monday 1 February, 00:01 Berlin (still 31 January in UTC): both reset
    clock.freeze(sunday + timedelta(minutes=2))
    assert (await record(api, "weekly", "w4", member["id"]))["errors"] == []
    assert (await record(api, "monthly", "m3", member["id"]))["errors"] == []
    assert (await api.wallet("kim"))["balance"] == 7 * 3 + 3 * 2


@pytest.mark.asyncio
async def test_lifetime_cap_and_once_ever(api: Api) -> None:
    await action(
        api, key="app", kind="APP_DOWNLOAD", name="App", points=100, limits={"lifetime": 1}
    )
    await action(
        api,
        key="review",
        kind="PRODUCT_REVIEW",
        name="Review",
        points=10,
        limits={"lifetime": 2, "period": "DAY", "perPeriod": 5},
    )
    member = await api.enroll("lea")
    assert (await record(api, "app", "a1", member["id"]))["errors"] == []
    assert (await record(api, "app", "a2", member["id"]))["errors"][0]["code"] == (
        "ACTION_LIMIT_REACHED"
    )
    before = (await api.ok(ME_ACTIONS, token=api.member("lea")))["me"]["actions"]
    assert [a["key"] for a in before] == ["review"]  # the app download is used up
    assert before[0]["remainingInPeriod"] == 2 and before[0]["lifetimeRemaining"] == 2
    assert (await record(api, "review", "r1", member["id"]))["errors"] == []
    assert (await record(api, "review", "r2", member["id"]))["errors"] == []
    third = await record(api, "review", "r3", member["id"])
    assert third["errors"][0]["code"] == "ACTION_LIMIT_REACHED"
    assert (await api.wallet("lea"))["balance"] == 120
    after = (await api.ok(ME_ACTIONS, token=api.member("lea")))["me"]["actions"]
    assert after == []


@pytest.mark.asyncio
async def test_two_concurrent_reports_at_a_once_ever_limit_credit_once(api: Api) -> None:
    await action(api, key="sms", kind="SMS_SIGNUP", name="SMS", points=25, limits={"lifetime": 1})
    member = await api.enroll("max")
    results = await asyncio.gather(*(record(api, "sms", f"e{i}", member["id"]) for i in range(6)))
    paid = [r for r in results if r["errors"] == []]
    refused = [r for r in results if r["errors"]]
    assert len(paid) == 1
    assert {r["errors"][0]["code"] for r in refused} == {"ACTION_LIMIT_REACHED"}
    assert (await api.wallet("max"))["balance"] == 25


@pytest.mark.asyncio
async def test_signup_bonus_on_enroll_in_the_same_transaction(api: Api) -> None:
    await action(api, key="welcome", kind="SIGNUP", name="Welcome bonus", points=100)
    await api.enroll("ned")
    wallet = await api.wallet("ned")
    assert wallet["balance"] == 100 and wallet["version"] == 1
    assert await history(api, "ned") == [
        {"kind": "ACTION", "points": 100, "description": "Action: Welcome bonus"}
    ]
    # the retried enroll pays nothing more; nobody can report a signup
    await api.enroll("ned")
    assert (await api.wallet("ned"))["balance"] == 100
    member = await api.enroll("oli")
    refused = await record(api, "welcome", "s1", member["id"])
    assert refused["errors"][0]["code"] == "ACTION_NOT_ALLOWED"
    listed = (await api.ok(ME_ACTIONS, token=api.member("oli")))["me"]["actions"]
    assert listed == []  # signup used up


@pytest.mark.asyncio
async def test_an_action_paying_a_reward_issues_a_voucher_without_points(api: Api) -> None:
    reward = await api.ok(
        """mutation { createReward(input: {name: "Free coffee", kind: FREE_PRODUCT,
             pointsCost: 500, sku: "coffee"}) { reward { id } errors { code } } }""",
        token=api.admin(),
    )
    reward_id = reward["createReward"]["reward"]["id"]
    await action(api, key="survey", kind="SURVEY", name="Survey", rewardId=reward_id)
    member = await api.enroll("pia")
    result = await record(api, "survey", "s1", member["id"])
    assert result["errors"] == []
    assert result["record"]["points"] == 0
    assert result["record"]["voucher"]["pointsSpent"] == 0
    assert result["record"]["voucher"]["voucherCode"]
    assert result["wallet"]["balance"] == 0


@pytest.mark.asyncio
async def test_members_set_their_birthday_once(api: Api) -> None:
    await api.enroll("quy")
    mutation = """mutation($d: Date!) { setBirthday(input: {birthday: $d}) {
      member { birthday } errors { code field } } }"""
    first = await api.ok(mutation, {"d": "1990-05-17"}, api.member("quy"))
    assert first["setBirthday"] == {"member": {"birthday": "1990-05-17"}, "errors": []}
    second = await api.ok(mutation, {"d": "1991-01-01"}, api.member("quy"))
    assert second["setBirthday"]["errors"] == [
        {"code": "BIRTHDAY_ALREADY_SET", "field": ["input", "birthday"]}
    ]
    future = await api.ok(mutation, {"d": "2999-01-01"}, api.member("quy"))
    assert future["setBirthday"]["errors"][0]["code"] in ("INVALID_INPUT", "BIRTHDAY_ALREADY_SET")
    body = await api.raw(mutation, {"d": "1990-01-01"}, api.admin())
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def _birthday_program(api: Api) -> None:
    await set_zone(api, "Europe/Berlin")
    await action(api, key="birthday", kind="BIRTHDAY", name="Birthday bonus", points=200)


@pytest.mark.asyncio
async def test_the_birthday_job_pays_once_on_the_day(api: Api, clock: MovableClock) -> None:
    await _birthday_program(api)
    clock.freeze(datetime(2027, 1, 1, 12, tzinfo=UTC))  # birthdays given in good time
    await api.enroll("ray", birthday="1990-03-02")
    await api.enroll("sue", birthday="1990-03-03")
    jobs = Jobs(api.runtime.db)
    # 00:30 on 2 March in Berlin is still 1 March in UTC
    day = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)
    await jobs.run_once(day, api.program)
    await jobs.run_once(day + timedelta(hours=5), api.program)
    assert (await api.wallet("ray"))["balance"] == 200
    assert (await api.wallet("sue"))["balance"] == 0
    # the next year pays again
    await jobs.run_once(datetime(2028, 3, 2, 9, tzinfo=UTC), api.program)
    assert (await api.wallet("ray"))["balance"] == 400


@pytest.mark.asyncio
async def test_two_job_runners_racing_pay_the_birthday_once(api: Api, clock: MovableClock) -> None:
    await _birthday_program(api)
    clock.freeze(datetime(2027, 5, 1, 12, tzinfo=UTC))
    for sub in ("tom", "uma", "vic"):
        await api.enroll(sub, birthday="1985-06-10")
    day = datetime(2027, 6, 10, 8, tzinfo=UTC)
    await asyncio.gather(
        *(Jobs(api.runtime.db, batch=1).run_once(day, api.program) for _ in range(3))
    )
    for sub in ("tom", "uma", "vic"):
        assert (await api.wallet(sub))["balance"] == 200


@pytest.mark.asyncio
async def test_a_leap_day_birthday_is_kept_on_28_february(api: Api, clock: MovableClock) -> None:
    await _birthday_program(api)
    clock.freeze(datetime(2027, 1, 1, 12, tzinfo=UTC))
    await api.enroll("wes", birthday="2000-02-29")
    jobs = Jobs(api.runtime.db)
    await jobs.run_once(datetime(2027, 2, 27, 12, tzinfo=UTC), api.program)
    assert (await api.wallet("wes"))["balance"] == 0
    await jobs.run_once(datetime(2027, 2, 28, 12, tzinfo=UTC), api.program)
    await jobs.run_once(datetime(2027, 2, 28, 20, tzinfo=UTC), api.program)
    await jobs.run_once(datetime(2027, 3, 1, 12, tzinfo=UTC), api.program)
    assert (await api.wallet("wes"))["balance"] == 200
    # in a leap year, on the 29th itself (not the 28th)
    await jobs.run_once(datetime(2028, 2, 28, 12, tzinfo=UTC), api.program)
    assert (await api.wallet("wes"))["balance"] == 200
    await jobs.run_once(datetime(2028, 2, 29, 12, tzinfo=UTC), api.program)
    assert (await api.wallet("wes"))["balance"] == 400


@pytest.mark.asyncio
async def test_earn_more_lists_live_actions_with_what_is_left(
    api: Api, clock: MovableClock
) -> None:
    await action(
        api,
        key="ig",
        kind="SOCIAL_FOLLOW",
        name="Follow us",
        points=20,
        network="instagram",
        reportedBy="MEMBER",
        limits={"lifetime": 1},
    )
    await action(api, key="birthday", kind="BIRTHDAY", name="Birthday", points=200)
    ended = (clock.now() - timedelta(days=1)).isoformat()
    await action(
        api,
        key="old",
        kind="CUSTOM",
        name="Old",
        points=1,
        startsAt=(clock.now() - timedelta(days=9)).isoformat(),
        endsAt=ended,
    )
    await api.enroll("xia", birthday=date(1999, 9, 9).isoformat())
    listed = (await api.ok(ME_ACTIONS, token=api.member("xia")))["me"]["actions"]
    assert [(a["key"], a["reportedBy"], a["lifetimeRemaining"]) for a in listed] == [
        ("ig", "MEMBER", 1),
        ("birthday", "AUTOMATIC", None),
    ]
    assert listed[0]["network"] == "instagram" and listed[0]["canEarnNow"] is True
    assert listed[1]["period"] == "YEAR" and listed[1]["remainingInPeriod"] == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("count", [1, 12])
async def test_earn_more_costs_the_same_whatever_the_catalog(
    api: Api, runtime: Runtime, count: int
) -> None:
    # given a catalog of actions and a member who earned some of them
    for n in range(count):
        await action(
            api,
            key=f"a{n}",
            kind="CUSTOM",
            name=f"A{n}",
            points=1 + n,
            limits={"period": "DAY", "perPeriod": 2, "lifetime": 5},
        )
    member = await api.enroll("yan")
    await record(api, "a0", "e0", member["id"])
    # when the app loads the "earn more" screen
    with StatementCounter(runtime) as counter:
        data = await api.ok(
            "{ me { actions { key remainingInPeriod lifetimeRemaining } } }",
            token=api.member("yan"),
        )
    # then: program+tiers, member+wallet, the live actions, the member's tallies
    assert len(data["me"]["actions"]) == count
    assert data["me"]["actions"][0] == {"key": "a0", "remainingInPeriod": 1, "lifetimeRemaining": 4}
    reads = [s for s in counter.statements if "cost_bucket" not in s]
    assert len(reads) == 4, counter.statements


@pytest.mark.asyncio
async def test_admins_update_an_action_and_bad_changes_change_nothing(api: Api) -> None:
    created = await action(api, key="news", kind="NEWSLETTER_SIGNUP", name="News", points=10)
    update = """mutation($input: UpdateEarningActionInput!) { updateEarningAction(input: $input)
      { action { name points reportedBy limits { lifetime } endsAt } errors { code field } } }"""
    changed = await api.ok(
        update,
        {
            "input": {
                "actionId": created["id"],
                "name": "Newsletter",
                "points": 15,
                "reportedBy": "MEMBER",
                "limits": {"lifetime": 1},
                "endsAt": "2099-01-01T00:00:00+00:00",
            }
        },
        api.admin(),
    )
    assert changed["updateEarningAction"] == {
        "action": {
            "name": "Newsletter",
            "points": 15,
            "reportedBy": "MEMBER",
            "limits": {"lifetime": 1},
            "endsAt": "2099-01-01T00:00:00+00:00",
        },
        "errors": [],
    }
    bad = await api.ok(update, {"input": {"actionId": created["id"], "points": -1}}, api.admin())
    assert bad["updateEarningAction"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "points"]}
    ]
    listed = await api.ok("{ earningActions { totalCount nodes { points } } }", token=api.admin())
    assert listed["earningActions"] == {"totalCount": 1, "nodes": [{"points": 15}]}
    member = await api.enroll("zoe")
    assert (await record(api, "news", "n1", token=api.member("zoe")))["wallet"]["balance"] == 15
    assert member["id"]


@pytest.mark.asyncio
async def test_a_voucher_an_action_paid_can_be_cancelled(api: Api) -> None:
    reward = await api.ok(
        """mutation { createReward(input: {name: "Tote bag", kind: FREE_PRODUCT,
             pointsCost: 900, sku: "tote", stock: 1}) { reward { id } errors { code } } }""",
        token=api.admin(),
    )
    reward_id = reward["createReward"]["reward"]["id"]
    await action(api, key="survey", kind="SURVEY", name="Survey", rewardId=reward_id)
    member = await api.enroll("abe")
    paid = await record(api, "survey", "s1", member["id"])
    # the last tote went: a second member's survey is refused and writes nothing
    other = await api.enroll("bea")
    refused = await record(api, "survey", "s2", other["id"])
    assert refused["errors"][0]["code"] == "OUT_OF_STOCK"
    cancel = await api.ok(
        "mutation($id: ID!) { cancelRedemption(input: {redemptionId: $id}) "
        "{ redemption { status } wallet { balance } errors { code } } }",
        {"id": paid["record"]["voucher"]["id"]},
        api.admin(),
    )
    assert cancel["cancelRedemption"]["errors"] == []
    assert cancel["cancelRedemption"]["redemption"]["status"] == "CANCELLED"
    assert cancel["cancelRedemption"]["wallet"]["balance"] == 0


@pytest.mark.asyncio
async def test_per_day_limit_on_the_day_clocks_go_forward(api: Api, clock: MovableClock) -> None:
    # 28 March 2027 in Berlin has 23 hours: it ends at 22:00 UTC (midnight CEST)
    await set_zone(api, "Europe/Berlin")
    await action(
        api,
        key="daily",
        kind="CUSTOM",
        name="Daily",
        points=5,
        limits={"period": "DAY", "perPeriod": 1},
    )
    member = await api.enroll("ada")
    clock.freeze(datetime(2027, 3, 27, 23, 1, tzinfo=UTC))  # 00:01 CET on the 28th
    assert (await record(api, "daily", "d1", member["id"]))["errors"] == []
    clock.freeze(datetime(2027, 3, 28, 21, 59, tzinfo=UTC))  # 23:59 CEST, still the 28th
    late = await record(api, "daily", "d2", member["id"])
    assert late["errors"][0]["code"] == "ACTION_LIMIT_REACHED"
    listed = (await api.ok(ME_ACTIONS, token=api.member("ada")))["me"]["actions"]
    assert listed[0]["periodResetsAt"] == "2027-03-28T22:00:00+00:00"
    clock.freeze(datetime(2027, 3, 28, 22, 1, tzinfo=UTC))  # 00:01 CEST on the 29th
    assert (await record(api, "daily", "d3", member["id"]))["errors"] == []
    assert (await api.wallet("ada"))["balance"] == 10


@pytest.mark.asyncio
async def test_the_same_event_reported_concurrently_credits_once(api: Api) -> None:
    await action(api, key="review", kind="PRODUCT_REVIEW", name="Review", points=40)
    member = await api.enroll("bo")
    results = await asyncio.gather(
        *(record(api, "review", "rev-7", member["id"]) for _ in range(5))
    )
    assert all(r["errors"] == [] for r in results), results
    assert {r["record"]["points"] for r in results} == {40}
    assert (await api.wallet("bo"))["balance"] == 40
    assert len(await history(api, "bo")) == 1


@pytest.mark.asyncio
async def test_blocked_members_earn_no_actions(api: Api) -> None:
    await action(api, key="news", kind="NEWSLETTER_SIGNUP", name="News", points=10)
    member = await api.enroll("cy")
    blocked = await api.ok(
        """mutation($id: ID!) { blockMember(input: {memberId: $id, blocked: true,
             reason: "fraud"}) { errors { code } } }""",
        {"id": member["id"]},
        api.admin(),
    )
    assert blocked["blockMember"]["errors"] == []
    refused = await record(api, "news", "n1", member["id"])
    assert refused["errors"][0]["code"] == "MEMBER_BLOCKED"


@pytest.mark.asyncio
async def test_a_birthday_given_shortly_before_it_pays_from_the_next_year(
    api: Api, clock: MovableClock
) -> None:
    # given members who give their birthday 29 days before it, on enrolling or later
    await _birthday_program(api)
    clock.freeze(datetime(2027, 3, 4, 12, tzinfo=UTC))
    await api.enroll("xia", birthday="1990-04-02")
    await api.enroll("yan")
    given = await api.ok(
        """mutation { setBirthday(input: {birthday: "1991-04-02"}) { errors { code } } }""",
        token=api.member("yan"),
    )
    assert given["setBirthday"]["errors"] == []
    # and one who gives it 30 days before (a day earlier)
    clock.freeze(datetime(2027, 3, 3, 12, tzinfo=UTC))
    await api.enroll("zed", birthday="1992-04-02")
    # when the birthday job runs on their birthday
    jobs = Jobs(api.runtime.db)
    await jobs.run_once(datetime(2027, 4, 2, 9, tzinfo=UTC), api.program)
    # then only the birthday given 30 days ahead pays this year, and all pay the next
    balances = {sub: (await api.wallet(sub))["balance"] for sub in ("xia", "yan", "zed")}
    assert balances == {"xia": 0, "yan": 0, "zed": 200}
    await jobs.run_once(datetime(2028, 4, 2, 9, tzinfo=UTC), api.program)
    balances = {sub: (await api.wallet(sub))["balance"] for sub in ("xia", "yan", "zed")}
    assert balances == {"xia": 200, "yan": 200, "zed": 400}


@pytest.mark.asyncio
async def test_actions_members_report_need_a_limit(api: Api) -> None:
    # an action the app reports itself, without a limit, would let a member mint points
    create = """mutation($i: CreateEarningActionInput!) { createEarningAction(input: $i) {
      action { id } errors { code field } } }"""
    fields = {"key": "tap", "kind": "CUSTOM", "name": "Tap", "points": 5, "reportedBy": "MEMBER"}
    refused = await api.ok(create, {"i": fields}, api.admin())
    assert refused["createEarningAction"] == {
        "action": None,
        "errors": [{"code": "INVALID_INPUT", "field": ["input", "limits"]}],
    }
    listed = await api.ok("{ earningActions { nodes { key } } }", token=api.admin())
    assert listed["earningActions"]["nodes"] == []
    # a backend-reported one may go without
    fields = {**fields, "reportedBy": "BACKEND"}
    assert (await api.ok(create, {"i": fields}, api.admin()))["createEarningAction"]["errors"] == []
    # and a member-reported one with a limit per period
    fields = {**fields, "key": "tap2", "reportedBy": "MEMBER", "limits": {"lifetime": 3}}
    assert (await api.ok(create, {"i": fields}, api.admin()))["createEarningAction"]["errors"] == []
