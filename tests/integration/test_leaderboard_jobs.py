"""`loyalty jobs` pays the month just ended its leaderboard bonus: once, to the top N who
opted in (ties included, blocked members skipped), in the program's zone, also when two
runners race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.ids import decode
from api.runtime import Runtime
from persistence.jobs import Jobs
from persistence.tables import LeaderboardPayoutRow, LedgerEntryRow
from tests.api.leaderboard_support import board, enable, member_earning, opt_in, set_zone
from tests.support import Api, MovableClock, ledger_totals

# 1 February 2026, 00:30 in Berlin: January has just ended there (not yet in UTC)
FEBRUARY_IN_BERLIN = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
HISTORY = (
    """{ me { wallet { balance history(first: 5) { nodes { kind points description } } } } }"""
)


def jobs(runtime: Runtime) -> Jobs:
    return Jobs(runtime.db, runtime.bus)


async def bonuses(api: Api, sub: str) -> list[tuple[int, str]]:
    data = await api.ok(HISTORY, token=api.member(sub))
    nodes = data["me"]["wallet"]["history"]["nodes"]
    return [(n["points"], n["description"]) for n in nodes if n["kind"] == "BONUS"]


async def payouts(runtime: Runtime, api: Api, month: str) -> int:
    payout_t = LeaderboardPayoutRow.__table__  # type: ignore[attr-defined]
    entries_t = LedgerEntryRow.__table__  # type: ignore[attr-defined]
    async with runtime.reader() as uow:
        program = await uow.programs.get_by_slug(api.program)
        assert program is not None
        rows = (
            await uow.conn.execute(
                select(func.count()).where(
                    payout_t.c.program_id == program.id, payout_t.c.month == month
                )
            )
        ).scalar_one()
        entries = (
            await uow.conn.execute(
                select(func.count()).where(
                    entries_t.c.program_id == program.id,
                    entries_t.c.reference == f"leaderboard:{month}",
                )
            )
        ).scalar_one()
    assert rows == entries
    return int(rows)


async def january_in_berlin(api: Api, clock: MovableClock, top_n: int, bonus: list[int]) -> None:
    await set_zone(api, "Europe/Berlin")
    clock.freeze(datetime(2026, 1, 5, 12, tzinfo=UTC))
    await enable(api, top_n=top_n, bonus=bonus)


@pytest.mark.asyncio
async def test_the_top_members_are_paid_once_when_the_month_has_ended_in_the_zone(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    # given January in Berlin: five members opted in, one blocked, one not opted in
    await january_in_berlin(api, clock, top_n=2, bonus=[500, 200])
    alice = await member_earning(api, "alice", 3000, "a-1")  # 300
    blocked = await member_earning(api, "bob", 9000, "b-1")  # 900, then blocked
    await member_earning(api, "carol", 2000, "c-1")  # 200
    await member_earning(api, "dave", 1000, "d-1")  # 100
    erin = await api.enroll("erin")
    await api.purchase(erin["id"], "e-1", 8000)  # 800, never opted in
    await member_earning(api, "fay", 7000, "f-1")  # 700, opts out again
    await opt_in(api, "fay", False)
    blocking = await api.ok(
        """mutation($id: ID!) { blockMember(input: {memberId: $id, blocked: true,
             reason: "fraud check"}) { errors { code } } }""",
        {"id": blocked},
        api.admin(),
    )
    assert blocking["blockMember"]["errors"] == []
    # when the jobs run an hour before January ends in Berlin, nothing is due
    early = await jobs(runtime).run_once(FEBRUARY_IN_BERLIN - timedelta(hours=1), api.program)
    assert early.leaderboard_bonuses == 0
    # then just after it ends there, the top two who opted in and are not blocked are paid
    clock.freeze(FEBRUARY_IN_BERLIN)
    report = await jobs(runtime).run_once(FEBRUARY_IN_BERLIN, api.program)
    assert report.leaderboard_bonuses == 2
    assert await bonuses(api, "alice") == [(500, "Leaderboard bonus: rank 1 in 2026-01")]
    assert await bonuses(api, "carol") == [(200, "Leaderboard bonus: rank 2 in 2026-01")]
    for sub in ("dave", "erin", "fay"):
        assert await bonuses(api, sub) == []
    # and a second run (the same moment or days later) pays nothing more
    for later in (FEBRUARY_IN_BERLIN, FEBRUARY_IN_BERLIN + timedelta(days=3)):
        again = await jobs(runtime).run_once(later, api.program)
        assert again.leaderboard_bonuses == 0
    assert await payouts(runtime, api, "2026-01") == 2
    wallet = (await api.ok(HISTORY, token=api.member("alice")))["me"]["wallet"]
    assert wallet["balance"] == 800
    totals = await ledger_totals(runtime, decode(alice, "Member", ()))
    assert totals.consistent(), totals
    # the bonus does not count on February's board: winners start level
    assert (await board(api, api.member("alice"), "2026-02"))["entries"] == []


@pytest.mark.asyncio
async def test_ties_on_a_paid_rank_are_all_paid(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    # given 500, 300, 300 and 100 points and the top 2 paid
    await january_in_berlin(api, clock, top_n=2, bonus=[500, 200])
    await member_earning(api, "max", 5000, "m-1")
    await member_earning(api, "amy", 3000, "a-1")
    await member_earning(api, "zoe", 3000, "z-1")
    await member_earning(api, "ben", 1000, "b-1")
    # when January is paid
    report = await jobs(runtime).run_once(FEBRUARY_IN_BERLIN, api.program)
    # then rank 1 and both members sharing rank 2 are paid; rank 4 is not
    assert report.leaderboard_bonuses == 3
    assert await bonuses(api, "max") == [(500, "Leaderboard bonus: rank 1 in 2026-01")]
    assert await bonuses(api, "amy") == [(200, "Leaderboard bonus: rank 2 in 2026-01")]
    assert await bonuses(api, "zoe") == [(200, "Leaderboard bonus: rank 2 in 2026-01")]
    assert await bonuses(api, "ben") == []


@pytest.mark.asyncio
async def test_two_runners_at_once_pay_the_month_once(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    # given eight members in January and the top five paid
    await january_in_berlin(api, clock, top_n=5, bonus=[100])
    for n in range(8):
        await member_earning(api, f"m{n}", 1000 * (n + 1), f"o-{n}")
    other = Runtime(
        runtime.settings, type(runtime.db)(runtime.settings.database_url), runtime.clock
    )
    # when two job processes run at the same moment, each on its own connections
    try:
        first, second = await asyncio.gather(
            Jobs(runtime.db).run_once(FEBRUARY_IN_BERLIN, api.program),
            Jobs(other.db).run_once(FEBRUARY_IN_BERLIN, api.program),
        )
    finally:
        await other.db.dispose()
    # then five members are paid, once each
    assert sorted([first.leaderboard_bonuses, second.leaderboard_bonuses]) == [0, 5]
    assert await payouts(runtime, api, "2026-01") == 5
    for n in range(8):
        expected = [(100, f"Leaderboard bonus: rank {8 - n} in 2026-01")] if n >= 3 else []
        assert await bonuses(api, f"m{n}") == expected


@pytest.mark.asyncio
async def test_a_month_that_ended_before_the_leaderboard_was_switched_on_pays_nothing(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    # given points earned in January, and the leaderboard switched on on 3 February
    clock.freeze(datetime(2026, 1, 10, tzinfo=UTC))
    alice = await member_earning(api, "alice", 3000, "a-1")
    clock.freeze(datetime(2026, 2, 3, tzinfo=UTC))
    await enable(api, top_n=1, bonus=[100])
    # when the jobs run in February, January is not paid
    report = await jobs(runtime).run_once(datetime(2026, 2, 3, 1, tzinfo=UTC), api.program)
    assert report.leaderboard_bonuses == 0
    # February is, once it ends
    await api.purchase(alice, "a-2", 1000)
    report = await jobs(runtime).run_once(datetime(2026, 3, 1, 0, 5, tzinfo=UTC), api.program)
    assert report.leaderboard_bonuses == 1
    assert await bonuses(api, "alice") == [(100, "Leaderboard bonus: rank 1 in 2026-02")]
    # and a switched-off leaderboard pays nothing for March
    data = await api.ok(
        "mutation { updateLeaderboard(input: {enabled: false}) { errors { code } } }",
        token=api.admin(),
    )
    assert data["updateLeaderboard"]["errors"] == []
    clock.freeze(datetime(2026, 3, 10, tzinfo=UTC))
    await api.purchase(alice, "a-3", 1000)
    report = await jobs(runtime).run_once(datetime(2026, 4, 1, 0, 5, tzinfo=UTC), api.program)
    assert report.leaderboard_bonuses == 0
