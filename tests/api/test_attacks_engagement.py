"""Attacks on the engagement features (earning actions, referrals, challenges and badges,
the leaderboard) as an outsider would try them through GraphQL. Each test asserts the
refusal and that nothing changed: balances, ledger entries, the catalog."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.ids import decode
from domain.services.programs import create_program
from persistence.jobs import Jobs
from tests.api.actions_support import RECORD, action, record
from tests.api.leaderboard_support import BOARD, UPDATE, board, enable, opt_in
from tests.api.referrals_support import APPROVE, SETTINGS, configure, enroll
from tests.support import Api, MovableClock, ledger_totals, unique_slug

CREATE_ACTION = """mutation($input: CreateEarningActionInput!) {
  createEarningAction(input: $input) {
  action { id } errors { code field } } }"""
CREATE_CHALLENGE = """mutation($i: CreateChallengeInput!) { createChallenge(input: $i) {
  challenge { id } errors { code field } } }"""
CREATE_BADGE = """mutation($i: CreateBadgeInput!) { createBadge(input: $i) {
  badge { id } errors { code field } } }"""
ARCHIVE_ACTION = """mutation($id: ID!) { archiveEarningAction(input: {actionId: $id}) {
  action { archived } errors { code field } } }"""
SET_BIRTHDAY = """mutation($d: Date!) { setBirthday(input: {birthday: $d}) {
  member { birthday } errors { code field } } }"""

DAILY = {"period": "DAY", "perPeriod": 100}


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def other_program(api: Api) -> str:
    slug = unique_slug()
    async with api.runtime.uow() as uow:
        await create_program(uow, api.runtime.clock, slug=slug, name="Other", currency="EUR")
    return slug


async def untouched(api: Api, member_id: str) -> None:
    """The member's wallet holds no entry at all."""
    totals = await ledger_totals(api.runtime, decode(member_id, "Member", ()))
    assert (totals.balance, totals.entry_count) == (0, 0), totals


