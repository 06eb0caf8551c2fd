"""The set-based expiry job against the domain's per-wallet rules, on both databases.

Wallets are written directly (any state a ledger can reach, and some it should not:
balances short of their lots, debt next to open lots), then one job run is compared with
what `domain.ledger` decides for each wallet on its own: which lots lose what, the EXPIRE
entry, the wallet, the report and the events announced after commit.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from api.ids import decode
from api.runtime import Runtime
from domain import ledger, tiers
from domain.events import Event, WalletChanged
from domain.model import EntryKind, ExpiryPolicy, Lot, PointsPolicy, Wallet
from persistence.events import EventBus
from persistence.jobs import JobReport, Jobs
from persistence.tables import LedgerEntryRow, LotRow, WalletRow
from tests.support import Api

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
IDLE = NOW - timedelta(days=400)  # past the 12-month INACTIVITY window
ACTIVE = NOW - timedelta(days=10)
entries_t, lots_t, wallets_t = LedgerEntryRow.__table__, LotRow.__table__, WalletRow.__table__

POLICY = """mutation($p: PointsPolicyInput!) { updateProgram(input: {policy: $p}) {
  errors { code field } } }"""


class RecordingBus(EventBus):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    def after_commit(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


@dataclass(frozen=True)
class L:
    """A lot to seed: expiry and age relative to NOW (negative expiry = in the past)."""

    points: int
    expires: timedelta | None
    remaining: int | None = None
    held: bool = False
    age: timedelta = timedelta(days=200)


@dataclass
class Seeded:
    wallet: Wallet
    lots: list[Lot]
    last_activity_at: datetime


async def setup(api: Api, policy: str, count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    data = await api.ok(POLICY, {"p": {"expiry": policy, "expiryMonths": 12}}, api.admin())
    assert data["updateProgram"]["errors"] == []
    members = [decode((await api.enroll(f"x{n}"))["id"], "Member", ()) for n in range(count)]
    async with api.runtime.reader() as uow:
        program = await uow.programs.get_by_slug(api.program)
    assert program is not None
    return program.id, members


async def seed(
    runtime: Runtime,
    program_id: uuid.UUID,
    member_id: uuid.UUID,
    lots: Sequence[L],
    balance: int,
    last_activity_at: datetime = IDLE,
) -> Seeded:
    """One EARN entry per lot, and an ADJUST for whatever else makes up `balance`."""
    rows, entries, seeded = [], [], []
    version = 0
    for spec in lots:
        version += 1
        entry_id, lot_id = uuid.uuid4(), uuid.uuid4()
        created = NOW - spec.age
        entries.append(_entry(program_id, member_id, version, "EARN", spec.points, created))
        entries[-1]["id"] = entry_id
        lot = Lot(
            id=lot_id,
            program_id=program_id,
            member_id=member_id,
            points=spec.points,
            remaining=spec.points if spec.remaining is None else spec.remaining,
            available_at=created if not spec.held else NOW + timedelta(days=5),
            expires_at=None if spec.expires is None else NOW + spec.expires,
            created_at=created,
            held=spec.held,
            entry_id=entry_id,
        )
        seeded.append(lot)
        rows.append(
            {
                "id": lot.id,
                "program_id": program_id,
                "member_id": member_id,
                "entry_id": entry_id,
                "points": lot.points,
                "remaining": lot.remaining,
                "available_at": lot.available_at,
                "expires_at": lot.expires_at,
                "created_at": lot.created_at,
                "held": lot.held,
            }
        )
    pending = sum(lot.remaining for lot in seeded if lot.held)
    rest = balance + pending - sum(spec.points for spec in lots)
    if rest:
        version += 1
        entries.append(_entry(program_id, member_id, version, "ADJUST", rest, NOW - timedelta(1)))
    lifetime = sum(spec.points for spec in lots)
    async with runtime.uow() as uow:
        if entries:
            await uow.conn.execute(insert(entries_t), entries)
        if rows:
            await uow.conn.execute(insert(lots_t), rows)
        await uow.conn.execute(
            wallets_t.update()
            .where(wallets_t.c.member_id == member_id)
            .values(
                balance=balance,
                pending=pending,
                version=version,
                lifetime_earned=lifetime,
                last_activity_at=last_activity_at,
            )
        )
        await uow.commit()
    wallet = Wallet(program_id, member_id, balance, pending, lifetime, version)
    return Seeded(wallet, seeded, last_activity_at)


def _entry(
    program_id: uuid.UUID, member_id: uuid.UUID, version: int, kind: str, points: int, at: datetime
) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "program_id": program_id,
        "member_id": member_id,
        "version": version,
        "kind": kind,
        "points": points,
        "balance_after": 0,
        "description": "seed",
        "reference": "seed",
        "actor": "test",
        "occurred_at": at,
    }


@dataclass
class Expected:
    wallet: Wallet
    remaining: dict[uuid.UUID, int]
    points: int  # expired
    lots: int  # expired lots counted in the report


def reference(seeded: Seeded, policy: PointsPolicy) -> Expected:
    """What the domain decides for this wallet alone (the per-wallet job of before)."""
    unchanged = Expected(seeded.wallet, {lot.id: lot.remaining for lot in seeded.lots}, 0, 0)
    idle_since = tiers.add_months(NOW, -policy.expiry_months)
    if policy.expiry is ExpiryPolicy.INACTIVITY and seeded.last_activity_at > idle_since:
        return unchanged
    expired = ledger.expired_lots(seeded.lots, policy, NOW)
    points = ledger.expiring_points(seeded.wallet, sum(lot.remaining for lot in expired))
    if points <= 0:
        return unchanged
    posting = ledger.expire(seeded.wallet, expired, points, now=NOW, actor="system:jobs")
    after = ledger.apply_takes(seeded.lots, posting.takes)
    return Expected(posting.wallet, {lot.id: lot.remaining for lot in after}, points, len(expired))


async def check(runtime: Runtime, seeded: Seeded, expected: Expected) -> None:
    member_id = seeded.wallet.member_id
    async with runtime.reader() as uow:
        wallet = await uow.ledger.wallet(seeded.wallet.program_id, member_id)
        lots = {
            row.id: row.remaining
            for row in await uow.conn.execute(
                select(lots_t.c.id, lots_t.c.remaining).where(lots_t.c.member_id == member_id)
            )
        }
        expiries = (
            await uow.conn.execute(
                select(entries_t).where(
                    entries_t.c.member_id == member_id, entries_t.c.kind == "EXPIRE"
                )
            )
        ).all()
        activity = (
            await uow.conn.execute(
                select(wallets_t.c.last_activity_at).where(wallets_t.c.member_id == member_id)
            )
        ).scalar_one()
    assert wallet == expected.wallet
    assert lots == expected.remaining
    if expected.points == 0:
        assert expiries == []
        assert activity == seeded.last_activity_at
        return
    [entry] = expiries
    assert (entry.version, entry.points, entry.balance_after) == (
        expected.wallet.version,
        -expected.points,
        expected.wallet.balance,
    )
    assert (entry.kind, entry.description, entry.reference, entry.actor, entry.occurred_at) == (
        EntryKind.EXPIRE.value,
        "Points expired",
        "expiry:2026-06-01",
        "system:jobs",
        NOW,
    )
    assert activity == NOW  # a posting is activity, as for every other entry


async def run(runtime: Runtime, program: str, batch: int, bus: EventBus | None = None) -> JobReport:
    # bounded: a job that claims the same wallets again and again never ends
    return await asyncio.wait_for(Jobs(runtime.db, bus, batch=batch).run_once(NOW, program), 60)


def expected_events(seeded: Sequence[Seeded], expected: Sequence[Expected]) -> dict:  # type: ignore[type-arg]
    return {
        s.wallet.member_id: (e.wallet.version, -e.points, e.wallet.balance, e.wallet.pending)
        for s, e in zip(seeded, expected, strict=True)
        if e.points
    }


def announced(bus: RecordingBus) -> dict:  # type: ignore[type-arg]
    events = [e for e in bus.events if isinstance(e, WalletChanged)]
    assert len({e.member_id for e in events}) == len(events), "one event per wallet"
    assert all(e.entry_id is not None for e in events)
    return {e.member_id: (e.version, e.delta, e.balance, e.pending) for e in events}


@pytest.mark.asyncio
async def test_a_balance_short_of_the_expired_lots_expires_only_the_balance(
    api: Api, runtime: Runtime
) -> None:
    program_id, [member] = await setup(api, "AFTER_EARNING", 1)
    lots = [
        L(100, timedelta(days=-30), age=timedelta(days=300)),
        L(100, timedelta(days=-60), age=timedelta(days=330)),  # expired first: taken first
        L(100, timedelta(days=30)),
    ]
    seeded = await seed(runtime, program_id, member, lots, balance=150)  # after a reversal
    report = await run(runtime, api.program, batch=10)
    assert (report.expired_points, report.expired_lots) == (150, 2)
    older, newer, later = seeded.lots[1], seeded.lots[0], seeded.lots[2]
    expected = Expected(
        replace(seeded.wallet, balance=0, version=seeded.wallet.version + 1),
        {older.id: 0, newer.id: 50, later.id: 100},
        150,
        2,
    )
    assert reference(seeded, api_policy(ExpiryPolicy.AFTER_EARNING)) == expected
    await check(runtime, seeded, expected)


def api_policy(expiry: ExpiryPolicy) -> PointsPolicy:
    return replace(PointsPolicy(), expiry=expiry, expiry_months=12)


@pytest.mark.asyncio
async def test_wallets_in_debt_or_at_zero_lose_nothing_and_the_job_ends(
    api: Api, runtime: Runtime
) -> None:
    program_id, members = await setup(api, "AFTER_EARNING", 6)
    due = [L(100, timedelta(days=-1)), L(50, timedelta(days=-2))]
    stuck = [await seed(runtime, program_id, m, due, balance=-40) for m in members[:3]]
    stuck.append(await seed(runtime, program_id, members[3], due, balance=0))
    normal = [await seed(runtime, program_id, m, due, balance=150) for m in members[4:]]
    # more stuck wallets than a batch: the old job claimed them again and again, forever
    report = await run(runtime, api.program, batch=2)
    assert (report.expired_points, report.expired_lots) == (300, 4)
    policy = api_policy(ExpiryPolicy.AFTER_EARNING)
    for seeded in stuck + normal:
        expected = reference(seeded, policy)
        assert expected.points == (150 if seeded in normal else 0)
        await check(runtime, seeded, expected)


@pytest.mark.asyncio
async def test_inactivity_expires_every_spendable_lot_of_idle_wallets_only(
    api: Api, runtime: Runtime
) -> None:
    program_id, members = await setup(api, "INACTIVITY", 4)
    lots = [
        L(100, None, age=timedelta(days=500)),  # no expiry date: spent last
        L(100, timedelta(days=10)),
        L(100, timedelta(days=-10)),
        L(50, None, held=True),  # pending: not spendable, does not expire
    ]
    idle = await seed(runtime, program_id, members[0], lots, balance=300)
    active = await seed(runtime, program_id, members[1], lots, balance=300, last_activity_at=ACTIVE)
    short = await seed(runtime, program_id, members[2], lots, balance=150)
    never = await seed(runtime, program_id, members[3], lots, balance=300, last_activity_at=NOW)
    bus = RecordingBus()
    report = await run(runtime, api.program, batch=2, bus=bus)
    assert (report.expired_points, report.expired_lots) == (450, 6)
    policy = api_policy(ExpiryPolicy.INACTIVITY)
    by_hand = {
        idle.wallet.member_id: (0, [0, 0, 0, 50]),
        active.wallet.member_id: (300, [100, 100, 100, 50]),
        short.wallet.member_id: (0, [100, 50, 0, 50]),  # soonest expiry first, undated last
        never.wallet.member_id: (300, [100, 100, 100, 50]),
    }
    seeded = [idle, active, short, never]
    for one in seeded:
        expected = reference(one, policy)
        balance, remaining = by_hand[one.wallet.member_id]
        assert expected.wallet.balance == balance and expected.wallet.pending == 50
        assert [expected.remaining[lot.id] for lot in one.lots] == remaining
        await check(runtime, one, expected)
    assert announced(bus) == expected_events(seeded, [reference(s, policy) for s in seeded])
    # a second run finds nothing: expiry was activity, and the rest is spent or held
    again = await run(runtime, api.program, batch=2)
    assert (again.expired_points, again.expired_lots) == (0, 0)


@pytest.mark.asyncio
async def test_only_the_due_lots_of_a_wallet_expire(api: Api, runtime: Runtime) -> None:
    program_id, [member] = await setup(api, "AFTER_EARNING", 1)
    lots = [
        L(100, timedelta(days=-3)),
        L(100, timedelta(0)),  # expires exactly now: due
        L(100, timedelta(seconds=1)),  # one second later: not yet
        L(100, None),  # never expires
        L(100, timedelta(days=-3), remaining=40),  # partly spent
        L(100, timedelta(days=-3), remaining=0),  # spent
        L(100, timedelta(days=-3), held=True),  # pending (refunds may still take it)
    ]
    seeded = await seed(runtime, program_id, member, lots, balance=440)
    report = await run(runtime, api.program, batch=5)
    assert (report.expired_points, report.expired_lots) == (240, 3)
    expected = reference(seeded, api_policy(ExpiryPolicy.AFTER_EARNING))
    assert [expected.remaining[lot.id] for lot in seeded.lots] == [0, 0, 100, 100, 0, 0, 100]
    assert (expected.wallet.balance, expected.wallet.pending) == (200, 100)
    await check(runtime, seeded, expected)


@pytest.mark.parametrize("count", [6, 7])  # the last batch full, then empty; or short
@pytest.mark.asyncio
async def test_batch_boundaries_expire_every_wallet_once_and_announce_each(
    api: Api, runtime: Runtime, count: int
) -> None:
    program_id, members = await setup(api, "AFTER_EARNING", count)
    lots = [L(100, timedelta(days=-5)), L(30, timedelta(days=-1)), L(70, timedelta(days=9))]
    seeded = []
    for n, member in enumerate(members):
        # one wallet per batch short of its lots: both ways through the same batch
        balance = 120 if n % 3 == 1 else 200
        seeded.append(await seed(runtime, program_id, member, lots, balance=balance))
    bus = RecordingBus()
    report = await run(runtime, api.program, batch=3, bus=bus)
    policy = api_policy(ExpiryPolicy.AFTER_EARNING)
    expected = [reference(one, policy) for one in seeded]
    assert report.expired_points == sum(e.points for e in expected)
    assert report.expired_lots == 2 * count
    assert report.members == set(members)
    for one, exp in zip(seeded, expected, strict=True):
        await check(runtime, one, exp)
    assert announced(bus) == expected_events(seeded, expected)


@pytest.mark.parametrize("expiry", [ExpiryPolicy.AFTER_EARNING, ExpiryPolicy.INACTIVITY])
@pytest.mark.asyncio
async def test_random_wallets_end_as_the_domain_rules_say(
    api: Api, runtime: Runtime, expiry: ExpiryPolicy
) -> None:
    rng = random.Random(f"expiry-{expiry.value}")
    program_id, members = await setup(api, expiry.value, 16)
    seeded = []
    for member in members:
        lots = []
        for _ in range(rng.randint(0, 6)):
            points = rng.choice([1, 10, 100, 250])
            lots.append(
                L(
                    points,
                    rng.choice([None, timedelta(days=rng.randint(-90, 90)), timedelta(0)]),
                    remaining=rng.choice([points, points, 0, rng.randint(0, points)]),
                    held=rng.random() < 0.15,
                    age=timedelta(days=rng.randint(100, 900), seconds=rng.randint(0, 99)),
                )
            )
        spendable = sum(
            (spec.points if spec.remaining is None else spec.remaining)
            for spec in lots
            if not spec.held
        )
        # mostly consistent; sometimes short of the lots (reversals) or in debt
        balance = rng.choice([spendable, spendable, spendable - rng.randint(0, 120), -25])
        activity = rng.choice([IDLE, ACTIVE])
        seeded.append(await seed(runtime, program_id, member, lots, balance, activity))
    bus = RecordingBus()
    report = await run(runtime, api.program, batch=4, bus=bus)
    policy = api_policy(expiry)
    expected = [reference(one, policy) for one in seeded]
    assert report.expired_points == sum(e.points for e in expected)
    assert report.expired_lots == sum(e.lots for e in expected)
    for one, exp in zip(seeded, expected, strict=True):
        await check(runtime, one, exp)
    assert announced(bus) == expected_events(seeded, expected)
