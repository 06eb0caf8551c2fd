"""Challenges and badges through GraphQL: admins define them, purchases advance members'
progress in their own transaction, completion pays once, members see their own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.runtime import Runtime
from tests.api.live_support import connect, running, wait_for_subscribers
from tests.api.rewards_support import create_reward
from tests.support import Api, MovableClock, StatementCounter, ledger_totals, unique_slug

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CREATE = """mutation($i: CreateChallengeInput!) { createChallenge(input: $i) {
  challenge { id name goal { kind target category actionKind } startsAt endsAt period hidden
    archivedAt tiers { name } reward { points badge { name } reward { name } } }
  errors { code field message } } }"""
UPDATE = """mutation($i: UpdateChallengeInput!) { updateChallenge(input: $i) {
  challenge { id name endsAt hidden reward { points } } errors { code field message } } }"""
ARCHIVE = """mutation($id: ID!) { archiveChallenge(input: {challengeId: $id}) {
  challenge { id archivedAt } errors { code field message } } }"""
BADGE = """mutation($i: CreateBadgeInput!) { createBadge(input: $i) {
  badge { id name description imageUrl } errors { code field message } } }"""
ME = """{ me { challenges { id name description goal { kind target category } progress
  completedAt endsAt reward { points badge { name } reward { name } } }
  badges { name description imageUrl awardedAt } } }"""
PURCHASE = """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
  pointsEarned wallet { balance version } errors { code field message } } }"""
HISTORY = """{ me { wallet { history(first: 20) { nodes { kind points description } } } } }"""


async def challenge(api: Api, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Three visits",
        "goal": {"kind": "PURCHASE_COUNT", "target": 3},
        "rewardPoints": 500,
        **fields,
    }
    payload = (await api.ok(CREATE, {"i": values}, api.admin()))["createChallenge"]
    assert payload["errors"] == [], payload
    return payload["challenge"]


async def badge(api: Api, name: str = "Regular") -> dict[str, Any]:
    values = {"name": name, "description": "Came back", "imageUrl": "https://img.test/b.png"}
    payload = (await api.ok(BADGE, {"i": values}, api.admin()))["createBadge"]
    assert payload["errors"] == [], payload
    return payload["badge"]


async def buy(
    api: Api,
    member_id: str,
    order: str,
    amount: int,
    lines: list[dict[str, Any]] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "memberId": member_id,
        "orderId": order,
        "total": {"amountMinor": amount, "currency": "EUR"},
    }
    if lines is not None:
        values["lines"] = lines
    if at is not None:
        values["occurredAt"] = at.isoformat()
    payload = (await api.ok(PURCHASE, {"i": values}, api.admin()))["recordPurchase"]
    assert payload["errors"] == [], payload
    return payload


async def mine(api: Api, sub: str) -> dict[str, Any]:
    return (await api.ok(ME, token=api.member(sub)))["me"]


@pytest.mark.asyncio
async def test_purchases_complete_a_challenge_that_pays_once(api: Api, clock: MovableClock) -> None:
    # given a challenge of three purchases paying 500 points and a badge
    clock.freeze(T0)
    regular = await badge(api)
    made = await challenge(api, badgeId=regular["id"], description="Visit us three times")
    assert made["goal"] == {
        "kind": "PURCHASE_COUNT",
        "target": 3,
        "category": None,
        "actionKind": None,
    }
    assert made["reward"] == {"points": 500, "badge": {"name": "Regular"}, "reward": None}
    member = await api.enroll("alice")
    # when the member makes two purchases, progress shows and nothing is paid yet
    await buy(api, member["id"], "o-1", 1000)
    await buy(api, member["id"], "o-2", 1000)
    seen = (await mine(api, "alice"))["challenges"]
    assert [(c["name"], c["progress"], c["completedAt"]) for c in seen] == [
        ("Three visits", 2, None)
    ]
    assert seen[0]["description"] == "Visit us three times"
    # the third completes it: the purchase's answer already holds the challenge's points
    third = await buy(api, member["id"], "o-3", 1000)
    assert third["wallet"]["balance"] == 300 + 500
    # a fourth counts but pays nothing more
    fourth = await buy(api, member["id"], "o-4", 1000)
    assert fourth["wallet"]["balance"] == 400 + 500
    me = await mine(api, "alice")
    assert me["challenges"][0]["progress"] == 4
    assert me["challenges"][0]["completedAt"] is not None
    assert [(b["name"], b["imageUrl"]) for b in me["badges"]] == [
        ("Regular", "https://img.test/b.png")
    ]
    history = (await api.ok(HISTORY, token=api.member("alice")))["me"]["wallet"]["history"]
    challenge_entries = [e for e in history["nodes"] if e["kind"] == "CHALLENGE"]
    assert challenge_entries == [
        {"kind": "CHALLENGE", "points": 500, "description": "Challenge completed: Three visits"}
    ]
    # the ledger stays consistent, and the points count as earned
    totals = await ledger_totals(api.runtime, _uuid(member["id"]))
    assert totals.consistent() and totals.balance == 900
    assert (await api.wallet("alice"))["lifetimeEarned"] == 900
    # a retried purchase (same order id) neither counts again nor pays again
    await buy(api, member["id"], "o-4", 1000)
    assert (await mine(api, "alice"))["challenges"][0]["progress"] == 4


def _uuid(global_id: str) -> Any:
    from api.ids import parse

    parsed = parse(global_id)
    assert parsed is not None
    return parsed[1]


@pytest.mark.asyncio
async def test_completion_arrives_on_wallet_changed(api: Api, runtime: Runtime) -> None:
    async with running(runtime, api.program) as (live_api, live_runtime, host):
        await challenge(live_api, goal={"kind": "PURCHASE_COUNT", "target": 1}, rewardPoints=50)
        member = await live_api.enroll("walt")
        query = "subscription { walletChanged { delta version entry { kind points } } }"
        async with connect(host, live_api.member("walt")) as sock:
            assert (await sock.receive())["type"] == "connection_ack"
            await sock.subscribe("1", query)
            await wait_for_subscribers(live_runtime, 1)
            await live_api.purchase(member["id"], "o-1", 1000)
            first = (await sock.next_data())["walletChanged"]
            second = (await sock.next_data())["walletChanged"]
        assert first == {"delta": 100, "version": 1, "entry": {"kind": "EARN", "points": 100}}
        assert second == {
            "delta": 50,
            "version": 2,
            "entry": {"kind": "CHALLENGE", "points": 50},
        }


@pytest.mark.asyncio
async def test_category_goals_count_only_matching_lines(api: Api, clock: MovableClock) -> None:
    clock.freeze(T0)
    await challenge(
        api,
        name="Shoe lover",
        goal={"kind": "CATEGORY_PURCHASES", "target": 2, "category": "Shoes"},
    )
    await challenge(
        api,
        name="Shoe spend",
        goal={"kind": "CATEGORY_SPEND", "target": 10_000, "category": "shoes"},
    )
    member = await api.enroll("bea")
    shoes = {"sku": "boot", "category": "SHOES", "quantity": 2, "unitPriceMinor": 3000}
    socks = {"sku": "sock", "category": "socks", "quantity": 1, "unitPriceMinor": 500}
    # a purchase of socks only counts for neither
    await buy(api, member["id"], "o-1", 500, [socks])
    got = (await mine(api, "bea"))["challenges"]
    assert [(c["name"], c["progress"]) for c in got] == [("Shoe lover", 0), ("Shoe spend", 0)]
    # boots and socks: one purchase in shoes, 6,000 spent on shoes (not the socks' 500)
    await buy(api, member["id"], "o-2", 6500, [shoes, socks])
    got = (await mine(api, "bea"))["challenges"]
    assert [(c["name"], c["progress"]) for c in got] == [("Shoe lover", 1), ("Shoe spend", 6000)]
    assert got[0]["goal"] == {"kind": "CATEGORY_PURCHASES", "target": 2, "category": "shoes"}
    # a purchase without lines is not a shoe purchase
    await buy(api, member["id"], "o-3", 9000)
    got = (await mine(api, "bea"))["challenges"]
    assert [(c["name"], c["progress"]) for c in got] == [("Shoe lover", 1), ("Shoe spend", 6000)]
    # more boots complete both
    await buy(api, member["id"], "o-4", 6000, [shoes])
    got = (await mine(api, "bea"))["challenges"]
    assert all(c["completedAt"] for c in got)
    assert (await api.wallet("bea"))["balance"] == (500 + 6500 + 9000 + 6000) // 10 + 1000


@pytest.mark.asyncio
async def test_monthly_window_starts_at_local_midnight(api: Api, clock: MovableClock) -> None:
    # given a program in Berlin (UTC+1 in winter) and "3 purchases in shoes this month"
    zone = 'mutation { updateProgram(input: {timeZone: "Europe/Berlin"}) { errors { code } } }'
    assert (await api.ok(zone, token=api.admin()))["updateProgram"]["errors"] == []
    clock.freeze(datetime(2026, 11, 30, 22, 45, tzinfo=UTC))
    await challenge(
        api,
        name="Shoes this month",
        goal={"kind": "CATEGORY_PURCHASES", "target": 3, "category": "shoes"},
        period="MONTH",
        startsAt=datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
    )
    member = await api.enroll("cleo")
    shoes = [{"sku": "boot", "category": "shoes", "quantity": 1, "unitPriceMinor": 1000}]
    # two purchases in November (the second at 23:30 local on the 30th)
    await buy(api, member["id"], "nov-1", 1000, shoes, datetime(2026, 11, 30, 10, tzinfo=UTC))
    await buy(api, member["id"], "nov-2", 1000, shoes, datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    november = (await mine(api, "cleo"))["challenges"][0]
    assert november["progress"] == 2
    assert november["endsAt"] == "2026-11-30T23:00:00+00:00"  # 1 December, local midnight
    # when December begins in Berlin (23:30 UTC on 30 November is 00:30 local on the 1st)
    clock.freeze(datetime(2026, 11, 30, 23, 45, tzinfo=UTC))
    await buy(api, member["id"], "dec-1", 1000, shoes, datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    # then it counts for December, which starts again from zero, and November is not complete
    december = (await mine(api, "cleo"))["challenges"][0]
    assert (december["progress"], december["completedAt"]) == (1, None)
    assert december["endsAt"] == "2026-12-31T23:00:00+00:00"
    assert (await api.wallet("cleo"))["balance"] == 300


@pytest.mark.asyncio
async def test_hidden_until_started_and_only_for_its_tiers(api: Api, clock: MovableClock) -> None:
    clock.freeze(T0)
    gold = (
        await api.ok(
            'mutation { createTier(input: {name: "Gold", threshold: 100000}) { tier { id } } }',
            token=api.admin(),
        )
    )["createTier"]["tier"]["id"]
    await challenge(api, name="Secret", hidden=True, goal={"kind": "SPEND", "target": 50_000})
    await challenge(api, name="Gold only", tierIds=[gold])
    member = await api.enroll("dana")
    # nothing is shown before the first purchase: the hidden one has no progress, the
    # other is for Gold members
    assert (await mine(api, "dana"))["challenges"] == []
    await buy(api, member["id"], "o-1", 1200)
    seen = (await mine(api, "dana"))["challenges"]
    assert [(c["name"], c["progress"]) for c in seen] == [("Secret", 1200)]
    # and the Gold challenge did not count the purchase for a member below Gold
    listing = await api.ok("{ challenges { nodes { name tiers { name } } } }", token=api.admin())
    assert {c["name"]: c["tiers"] for c in listing["challenges"]["nodes"]} == {
        "Secret": [],
        "Gold only": [{"name": "Gold"}],
    }


@pytest.mark.asyncio
async def test_a_badge_is_awarded_once_and_a_voucher_issued(api: Api, clock: MovableClock) -> None:
    clock.freeze(T0)
    regular = await badge(api)
    coffee = await create_reward(api, stock=5)
    # a weekly challenge gives the badge and a free coffee each week
    await challenge(
        api,
        name="Weekly",
        goal={"kind": "PURCHASE_COUNT", "target": 1},
        period="WEEK",
        rewardPoints=0,
        rewardId=coffee["id"],
        badgeId=regular["id"],
    )
    member = await api.enroll("eve")
    await buy(api, member["id"], "w1", 100)
    clock.advance(timedelta(days=7))
    await buy(api, member["id"], "w2", 100)
    me = await mine(api, "eve")
    assert [b["name"] for b in me["badges"]] == ["Regular"]  # once, though completed twice
    assert me["challenges"][0]["reward"]["reward"] == {"name": "Free coffee"}
    vouchers = await api.ok(
        "{ me { usableVouchers { voucherCode pointsSpent reward { name } } } }",
        token=api.member("eve"),
    )
    usable = vouchers["me"]["usableVouchers"]
    assert len(usable) == 2 and {v["pointsSpent"] for v in usable} == {0}
    assert (await api.wallet("eve"))["balance"] == 20  # only the purchases' points


@pytest.mark.asyncio
async def test_admins_update_archive_and_list_challenges(api: Api, clock: MovableClock) -> None:
    clock.freeze(T0)
    made = await challenge(api, endsAt=(T0 + timedelta(days=30)).isoformat())
    changed = (
        await api.ok(
            UPDATE,
            {"i": {"challengeId": made["id"], "rewardPoints": 700, "endsAt": None}},
            api.admin(),
        )
    )["updateChallenge"]
    assert changed["errors"] == []
    assert changed["challenge"]["reward"] == {"points": 700}
    assert changed["challenge"]["endsAt"] is None
    member = await api.enroll("finn")
    await buy(api, member["id"], "o-1", 100)
    archived = (await api.ok(ARCHIVE, {"id": made["id"]}, api.admin()))["archiveChallenge"]
    assert archived["errors"] == [] and archived["challenge"]["archivedAt"]
    # an archived challenge leaves the member's list and stops counting
    assert (await mine(api, "finn"))["challenges"] == []
    listing = "query($a: Boolean) { challenges(archived: $a) { nodes { name } } }"
    assert (await api.ok(listing, {"a": True}, api.admin()))["challenges"]["nodes"] == [
        {"name": "Three visits"}
    ]
    assert (await api.ok(listing, {"a": False}, api.admin()))["challenges"]["nodes"] == []
    refused = await api.ok(UPDATE, {"i": {"challengeId": made["id"], "name": "x"}}, api.admin())
    assert refused["updateChallenge"]["errors"][0]["code"] == "INVALID_INPUT"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"name": "  "}, "INVALID_INPUT", ["input", "name"]),
        (
            {"goal": {"kind": "PURCHASE_COUNT", "target": 0}},
            "INVALID_INPUT",
            ["input", "goal", "target"],
        ),
        (
            {"goal": {"kind": "CATEGORY_SPEND", "target": 5}},
            "INVALID_INPUT",
            ["input", "goal", "category"],
        ),
        (
            {"goal": {"kind": "SPEND", "target": 5, "category": "shoes"}},
            "INVALID_INPUT",
            ["input", "goal", "category"],
        ),
        (
            {"goal": {"kind": "ACTION_COUNT", "target": 5}},
            "INVALID_INPUT",
            ["input", "goal", "actionKind"],
        ),
        ({"rewardPoints": 0}, "INVALID_INPUT", ["input", "rewardPoints"]),
        ({"rewardPoints": -5}, "INVALID_INPUT", ["input", "rewardPoints"]),
        (
            {"startsAt": "2026-12-01T00:00:00+00:00", "endsAt": "2026-11-01T00:00:00+00:00"},
            "INVALID_INPUT",
            ["input", "endsAt"],
        ),
        ({"tierIds": ["nonsense"]}, "INVALID_INPUT", ["input", "tierIds"]),
        (
            {"badgeId": "QmFkZ2U6MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA"},
            "NOT_FOUND",
            ["input", "badgeId"],
        ),
        ({"rewardId": "eA"}, "INVALID_INPUT", ["input", "rewardId"]),
    ],
)
async def test_bad_input_is_refused_with_the_field_and_nothing_is_written(
    api: Api, values: dict[str, Any], code: str, field: list[str]
) -> None:
    base = {"name": "Ok", "goal": {"kind": "PURCHASE_COUNT", "target": 3}, "rewardPoints": 10}
    payload = (await api.ok(CREATE, {"i": {**base, **values}}, api.admin()))["createChallenge"]
    assert payload["challenge"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert (await api.ok("{ challenges { nodes { id } } }", token=api.admin()))["challenges"][
        "nodes"
    ] == []


@pytest.mark.asyncio
async def test_bad_badges_are_refused(api: Api) -> None:
    for values, field in (
        ({"name": ""}, "name"),
        ({"name": "B", "imageUrl": "http://insecure.test/b.png"}, "imageUrl"),
    ):
        payload = (await api.ok(BADGE, {"i": values}, api.admin()))["createBadge"]
        assert payload["badge"] is None
        assert payload["errors"][0]["field"] == ["input", field]
    assert (await api.ok("{ badges { id } }", token=api.admin()))["badges"] == []


@pytest.mark.asyncio
async def test_only_admins_define_challenges_and_programs_see_only_their_own(api: Api) -> None:
    made = await challenge(api, goal={"kind": "PURCHASE_COUNT", "target": 1})
    await api.enroll("gus")
    values = {"name": "Mine", "goal": {"kind": "PURCHASE_COUNT", "target": 1}, "rewardPoints": 1}
    for token in (api.member("gus"), api.staff()):
        refused = await api.raw(CREATE, {"i": values}, token)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        listing = await api.raw("{ challenges { nodes { id } } }", token=token)
        assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        archive = await api.raw(ARCHIVE, {"id": made["id"]}, token)
        assert archive["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    node = "query($id: ID!) { node(id: $id) { ... on Challenge { name } } }"
    assert (await api.ok(node, {"id": made["id"]}, api.admin()))["node"] == {"name": "Three visits"}
    assert (await api.ok(node, {"id": made["id"]}, api.member("gus")))["node"] is None
    # another program's admin sees none of it and cannot change it
    other = unique_slug()
    from domain.services.programs import create_program

    async with api.runtime.uow() as uow:
        await create_program(uow, api.runtime.clock, slug=other, name="Other", currency="EUR")
    stranger = api.token("admin", "admin-2", program=other)
    assert (await api.ok("{ challenges { nodes { id } } }", token=stranger))["challenges"][
        "nodes"
    ] == []
    assert (await api.ok(node, {"id": made["id"]}, stranger))["node"] is None
    archived = (await api.ok(ARCHIVE, {"id": made["id"]}, stranger))["archiveChallenge"]
    assert archived["errors"][0]["code"] == "NOT_FOUND"
    # and a member of the other program sees no challenge of this one
    other_api = Api(client=api.client, runtime=api.runtime, program=other)
    await other_api.enroll("gus")
    assert (await mine(other_api, "gus"))["challenges"] == []


@pytest.mark.asyncio
async def test_concurrent_purchases_across_the_goal_complete_once(
    api: Api, runtime: Runtime
) -> None:
    # given a challenge of 5 purchases and a member with 3
    await challenge(api, goal={"kind": "PURCHASE_COUNT", "target": 5}, rewardPoints=1000)
    member = await api.enroll("hal")
    for n in range(3):
        await buy(api, member["id"], f"seed-{n}", 1000)
    # when 10 purchases race across the goal
    results = await asyncio.gather(
        *(api.purchase(member["id"], f"race-{n}", 1000) for n in range(10))
    )
    assert all(r["errors"] == [] for r in results)
    # then every purchase counted, and the challenge paid once
    got = (await mine(api, "hal"))["challenges"][0]
    assert got["progress"] == 13 and got["completedAt"] is not None
    totals = await ledger_totals(runtime, _uuid(member["id"]))
    assert totals.consistent()
    assert totals.balance == 13 * 100 + 1000
    assert totals.entry_count == 13 + 1


@pytest.mark.asyncio
async def test_me_challenges_takes_the_same_statements_for_many_challenges(
    api: Api, runtime: Runtime
) -> None:
    regular = await badge(api)
    coffee = await create_reward(api)
    member = await api.enroll("ida")
    counts = []
    for round_ in range(2):
        for n in range(4):
            await challenge(
                api,
                name=f"C{round_}-{n}",
                badgeId=regular["id"],
                rewardId=coffee["id"],
                period="MONTH" if n % 2 else None,
            )
        await buy(api, member["id"], f"o-{round_}", 1000)
        with StatementCounter(runtime) as counter:
            data = await api.ok(ME, token=api.member("ida"))
        assert len(data["me"]["challenges"]) == 4 * (round_ + 1)
        counts.append(len([s for s in counter.statements if "cost_bucket" not in s]))
    # program+tiers, member, challenges, progress, badges, rewards, member badges
    assert counts[0] == counts[1] == 7, counts


REFUND = """mutation($i: RefundPurchaseInput!) { refundPurchase(input: $i) {
  errors { code field } } }"""


@pytest.mark.asyncio
async def test_a_refund_leaves_progress_and_the_completion_as_they_were(api: Api) -> None:
    # given a completed challenge of two purchases
    await challenge(api, goal={"kind": "PURCHASE_COUNT", "target": 2}, rewardPoints=300)
    member = await api.enroll("kai")
    await buy(api, member["id"], "o-1", 1000)
    await buy(api, member["id"], "o-2", 1000)
    # when one of the purchases is refunded in full
    refund = {
        "orderId": "o-2",
        "idempotencyKey": "r-1",
        "amount": {"amountMinor": 1000, "currency": "EUR"},
    }
    assert (await api.ok(REFUND, {"i": refund}, api.admin()))["refundPurchase"]["errors"] == []
    # then progress is not rolled back and the challenge's points stay (a simple rule,
    # stated in the README): only the purchase's own points are taken back
    got = (await mine(api, "kai"))["challenges"][0]
    assert (got["progress"], got["completedAt"] is not None) == (2, True)
    assert (await api.wallet("kai"))["balance"] == 100 + 300


@pytest.mark.asyncio
async def test_create_retries_with_a_key_make_one_challenge_and_badges_change(api: Api) -> None:
    values = {
        "name": "Once",
        "goal": {"kind": "SPEND", "target": 10_000},
        "rewardPoints": 5,
        "idempotencyKey": "k-1",
    }
    first = (await api.ok(CREATE, {"i": values}, api.admin()))["createChallenge"]
    again = (await api.ok(CREATE, {"i": values}, api.admin()))["createChallenge"]
    assert first["errors"] == [] and again["challenge"] == first["challenge"]
    other = {**values, "name": "Twice"}
    conflict = (await api.ok(CREATE, {"i": other}, api.admin()))["createChallenge"]
    assert conflict["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    listing = await api.ok("{ challenges { nodes { name } } }", token=api.admin())
    assert listing["challenges"]["nodes"] == [{"name": "Once"}]
    # a badge's text changes for everyone who holds it
    made = await badge(api)
    update = """mutation($i: UpdateBadgeInput!) { updateBadge(input: $i) {
      badge { name description imageUrl } errors { code field } } }"""
    changed = await api.ok(update, {"i": {"badgeId": made["id"], "name": "Loyal"}}, api.admin())
    assert changed["updateBadge"]["badge"] == {
        "name": "Loyal",
        "description": "Came back",
        "imageUrl": "https://img.test/b.png",
    }
    assert (await api.ok("{ badges { name } }", token=api.admin()))["badges"] == [{"name": "Loyal"}]
    refused = await api.raw(update, {"i": {"badgeId": made["id"]}}, api.member("x"))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.asyncio
async def test_the_admins_listing_reads_badges_and_rewards_in_one_batch(
    api: Api, runtime: Runtime
) -> None:
    regular = await badge(api)
    coffee = await create_reward(api)
    query = """{ challenges(first: 50) { nodes { name tiers { name }
      reward { points badge { name } reward { name } } } } }"""
    counts = []
    for add in (2, 4):
        for _ in range(add):
            await challenge(api, badgeId=regular["id"], rewardId=coffee["id"])
        with StatementCounter(runtime) as counter:
            data = await api.ok(query, token=api.admin())
        assert len(data["challenges"]["nodes"]) == 2 + 4 * (add == 4)
        counts.append(len([s for s in counter.statements if "cost_bucket" not in s]))
    # program+tiers (the request's, and the use case's), the page, one badge batch, one
    # reward batch
    assert counts[0] == counts[1] == 5, [s[:60] for s in counter.statements]