async def report(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    return dict((await api.ok(RECORD, {"input": fields}, token))["recordAction"])


# --- earning actions -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_members_report_neither_backend_actions_nor_for_someone_else(api: Api) -> None:
    await action(api, key="review", kind="PRODUCT_REVIEW", name="Review", points=50)
    await action(
        api,
        key="checkin",
        kind="CUSTOM",
        name="Check in",
        points=5,
        reportedBy="MEMBER",
        limits=DAILY,
    )
    me, victim = await api.enroll("mal"), await api.enroll("vic")
    # a BACKEND action reported by the member themself
    refused = await report(api, api.member("mal"), action="review", eventId="r1")
    assert errors(refused) == [("ACTION_NOT_ALLOWED", ["input", "action"])]
    # a member action reported for another member, by naming them
    for key in ("checkin", "review"):
        refused = await report(
            api, api.member("mal"), action=key, eventId=f"o-{key}", memberId=victim["id"]
        )
        assert errors(refused) == [("INVALID_INPUT", ["input", "memberId"])], refused
    await untouched(api, me["id"])
    await untouched(api, victim["id"])


@pytest.mark.asyncio
async def test_another_programs_keys_and_members_are_not_found(api: Api) -> None:
    await action(
        api,
        key="checkin",
        kind="CUSTOM",
        name="Check in",
        points=5,
        reportedBy="MEMBER",
        limits=DAILY,
    )
    ours = await api.enroll("ada")
    other = await other_program(api)
    stranger = api.token("member", "eve", program=other)
    enrolled = await api.ok(
        'mutation { enroll(input: {displayName: "Eve"}) { errors { code } } }', token=stranger
    )
    assert enrolled["enroll"]["errors"] == []
    # program B's member uses program A's action key, for themself and for A's member
    refused = await report(api, stranger, action="checkin", eventId="x1")
    assert errors(refused) == [("NOT_FOUND", ["input", "action"])]
    refused = await report(api, stranger, action="checkin", eventId="x2", memberId=ours["id"])
    assert refused["errors"][0]["code"] in ("INVALID_INPUT", "NOT_FOUND"), refused
    assert refused["record"] is None
    # program B's shop backend names A's member
    shop = api.token("shop", "shop-b", program=other)
    refused = await report(api, shop, action="checkin", eventId="x3", memberId=ours["id"])
    assert refused["errors"][0]["code"] == "NOT_FOUND", refused
    await untouched(api, ours["id"])


@pytest.mark.asyncio
async def test_only_admins_write_the_engagement_catalog_and_settings(api: Api) -> None:
    await api.enroll("kim")
    created = await action(api, key="news", kind="NEWSLETTER_SIGNUP", name="News", points=10)
    code = (await enroll(api, "ref"))["member"]["referralCode"]
    await configure(api, referrerPoints=100)
    await enroll(api, "fri", referralCode=code)
    writes: list[tuple[str, dict[str, Any]]] = [
        (CREATE_ACTION, {"input": {"key": "x", "kind": "CUSTOM", "name": "X", "points": 9}}),
        (ARCHIVE_ACTION, {"id": created["id"]}),
        (
            CREATE_CHALLENGE,
            {
                "i": {
                    "name": "C",
                    "goal": {"kind": "PURCHASE_COUNT", "target": 1},
                    "rewardPoints": 10,
                }
            },
        ),
        (CREATE_BADGE, {"i": {"name": "B", "imageUrl": "https://img.test/b.png"}}),
        (UPDATE, {"input": {"enabled": True, "topN": 1, "bonusPoints": [900]}}),
        (SETTINGS, {"input": {"referrerPoints": 1}}),
        (APPROVE, {"id": created["id"]}),
    ]
    tokens = [
        api.member("kim"),
        api.staff(),
        api.token("shop", "shop-1"),
        api.token("partner", "p-1", partner="acme"),
    ]
    for token in tokens:
        for query, variables in writes:
            body = await api.raw(query, variables, token)
            assert body.get("errors"), (query, body)
            assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
    # nothing was written: one live action, no challenge, leaderboard still off
    listing = await api.ok(
        "{ earningActions { edges { node { key archived } } } }", token=api.admin()
    )
    assert [e["node"] for e in listing["earningActions"]["edges"]] == [
        {"key": "news", "archived": False}
    ]
    challenges = await api.ok("{ challenges { edges { node { id } } } }", token=api.admin())
    assert challenges["challenges"]["edges"] == []
    assert (await board(api, api.admin()))["enabled"] is False


@pytest.mark.asyncio
async def test_staff_report_only_for_a_scanned_card(api: Api) -> None:
    await action(api, key="review", kind="PRODUCT_REVIEW", name="Review", points=50)
    member = await api.enroll("sam")
    body = await api.raw(
        RECORD,
        {"input": {"action": "review", "eventId": "s1", "memberId": member["id"]}},
        api.staff(),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    await untouched(api, member["id"])


@pytest.mark.asyncio
async def test_replaying_an_event_id_for_another_action_or_member_credits_nothing(
    api: Api,
) -> None:
    await action(api, key="review", kind="PRODUCT_REVIEW", name="Review", points=50)
    await action(api, key="photo", kind="CUSTOM", name="Photo", points=70)
    await action(
        api,
        key="checkin",
        kind="CUSTOM",
        name="Check in",
        points=5,
        reportedBy="MEMBER",
        limits=DAILY,
    )
    await action(
        api,
        key="checkin2",
        kind="CUSTOM",
        name="Again",
        points=7,
        reportedBy="MEMBER",
        limits=DAILY,
    )
    first, second = await api.enroll("ann"), await api.enroll("bob")
    paid = await record(api, "review", "ev-1", first["id"])
    assert paid["errors"] == [] and paid["wallet"]["balance"] == 50
    conflict = [("IDEMPOTENCY_CONFLICT", ["input", "eventId"])]
    assert errors(await record(api, "photo", "ev-1", first["id"])) == conflict
    assert errors(await record(api, "review", "ev-1", second["id"])) == conflict
    # the same retry answers the first record again, no second credit
    again = await record(api, "review", "ev-1", first["id"])
    assert again["errors"] == [] and again["wallet"]["balance"] == 50
    # a member's own event ids: another action under the same id is a conflict too
    mine = await report(api, api.member("bob"), action="checkin", eventId="m-1")
    assert mine["errors"] == []
    assert errors(await report(api, api.member("bob"), action="checkin2", eventId="m-1")) == (
        conflict
    )
    assert (await ledger_totals(api.runtime, decode(first["id"], "Member", ()))).entry_count == 1
    bob = await ledger_totals(api.runtime, decode(second["id"], "Member", ()))
    assert (bob.balance, bob.entry_count) == (5, 1)


@pytest.mark.asyncio
@pytest.mark.parametrize("event_id", ["", "   ", "x" * 201, "bad\x00id", "tab\tid"])
async def test_malformed_event_ids_are_refused(api: Api, event_id: str) -> None:
    await action(api, key="review", kind="PRODUCT_REVIEW", name="Review", points=50)
    member = await api.enroll("ida")
    refused = await record(api, "review", event_id, member["id"])
    assert errors(refused) == [("INVALID_INPUT", ["input", "eventId"])]
    await untouched(api, member["id"])


@pytest.mark.asyncio
async def test_unknown_archived_and_out_of_window_actions_pay_nothing(
    api: Api, clock: MovableClock
) -> None:
    clock.freeze(datetime(2027, 1, 10, 12, tzinfo=UTC))
    gone = await action(api, key="gone", kind="CUSTOM", name="Gone", points=10)
    archived = await api.ok(ARCHIVE_ACTION, {"id": gone["id"]}, api.admin())
    assert archived["archiveEarningAction"]["errors"] == []
    later = datetime(2027, 2, 1, tzinfo=UTC)
    await action(
        api, key="later", kind="CUSTOM", name="Later", points=10, startsAt=later.isoformat()
    )
    await action(
        api,
        key="over",
        kind="CUSTOM",
        name="Over",
        points=10,
        startsAt=datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        endsAt=datetime(2027, 1, 1, tzinfo=UTC).isoformat(),
    )
    member = await api.enroll("joe")
    assert errors(await record(api, "nope", "u1", member["id"])) == [
        ("NOT_FOUND", ["input", "action"])
    ]
    inactive = [("ACTION_INACTIVE", ["input", "action"])]
    assert errors(await record(api, "gone", "a1", member["id"])) == inactive
    assert errors(await record(api, "later", "w1", member["id"])) == inactive
    assert errors(await record(api, "over", "w2", member["id"])) == inactive
    await untouched(api, member["id"])
    # a refused report does not burn its event id: once the window opens, it pays
    clock.freeze(later + timedelta(hours=1))
    paid = await record(api, "later", "w1", member["id"])
    assert paid["errors"] == [] and paid["wallet"]["balance"] == 10


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"points": -1}, ["input", "points"]),
        ({"points": 2**31 - 1}, ["input", "points"]),
        ({"points": 1, "limits": {"lifetime": -1}}, ["input", "limits", "lifetime"]),
    ],
)
async def test_absurd_action_points_are_refused(
    api: Api, fields: dict[str, Any], field: list[str]
) -> None:
    body = await api.ok(
        CREATE_ACTION,
        {"input": {"key": "k", "kind": "CUSTOM", "name": "K", **fields}},
        api.admin(),
    )
    found = errors(body["createEarningAction"])
    assert found and found[0][0] == "INVALID_INPUT", found
    assert (found[0][1] or [])[:2] == field[:2], found
    listing = await api.ok("{ earningActions { edges { node { key } } } }", token=api.admin())
    assert listing["earningActions"]["edges"] == []


