"""The monthly leaderboard through GraphQL: opting in and out, ranking, what counts, months in
the program's zone, bad input, who may do what, and what a read costs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.runtime import Runtime
from domain.services.programs import create_program
from tests.api.leaderboard_support import (
    OPT_IN,
    REFUND,
    UPDATE,
    board,
    enable,
    member_earning,
    opt_in,
    ranks,
    set_zone,
)
from tests.support import Api, MovableClock, StatementCounter, unique_slug


@pytest.mark.asyncio
async def test_members_who_opted_in_are_ranked_by_points_with_their_own_rank(api: Api) -> None:
    # given four members who earned this month, three of them opted in
    await enable(api)
    await member_earning(api, "alice", 3000, "a-1")  # 300
    await member_earning(api, "bob", 5000, "b-1")  # 500
    await member_earning(api, "dave", 2000, "d-1")  # 200
    carol = await api.enroll("carol")
    await api.purchase(carol["id"], "c-1", 9000)  # 900, but not opted in
    # when dave reads the top two
    found = await board(api, api.member("dave"), first=2)
    # then the top two show by display name only, and dave sees his own rank below them
    assert found["enabled"] is True and found["optedIn"] is True
    assert ranks(found) == [(1, "Bob", 500), (2, "Alice", 300)]
    assert [e["isMe"] for e in found["entries"]] == [False, False]
    assert found["me"] == {"rank": 3, "points": 200, "isMe": True}
    # bob's own entry is marked for bob
    for_bob = await board(api, api.member("bob"))
    assert [e["isMe"] for e in for_bob["entries"]] == [True, False, False]
    # carol, not opted in, sees the board but is not on it
    for_carol = await board(api, api.member("carol"))
    assert for_carol["optedIn"] is False and for_carol["me"] is None
    assert ranks(for_carol) == [(1, "Bob", 500), (2, "Alice", 300), (3, "Dave", 200)]
    # the admin sees the same names, and no own entry
    for_admin = await board(api, api.admin())
    assert ranks(for_admin) == ranks(for_carol) and for_admin["me"] is None


@pytest.mark.asyncio
async def test_opting_out_takes_a_member_off_and_opting_in_again_brings_them_back(
    api: Api,
) -> None:
    await enable(api)
    await member_earning(api, "alice", 3000, "a-1")
    await member_earning(api, "bob", 5000, "b-1")
    # when bob opts out
    await opt_in(api, "bob", False)
    found = await board(api, api.member("bob"))
    # then he is off the board and alice leads
    assert ranks(found) == [(1, "Alice", 300)]
    assert found["optedIn"] is False and found["me"] is None
    # opting out twice is fine, and opting in again shows the month's points once more
    await opt_in(api, "bob", False)
    await opt_in(api, "bob", True)
    await opt_in(api, "bob", True)
    assert ranks(await board(api, api.member("bob"))) == [(1, "Bob", 500), (2, "Alice", 300)]


@pytest.mark.asyncio
async def test_refunds_lower_the_month_and_spending_expiry_and_adjustments_do_not_count(
    api: Api,
) -> None:
    await enable(api)
    alice = await member_earning(api, "alice", 5000, "a-1")  # 500
    bob = await member_earning(api, "bob", 4000, "b-1")  # 400
    # when alice's order is half refunded and bob spends points and gets a goodwill credit
    refunded = await api.ok(
        REFUND,
        {
            "i": {
                "orderId": "a-1",
                "idempotencyKey": "r-1",
                "amount": {"amountMinor": 2500, "currency": "EUR"},
            }
        },
        api.admin(),
    )
    assert refunded["refundPurchase"]["errors"] == [], refunded
    assert (await api.adjust(bob, -300, "k-1", "spent at the till"))["errors"] == []
    assert (await api.adjust(bob, 1000, "k-2", "goodwill"))["errors"] == []
    assert (await api.adjust(alice, 50, "k-3", "goodwill"))["errors"] == []
    # then alice counts 250 (500 less the refund) and bob 400 (neither spending nor
    # adjustments change what he earned)
    assert ranks(await board(api, api.admin())) == [(1, "Bob", 400), (2, "Alice", 250)]


@pytest.mark.asyncio
async def test_equal_points_share_a_rank_and_the_next_rank_is_skipped(api: Api) -> None:
    await enable(api)
    await member_earning(api, "zoe", 3000, "z-1")
    await member_earning(api, "amy", 3000, "a-1")
    await member_earning(api, "max", 5000, "m-1")
    await member_earning(api, "ben", 1000, "b-1")
    found = await board(api, api.member("zoe"))
    # ties listed by display name
    assert ranks(found) == [(1, "Max", 500), (2, "Amy", 300), (2, "Zoe", 300), (4, "Ben", 100)]
    assert found["me"] == {"rank": 2, "points": 300, "isMe": True}


@pytest.mark.asyncio
async def test_months_run_in_the_programs_zone(api: Api, clock: MovableClock) -> None:
    # given a program in Berlin (UTC+1 in winter) and a purchase at 23:30 UTC on 31 January:
    # 00:30 on 1 February in Berlin
    await set_zone(api, "Europe/Berlin")
    await enable(api)
    clock.freeze(datetime(2026, 1, 31, 22, 30, tzinfo=UTC))  # 23:30 in Berlin: January
    await member_earning(api, "alice", 1000, "a-jan")
    clock.freeze(datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    await member_earning(api, "bob", 2000, "b-feb")
    token = api.member("bob")
    # then bob's points count for February, alice's for January
    assert ranks(await board(api, token, "2026-01")) == [(1, "Alice", 100)]
    february = await board(api, token, "2026-02")
    assert ranks(february) == [(1, "Bob", 200)] and february["month"] == "2026-02"
    # and the current month, left out, is already February there
    assert (await board(api, token))["month"] == "2026-02"
    # a later month has nobody yet
    assert ranks(await board(api, token, "2026-03")) == []


@pytest.mark.asyncio
async def test_a_program_without_the_leaderboard_shows_nobody(api: Api) -> None:
    await member_earning(api, "alice", 3000, "a-1")
    data = await api.ok(
        "{ program { leaderboard { enabled topN bonusPoints } } }", token=api.admin()
    )
    assert data["program"]["leaderboard"] == {
        "enabled": False,
        "topN": 3,
        "bonusPoints": [500, 300, 100],
    }
    found = await board(api, api.member("alice"))
    assert found["enabled"] is False and found["entries"] == [] and found["me"] is None
    assert found["optedIn"] is True  # members may opt in before the brand switches it on


@pytest.mark.asyncio
async def test_admins_set_the_leaderboard_and_members_read_it_on_the_program(api: Api) -> None:
    settings = await enable(api, top_n=5, bonus=[1000, 500])
    assert settings == {"enabled": True, "topN": 5, "bonusPoints": [1000, 500]}
    # a partial change leaves the rest as it was
    data = await api.ok(UPDATE, {"input": {"topN": 2}}, api.admin())
    assert data["updateLeaderboard"]["leaderboard"] == {
        "enabled": True,
        "topN": 2,
        "bonusPoints": [1000, 500],
    }
    await api.enroll("alice")
    read = await api.ok("{ program { leaderboard { enabled topN } } }", token=api.member("alice"))
    assert read["program"]["leaderboard"] == {"enabled": True, "topN": 2}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"topN": 0}, "topN"),
        ({"topN": 101}, "topN"),
        ({"bonusPoints": []}, "bonusPoints"),
        ({"bonusPoints": [100, -5]}, "bonusPoints"),
        ({"bonusPoints": [1_000_001]}, "bonusPoints"),
    ],
)
async def test_bad_settings_are_refused_and_nothing_changes(
    api: Api, change: dict, field: str
) -> None:
    await enable(api, top_n=3, bonus=[50])
    data = await api.ok(UPDATE, {"input": {"enabled": False, **change}}, api.admin())
    payload = data["updateLeaderboard"]
    assert payload["leaderboard"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("INVALID_INPUT", ["input", field])
    ]
    read = await api.ok(
        "{ program { leaderboard { enabled topN bonusPoints } } }", token=api.admin()
    )
    assert read["program"]["leaderboard"] == {"enabled": True, "topN": 3, "bonusPoints": [50]}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("month", "first", "field"),
    [
        ("2026-13", None, "month"),
        ("2026-00", None, "month"),
        ("26-01", None, "month"),
        ("2026-1", None, "month"),
        ("December", None, "month"),
        ("0001-01", None, "month"),
        ("2026-01" * 10, None, "month"),
        (None, 0, "first"),
        (None, 101, "first"),
        (None, -1, "first"),
    ],
)
async def test_a_bad_month_or_size_is_invalid_input_on_its_argument(
    api: Api, month: str | None, first: int | None, field: str
) -> None:
    await enable(api)
    await member_earning(api, "alice", 1000, "a-1")
    body = await api.raw(
        """query($month: String, $first: Int) { leaderboard(month: $month, first: $first) {
             entries { rank } } }""",
        {"month": month, "first": first},
        api.member("alice"),
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["field"] == [field]


@pytest.mark.asyncio
async def test_only_the_member_opts_in_and_staff_partners_and_the_shop_read_nothing(
    api: Api,
) -> None:
    await enable(api)
    await member_earning(api, "alice", 1000, "a-1")
    await api.scan("alice")  # even with the member's card scanned
    for token in (
        api.staff(),
        api.token("partner", "p-user", partner="p1"),
        api.token("shop", "shop-1"),
        api.admin(),
    ):
        body = await api.raw(OPT_IN, {"optIn": True}, token)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for token in (api.staff(), api.token("partner", "p-user", partner="p1")):
        body = await api.raw("{ leaderboard { entries { rank } } }", token=token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # members cannot change the settings
    body = await api.raw(UPDATE, {"input": {"enabled": False}}, api.member("alice"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # a member who has not enrolled cannot opt in
    data = await api.ok(OPT_IN, {"optIn": True}, api.member("nobody"))
    assert data["setLeaderboardOptIn"]["optedIn"] is None
    assert data["setLeaderboardOptIn"]["errors"][0]["code"] == "NOT_ENROLLED"


@pytest.mark.asyncio
async def test_another_program_sees_none_of_this_programs_members(
    api: Api, runtime: Runtime
) -> None:
    # given a program with a leaderboard and members on it
    await enable(api)
    await member_earning(api, "alice", 1000, "a-1")
    # and another program with its leaderboard on, and one member of the same subject
    other_slug = unique_slug()
    async with runtime.uow() as uow:
        await create_program(uow, runtime.clock, slug=other_slug, name="Other", currency="EUR")
    other = Api(client=api.client, runtime=runtime, program=other_slug)
    await enable(other)
    await other.enroll("alice")
    # then the other program's member and admin see an empty board
    for token in (other.member("alice"), other.admin()):
        found = await board(other, token)
        assert found["entries"] == [] and found["me"] is None
    # and alice of the other program is not opted in there
    assert (await board(other, other.member("alice")))["optedIn"] is False
    # an admin of the other program does not change this program's settings
    await other.ok(UPDATE, {"input": {"enabled": False}}, other.admin())
    assert (await board(api, api.member("alice")))["enabled"] is True


@pytest.mark.asyncio
@pytest.mark.parametrize("members", [3, 15])
async def test_the_board_reads_the_ledger_once_whatever_its_length(
    api: Api, runtime: Runtime, members: int
) -> None:
    # given members with several purchases each
    await enable(api)
    for n in range(members):
        member_id = await member_earning(api, f"m{n:02d}", 1000 + n, f"o-{n}-0")
        await api.purchase(member_id, f"o-{n}-1", 500)
    # when a member reads the whole board
    with StatementCounter(runtime) as counter:
        found = await board(api, api.member("m00"), first=100)
    # then: program+tiers, the member, their opt-in, the settings, and one aggregate
    assert len(found["entries"]) == members
    reads = [s for s in counter.statements if "cost_bucket" not in s]
    assert len(reads) == 5, reads
    assert len([s for s in reads if "ledger_entry" in s]) == 1, reads
