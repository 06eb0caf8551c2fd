"""`loyalty jobs` on both databases: release, expiry, tier evaluation, concurrent runners."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from api.ids import decode
from api.runtime import Runtime
from persistence.jobs import Jobs
from persistence.tables import LedgerEntryRow, LotRow, WalletRow
from tests.support import Api, MovableClock, ledger_totals

POLICY = """mutation($p: PointsPolicyInput!) { updateProgram(input: {policy: $p}) {
  errors { code field } } }"""


async def policy(api: Api, **values: object) -> None:
    data = await api.ok(POLICY, {"p": values}, api.admin())
    assert data["updateProgram"]["errors"] == []


def jobs(runtime: Runtime) -> Jobs:
    return Jobs(runtime.db, runtime.bus)


@pytest.mark.asyncio
async def test_pending_points_are_released_when_the_hold_ends(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    await policy(api, holdDays=14)
    member = await api.enroll("alice")
    await api.purchase(member["id"], "o-1", 10_000)
    await jobs(runtime).run_once(clock.now() + timedelta(days=13), api.program)
    assert (await api.wallet("alice"))["pending"] == 1000
    report = await jobs(runtime).run_once(clock.now() + timedelta(days=14, seconds=1), api.program)
    assert report.released_points >= 1000
    wallet = await api.wallet("alice")
    assert (wallet["balance"], wallet["pending"], wallet["version"]) == (1000, 0, 2)
    totals = await ledger_totals(runtime, decode(member["id"], "Member", ()))
    assert totals.consistent(), totals


@pytest.mark.asyncio
async def test_points_expire_months_after_earning_soonest_first(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    clock.freeze(datetime(2026, 1, 15, 12, tzinfo=UTC))
    await policy(api, expiry="AFTER_EARNING", expiryMonths=6, expiryAtMonthEnd=True)
    member = await api.enroll("bob")
    await api.purchase(member["id"], "old", 5000)  # 500, expires 2026-08-01
    clock.advance(timedelta(days=40))
    await api.purchase(member["id"], "new", 3000)  # 300, expires 2026-09-01
    await api.adjust(member["id"], -200, "spend")  # taken from the old lot first
    expiring = await api.ok(
        "{ me { wallet { expiring { points expiresAt } } } }", token=api.member("bob")
    )
    assert expiring["me"]["wallet"]["expiring"] == [
        {"points": 300, "expiresAt": "2026-08-01T00:00:00+00:00"},
        {"points": 300, "expiresAt": "2026-09-01T00:00:00+00:00"},
    ]
    await jobs(runtime).run_once(datetime(2026, 7, 31, 23, 59, tzinfo=UTC), api.program)
    assert (await api.wallet("bob"))["balance"] == 600
    await jobs(runtime).run_once(datetime(2026, 8, 1, tzinfo=UTC), api.program)
    wallet = await api.wallet("bob")
    assert wallet["balance"] == 300
    # running again changes nothing
    await jobs(runtime).run_once(datetime(2026, 8, 2, tzinfo=UTC), api.program)
    assert (await api.wallet("bob")) == wallet
    history = await api.ok(
        "{ me { wallet { history(first: 1) { edges { node { kind points } } } } } }",
        token=api.member("bob"),
    )
    assert history["me"]["wallet"]["history"]["edges"][0]["node"] == {
        "kind": "EXPIRE",
        "points": -300,
    }
    assert (await ledger_totals(runtime, decode(member["id"], "Member", ()))).consistent()


@pytest.mark.asyncio
async def test_all_points_expire_after_months_without_activity(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    await policy(api, expiry="INACTIVITY", expiryMonths=12)
    idle = await api.enroll("cara")
    active = await api.enroll("dan")
    await api.purchase(idle["id"], "o-1", 1000)
    await api.purchase(active["id"], "o-2", 1000)
    clock.advance(timedelta(days=300))
    await api.purchase(active["id"], "o-3", 1000)  # activity resets the clock
    await jobs(runtime).run_once(clock.now() + timedelta(days=70), api.program)
    assert (await api.wallet("cara"))["balance"] == 0
    assert (await api.wallet("dan"))["balance"] == 200


@pytest.mark.asyncio
async def test_tiers_go_up_at_once_and_down_only_at_evaluation(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    clock.freeze(datetime(2026, 3, 1, tzinfo=UTC))
    for name, threshold in (("Silver", 1000), ("Gold", 5000)):
        await api.ok(
            """mutation($n: String!, $t: Int!) {
                 createTier(input: {name: $n, threshold: $t}) { errors { code } } }""",
            {"n": name, "t": threshold},
            api.admin(),
        )
    member = await api.enroll("eve")
    progress = """{ me { tier { name } tierProgress { qualifyingPoints pointsToNext percent
      next { name } pointsToKeep keptUntil periodEndsAt } } }"""
    await api.purchase(member["id"], "o-1", 8000)
    before = (await api.ok(progress, token=api.member("eve")))["me"]
    assert before["tier"] == {"name": "Member"}
    assert before["tierProgress"]["pointsToNext"] == 200
    assert before["tierProgress"]["percent"] == 80.0
    await api.purchase(member["id"], "o-2", 3000)  # 1,100: Silver at once
    after = (await api.ok(progress, token=api.member("eve")))["me"]
    assert after["tier"] == {"name": "Silver"}
    assert after["tierProgress"]["next"] == {"name": "Gold"}
    assert after["tierProgress"]["keptUntil"] == "2028-01-01T00:00:00+00:00"
    assert after["tierProgress"]["periodEndsAt"] == "2027-01-01T00:00:00+00:00"
    # spending does not lower qualifying points
    await api.adjust(member["id"], -1000, "spend")
    spent = (await api.ok(progress, token=api.member("eve")))["me"]["tierProgress"]
    assert spent["qualifyingPoints"] == 1100
    # 2027 passes with little earning: Silver is kept through 2027 ...
    clock.freeze(datetime(2027, 6, 1, tzinfo=UTC))
    await api.purchase(member["id"], "o-3", 1000)
    await jobs(runtime).run_once(datetime(2027, 12, 31, tzinfo=UTC), api.program)
    assert (await api.ok(progress, token=api.member("eve")))["me"]["tier"] == {"name": "Silver"}
    # ... and evaluated at its end: 100 points in 2027 earn the entry tier
    report = await jobs(runtime).run_once(datetime(2028, 1, 1, tzinfo=UTC), api.program)
    assert report.tier_changes >= 1
    assert (await api.ok(progress, token=api.member("eve")))["me"]["tier"] == {"name": "Member"}


@pytest.mark.asyncio
async def test_two_runners_at_once_expire_each_lot_exactly_once(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    await policy(api, expiry="AFTER_EARNING", expiryMonths=1)
    members = [await api.enroll(f"m{n}") for n in range(12)]
    for n, member in enumerate(members):
        for k in range(3):
            await api.purchase(member["id"], f"o-{n}-{k}", 1000)
    later = clock.now() + timedelta(days=40)
    other = Runtime(
        runtime.settings, type(runtime.db)(runtime.settings.database_url), runtime.clock
    )
    try:
        first, second = await asyncio.gather(
            Jobs(runtime.db, batch=5).run_once(later, api.program),
            Jobs(other.db, batch=5).run_once(later, api.program),
        )
    finally:
        await other.db.dispose()
    assert first.expired_points + second.expired_points == 12 * 300
    assert first.expired_lots + second.expired_lots == 12 * 3
    entries = LedgerEntryRow.__table__
    async with runtime.reader() as uow:
        expiries = (
            await uow.conn.execute(
                select(func.count()).where(
                    entries.c.kind == "EXPIRE",
                    entries.c.member_id.in_([decode(m["id"], "Member", ()) for m in members]),
                )
            )
        ).scalar_one()
    assert expiries == 12
    for member in members:
        totals = await ledger_totals(runtime, decode(member["id"], "Member", ()))
        assert totals.balance == 0 and totals.consistent(), totals


@pytest.mark.asyncio
async def test_many_lots_expire_in_one_set_based_run(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    # given 5,000 expired lots over 250 members, written directly (as years of earning would)
    await policy(api, expiry="AFTER_EARNING", expiryMonths=1)
    members = [decode((await api.enroll(f"bulk{n}"))["id"], "Member", ()) for n in range(250)]
    async with runtime.reader() as uow:
        program = await uow.programs.get_by_slug(api.program)
    assert program is not None
    earned = clock.now() - timedelta(days=90)
    lots = LotRow.__table__
    entries = LedgerEntryRow.__table__
    async with runtime.uow() as uow:
        for member_id in members:
            entry_id = uuid.uuid4()
            await uow.conn.execute(
                insert(entries).values(
                    id=entry_id,
                    program_id=program.id,
                    member_id=member_id,
                    version=1,
                    kind="EARN",
                    points=20 * 10,
                    balance_after=200,
                    description="seed",
                    reference="seed",
                    actor="test",
                    occurred_at=earned,
                )
            )
            await uow.conn.execute(
                insert(lots),
                [
                    {
                        "id": uuid.uuid4(),
                        "program_id": program.id,
                        "member_id": member_id,
                        "entry_id": entry_id,
                        "points": 10,
                        "remaining": 10,
                        "available_at": earned,
                        "expires_at": earned + timedelta(days=30),
                        "created_at": earned,
                        "held": False,
                    }
                    for _ in range(20)
                ],
            )
            wallets = WalletRow.__table__
            await uow.conn.execute(
                wallets.update()
                .where(wallets.c.member_id == member_id)
                .values(balance=200, version=1, lifetime_earned=200)
            )
        await uow.commit()
    started = time.perf_counter()
    report = await jobs(runtime).run_once(clock.now(), api.program)
    elapsed = time.perf_counter() - started
    assert report.expired_lots == 5000 and report.expired_points == 50_000
    print(f"\n5,000 lots over 250 wallets expired in {elapsed:.2f}s ({runtime.db.dialect})")