@pytest.mark.asyncio
async def test_points_beyond_a_graphql_int_never_reach_the_catalog(api: Api) -> None:
    body = await api.raw(
        CREATE_ACTION,
        {"input": {"key": "k", "kind": "CUSTOM", "name": "K", "points": 10**12}},
        api.admin(),
    )
    assert body.get("errors") and not body.get("data"), body
    listing = await api.ok("{ earningActions { edges { node { key } } } }", token=api.admin())
    assert listing["earningActions"]["edges"] == []


# --- birthdays -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_birthdays_out_of_range_are_refused_and_the_job_pays_once(
    api: Api, clock: MovableClock
) -> None:
    clock.freeze(datetime(2027, 4, 1, 12, tzinfo=UTC))
    await action(api, key="birthday", kind="BIRTHDAY", name="Birthday", points=200)
    member = await api.enroll("liz")
    for day in ("2027-04-02", "2999-01-01", "1800-04-05", "1899-12-31"):
        refused = await api.ok(SET_BIRTHDAY, {"d": day}, api.member("liz"))
        assert errors(refused["setBirthday"]) == [("INVALID_INPUT", ["input", "birthday"])]
    shown = await api.ok("{ me { birthday } }", token=api.member("liz"))
    assert shown["me"]["birthday"] is None
    # enrolling with such a birthday is refused too
    body = await api.ok(
        """mutation { enroll(input: {displayName: "Fut", birthday: "2999-01-01"}) {
             member { id } errors { code field } } }""",
        token=api.member("fut"),
    )
    assert errors(body["enroll"]) == [("INVALID_INPUT", ["input", "birthday"])]
    # a valid one once (given in good time: 30 days ahead or more), a second one refused
    ok = await api.ok(SET_BIRTHDAY, {"d": "1990-05-05"}, api.member("liz"))
    assert ok["setBirthday"]["errors"] == []
    again = await api.ok(SET_BIRTHDAY, {"d": "1990-04-06"}, api.member("liz"))
    assert errors(again["setBirthday"]) == [("BIRTHDAY_ALREADY_SET", ["input", "birthday"])]
    # the job run twice on the day (and again the day after) pays once
    jobs = Jobs(api.runtime.db)
    for at in (
        datetime(2027, 5, 5, 8, tzinfo=UTC),
        datetime(2027, 5, 5, 20, tzinfo=UTC),
        datetime(2027, 5, 6, 8, tzinfo=UTC),
    ):
        await jobs.run_once(at, api.program)
    totals = await ledger_totals(api.runtime, decode(member["id"], "Member", ()))
    assert (totals.balance, totals.entry_count) == (200, 1)
    # members cannot report the birthday action themselves, nor can the backend
    refused = await record(api, "birthday", "bd-1", member["id"])
    assert errors(refused) == [("ACTION_NOT_ALLOWED", ["input", "action"])]
    assert (await ledger_totals(api.runtime, decode(member["id"], "Member", ()))).entry_count == 1


# --- referrals -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_referral_codes_cannot_refer_yourself_nor_cross_programs(api: Api) -> None:
    await configure(api, welcomePoints=100, referrerPoints=200)
    code = (await enroll(api, "own", email="own@example.com"))["member"]["referralCode"]
    # the same person again (case of email changed), code typed in lower case
    refused = await enroll(api, "own2", email="OWN@Example.com", referralCode=code.lower())
    assert errors(refused) == [("REFERRAL_INVALID", ["input", "referralCode"])]
    # padded or made-up codes
    for bad in (f" {code} x", "Z" * 500):
        refused = await enroll(api, f"pad{len(bad)}", referralCode=bad)
        assert refused["member"] is None and refused["errors"], refused
    # a code of another program
    other = await other_program(api)
    foreign = await api.ok(
        'mutation { enroll(input: {displayName: "F"}) { member { referralCode } } }',
        token=api.token("member", "foreign", program=other),
    )
    foreign_code = foreign["enroll"]["member"]["referralCode"]
    refused = await enroll(api, "cross", referralCode=foreign_code)
    assert errors(refused) == [("REFERRAL_INVALID", ["input", "referralCode"])]
    # none of them was enrolled, and the referrer got nothing
    for sub in ("own2", "cross"):
        me = await api.raw("{ me { id } }", token=api.member(sub))
        assert me.get("data", {}).get("me") is None or me.get("errors"), me
    assert (await api.wallet("own"))["balance"] == 0


@pytest.mark.asyncio
async def test_a_blocked_members_code_pays_nobody(api: Api) -> None:
    from tests.api.referrals_support import block

    await configure(api, welcomePoints=100, referrerPoints=200)
    referrer = (await enroll(api, "blk"))["member"]
    await block(api, referrer["id"])
    joined = await enroll(api, "newb", referralCode=referrer["referralCode"])
    await untouched(api, joined["member"]["id"])
    await untouched(api, referrer["id"])


# --- challenges ------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("values", "field"),
    [
        (
            {"goal": {"kind": "PURCHASE_COUNT", "target": 0}, "rewardPoints": 10},
            ["input", "goal", "target"],
        ),
        (
            {"goal": {"kind": "PURCHASE_COUNT", "target": -5}, "rewardPoints": 10},
            ["input", "goal", "target"],
        ),
        (
            {"goal": {"kind": "PURCHASE_COUNT", "target": 1}, "rewardPoints": 2_000_000_000},
            ["input", "rewardPoints"],
        ),
        (
            {"goal": {"kind": "PURCHASE_COUNT", "target": 1}, "rewardPoints": -10},
            ["input", "rewardPoints"],
        ),
    ],
)
async def test_absurd_challenges_are_refused(
    api: Api, values: dict[str, Any], field: list[str]
) -> None:
    body = await api.ok(CREATE_CHALLENGE, {"i": {"name": "C", **values}}, api.admin())
    assert errors(body["createChallenge"]) == [("INVALID_INPUT", field)]
    listing = await api.ok("{ challenges { edges { node { id } } } }", token=api.admin())
    assert listing["challenges"]["edges"] == []


# --- leaderboard -----------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "values",
    [
        {"topN": 10**6},
        {"topN": 0},
        {"bonusPoints": [10**7]},
        {"bonusPoints": [-1]},
        {"bonusPoints": []},
    ],
)
async def test_absurd_leaderboard_settings_change_nothing(api: Api, values: dict[str, Any]) -> None:
    before = await enable(api, top_n=2, bonus=[50, 20])
    body = await api.ok(UPDATE, {"input": values}, api.admin())
    payload = body["updateLeaderboard"]
    assert payload["errors"] and payload["errors"][0]["code"] == "INVALID_INPUT", payload
    after = await api.ok(UPDATE, {"input": {}}, api.admin())
    assert after["updateLeaderboard"]["leaderboard"] == before


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("month", "first"),
    [
        ("2026-13", None),
        ("9999-12", None),
        ("2026-00", None),
        ("0001-01", None),
        ("2026-1", None),
        (" " * 30 + "2026-01", None),
        (None, 10**6),
        (None, 0),
        (None, -1),
    ],
)
async def test_absurd_board_queries_are_refused(
    api: Api, month: str | None, first: int | None
) -> None:
    await enable(api)
    body = await api.raw(BOARD, {"month": month, "first": first}, api.admin())
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body


@pytest.mark.asyncio
async def test_the_board_shows_no_ids_and_never_an_opted_out_member(api: Api) -> None:
    await enable(api, top_n=3)
    shown, hidden, left = [await api.enroll(s) for s in ("pub", "shy", "gone")]
    await opt_in(api, "pub")
    await opt_in(api, "gone")
    await opt_in(api, "gone", False)
    for member, points in ((shown, 100), (hidden, 900), (left, 800)):
        paid = await api.purchase(member["id"], uuid.uuid4().hex, points * 10)
        assert paid["errors"] == [], paid
    # the type itself has nothing that identifies a member
    fields = await api.ok('{ __type(name: "LeaderboardEntry") { fields { name } } }')
    names = {f["name"] for f in fields["__type"]["fields"]}
    assert names.isdisjoint({"id", "memberId", "email", "phone", "cardNumber", "member"})
    for token in (api.admin(), api.member("shy"), api.member("pub")):
        found = await board(api, token)
        assert [e["displayName"] for e in found["entries"]] == ["Pub"], found
    shy = await board(api, api.member("shy"))
    assert shy["optedIn"] is False and shy["me"] is None
    body = await api.raw("{ leaderboard { entries { rank id } } }", token=api.member("pub"))
    assert body["errors"], body


@pytest.mark.asyncio
async def test_a_blocked_member_earns_no_action_and_leaves_the_board(api: Api) -> None:
    from tests.api.referrals_support import block

    await enable(api, top_n=3)
    await action(
        api,
        key="checkin",
        kind="CUSTOM",
        name="Check in",
        points=5,
        reportedBy="MEMBER",
        limits=DAILY,
    )
    member = await api.enroll("bad")
    await opt_in(api, "bad")
    assert (await api.purchase(member["id"], "o-bad", 1000))["errors"] == []
    assert [e["displayName"] for e in (await board(api, api.admin()))["entries"]] == ["Bad"]
    await block(api, member["id"])
    before = await ledger_totals(api.runtime, decode(member["id"], "Member", ()))
    refused = await report(api, api.member("bad"), action="checkin", eventId="b1")
    assert refused["errors"][0]["code"] == "MEMBER_BLOCKED", refused
    refused = await record(api, "checkin", "b2", member["id"])
    assert refused["errors"][0]["code"] == "MEMBER_BLOCKED", refused
    assert await ledger_totals(api.runtime, decode(member["id"], "Member", ())) == before
    assert (await board(api, api.admin()))["entries"] == []


@pytest.mark.asyncio
async def test_a_refused_create_does_not_burn_its_idempotency_key(api: Api) -> None:
    values = {"key": "k", "kind": "CUSTOM", "name": "K", "idempotencyKey": "create-1"}
    refused = await api.ok(CREATE_ACTION, {"input": {**values, "points": 0}}, api.admin())
    assert errors(refused["createEarningAction"]) == [("INVALID_INPUT", ["input", "points"])]
    made = await api.ok(CREATE_ACTION, {"input": {**values, "points": 5}}, api.admin())
    assert made["createEarningAction"]["errors"] == [], made
    # the same key for another action is a conflict, and makes nothing
    other = {**values, "key": "other", "points": 5}
    conflict = await api.ok(CREATE_ACTION, {"input": other}, api.admin())
    assert conflict["createEarningAction"]["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    listing = await api.ok("{ earningActions { edges { node { key } } } }", token=api.admin())
    assert [e["node"]["key"] for e in listing["earningActions"]["edges"]] == ["k"]


@pytest.mark.asyncio
async def test_ids_of_the_wrong_type_or_program_are_refused(api: Api) -> None:
    created = await action(api, key="news", kind="NEWSLETTER_SIGNUP", name="News", points=10)
    member = await api.enroll("typ")
    # an action's id where a member's is expected
    refused = await record(api, "news", "t1", created["id"])
    assert errors(refused) == [("INVALID_INPUT", ["input", "memberId"])]
    # a member's id where a referral's is expected
    body = await api.ok(APPROVE, {"id": member["id"]}, api.admin())
    assert body["approveReferral"]["errors"][0]["field"] == ["input", "referralId"], body
    # another program's admin cannot archive or change this program's action
    other = api.token("admin", "a", program=await other_program(api))
    body = await api.ok(ARCHIVE_ACTION, {"id": created["id"]}, other)
    assert body["archiveEarningAction"]["errors"][0]["code"] == "NOT_FOUND", body
    listing = await api.ok("{ earningActions { edges { node { archived } } } }", token=api.admin())
    assert listing["earningActions"]["edges"] == [{"node": {"archived": False}}]
    await untouched(api, member["id"])


@pytest.mark.asyncio
async def test_a_member_not_enrolled_reports_nothing(api: Api) -> None:
    await action(
        api,
        key="checkin",
        kind="CUSTOM",
        name="Check in",
        points=5,
        reportedBy="MEMBER",
        limits=DAILY,
    )
    refused = await report(api, api.member("ghost"), action="checkin", eventId="g1")
    assert refused["errors"][0]["code"] == "NOT_ENROLLED", refused
    # enrolling afterwards: the event id was not taken by the refusal
    member = await api.enroll("ghost")
    paid = await report(api, api.member("ghost"), action="checkin", eventId="g1")
    assert paid["errors"] == [] and paid["wallet"]["balance"] == 5
    totals = await ledger_totals(api.runtime, decode(member["id"], "Member", ()))
    assert (totals.balance, totals.entry_count) == (5, 1)


@pytest.mark.asyncio
async def test_another_programs_rewards_and_badges_cannot_be_handed_out(api: Api) -> None:
    from tests.api.rewards_support import create_reward

    # given program B's reward and badge
    theirs = Api(client=api.client, runtime=api.runtime, program=await other_program(api))
    reward = await create_reward(theirs)
    made = await api.ok(
        CREATE_BADGE, {"i": {"name": "B", "imageUrl": "https://img.test/b.png"}}, theirs.admin()
    )
    badge_id = made["createBadge"]["badge"]["id"]
    # program A's admin names them in an action and in challenges
    body = await api.ok(
        CREATE_ACTION,
        {"input": {"key": "k", "kind": "CUSTOM", "name": "K", "rewardId": reward["id"]}},
        api.admin(),
    )
    assert errors(body["createEarningAction"]) == [("NOT_FOUND", ["input", "rewardId"])]
    goal = {"kind": "PURCHASE_COUNT", "target": 1}
    for extra, field in (
        ({"rewardId": reward["id"]}, "rewardId"),
        ({"badgeId": badge_id}, "badgeId"),
    ):
        body = await api.ok(
            CREATE_CHALLENGE, {"i": {"name": "C", "goal": goal, **extra}}, api.admin()
        )
        assert errors(body["createChallenge"]) == [("NOT_FOUND", ["input", field])]
    listing = await api.ok("{ earningActions { edges { node { key } } } }", token=api.admin())
    assert listing["earningActions"]["edges"] == []
    challenges = await api.ok("{ challenges { edges { node { id } } } }", token=api.admin())
    assert challenges["challenges"]["edges"] == []


@pytest.mark.asyncio
async def test_one_event_id_raced_for_two_members_credits_one_of_them_once(api: Api) -> None:
    import asyncio

    await action(api, key="review", kind="PRODUCT_REVIEW", name="Review", points=50)
    first, second = await api.enroll("rae"), await api.enroll("ron")
    targets = [first["id"], second["id"]] * 3
    answers = await asyncio.gather(*(record(api, "review", "race-1", t) for t in targets))
    codes = sorted({e["code"] for a in answers for e in a["errors"]})
    assert codes in ([], ["IDEMPOTENCY_CONFLICT"]), answers
    totals = [
        await ledger_totals(api.runtime, decode(m["id"], "Member", ())) for m in (first, second)
    ]
    assert sorted((t.balance, t.entry_count) for t in totals) == [(0, 0), (50, 1)], totals
    assert all(t.consistent() for t in totals)
