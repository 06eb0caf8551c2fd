"""The jobs' rules without a database: a fake unit of work and fake batches stand in for
the SQL (domain/services/jobs.py over domain.ports.JobBatches)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain import tiers
from domain.events import Event, TierChanged, TierChangeReason, WalletChanged
from domain.ledger import Release
from domain.model import (
    EarnRate,
    ExpiryPolicy,
    Lot,
    Member,
    PointsPolicy,
    Program,
    Tier,
    Wallet,
    new_id,
)
from domain.services.jobs import (
    JOBS,
    EvaluateTiers,
    ExpireLots,
    JobReport,
    ReleasePending,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PROGRAM = Program(new_id(), "club", "Club", "points", "EUR", EarnRate(10, 100), NOW)
BASE, SILVER, GOLD = (
    Tier(new_id(), PROGRAM.id, "Member", 0, 0, 1000),
    Tier(new_id(), PROGRAM.id, "Silver", 1, 1000, 1250),
    Tier(new_id(), PROGRAM.id, "Gold", 2, 5000, 1500),
)


def member(tier: Tier, valid_until: datetime | None) -> Member:
    return Member(new_id(), PROGRAM.id, "s", "c", "r", NOW, tier.id, tier_valid_until=valid_until)


@dataclass
class FakeBatches:
    """The due wallets, claimed in member order after the cursor; what was saved."""

    due: list[Wallet]
    lots: dict[uuid.UUID, list[Lot]] = field(default_factory=dict)
    released: list[tuple[Wallet, Release]] = field(default_factory=list)

    def _claim(self, after: uuid.UUID | None, limit: int) -> list[Wallet]:
        ordered = sorted(self.due, key=lambda w: w.member_id)
        return [w for w in ordered if after is None or w.member_id > after][:limit]

    async def claim_releasable(
        self, program_id: uuid.UUID, now: datetime, after: uuid.UUID | None, limit: int
    ) -> list[Wallet]:
        return self._claim(after, limit)

    async def held_lots(
        self, program_id: uuid.UUID, member_id: uuid.UUID, now: datetime
    ) -> list[Lot]:
        return self.lots.get(member_id, [])

    async def save_release(self, before: Wallet, release: Release, now: datetime) -> None:
        self.released.append((before, release))

    async def claim_tier_due(
        self, program_id: uuid.UUID, now: datetime, after: uuid.UUID | None, limit: int
    ) -> list[Wallet]:
        return self._claim(after, limit)


class FakeTiers:
    async def all(self, program_id: uuid.UUID) -> list[Tier]:
        return [BASE, SILVER, GOLD]


@dataclass
class FakeMembers:
    found: dict[uuid.UUID, Member]
    set: list[tuple[uuid.UUID, uuid.UUID, datetime | None]] = field(default_factory=list)

    async def get(self, program_id: uuid.UUID, member_id: uuid.UUID) -> Member | None:
        return self.found.get(member_id)

    async def set_tier(
        self, program_id: uuid.UUID, member_id: uuid.UUID, tier_id: uuid.UUID, until: Any
    ) -> None:
        self.set.append((member_id, tier_id, until))


@dataclass
class FakeLedger:
    since: dict[datetime, int]  # a member's qualifying points from a moment on

    async def qualifying_points(
        self, program_id: uuid.UUID, ids: Sequence[uuid.UUID], since: datetime, kinds: Any
    ) -> dict[uuid.UUID, int]:
        return {member_id: self.since.get(since, 0) for member_id in ids}


class FakeUow:
    """The parts of a unit of work the tier and release jobs use."""

    def __init__(self, *found: Member, qualifying: dict[datetime, int] | None = None) -> None:
        self.tiers = FakeTiers()
        self.members = FakeMembers({m.id: m for m in found})
        self.ledger = FakeLedger(qualifying or {})
        self.events: list[Event] = []

    def record(self, event: Event) -> None:
        self.events.append(event)


def wallet_of(m: Member, **values: int) -> Wallet:
    return Wallet(PROGRAM.id, m.id, **values)


async def run(job: Any, uow: FakeUow, batches: FakeBatches, limit: int = 10) -> JobReport:
    report = JobReport()
    after = None
    while True:
        after = await job.run_batch(uow, batches, PROGRAM, NOW, after, limit, report)
        if after is None:
            return report


@pytest.mark.asyncio
async def test_evaluation_keeps_the_tier_the_ended_period_earned() -> None:
    # given a gold member whose tier was kept until now, with gold's points in the 12 months
    # before and nothing yet in this period
    gold = member(GOLD, NOW)
    ended_start, ended_end = tiers.ended_period(NOW)
    uow = FakeUow(gold, qualifying={ended_start: 6000, ended_end: 0})
    # when the job evaluates
    report = await run(EvaluateTiers(), uow, FakeBatches([wallet_of(gold)]))
    # then gold stays for 12 more months, and nothing is announced
    assert uow.members.set == [(gold.id, GOLD.id, tiers.add_months(NOW, 12))]
    assert report.tier_changes == 0 and uow.events == []


@pytest.mark.asyncio
async def test_evaluation_downgrades_and_announces_the_change() -> None:
    # given a gold member who earned silver's points in the ended period
    gold = member(GOLD, NOW)
    ended_start, _ = tiers.ended_period(NOW)
    uow = FakeUow(gold, qualifying={ended_start: 1500})
    wallet = wallet_of(gold, balance=70, version=3)
    # when the job evaluates
    report = await run(EvaluateTiers(), uow, FakeBatches([wallet]))
    # then silver, announced as a TierChanged and to the wallet's subscribers (same version)
    assert uow.members.set == [(gold.id, SILVER.id, tiers.add_months(NOW, 12))]
    assert report.tier_changes == 1 and report.members == {gold.id}
    assert uow.events == [
        TierChanged(PROGRAM.id, gold.id, SILVER.id, GOLD.id, TierChangeReason.EVALUATION, NOW),
        WalletChanged(PROGRAM.id, gold.id, 3, 0, 70, 0, None),
    ]


@pytest.mark.asyncio
async def test_evaluation_to_the_entry_tier_is_for_good() -> None:
    silver = member(SILVER, NOW)
    uow = FakeUow(silver)
    await run(EvaluateTiers(), uow, FakeBatches([wallet_of(silver)]))
    assert uow.members.set == [(silver.id, BASE.id, None)]


@pytest.mark.asyncio
async def test_release_moves_due_held_points_and_announces_them() -> None:
    # given a wallet with 100 pending points whose hold ended yesterday
    m = member(BASE, None)
    wallet = wallet_of(m, pending=100, version=1)
    lot = Lot(new_id(), PROGRAM.id, m.id, 100, 100, NOW - timedelta(days=1), None, NOW, held=True)
    batches = FakeBatches([wallet], {m.id: [lot]})
    uow = FakeUow(m)
    # when the job releases
    report = await run(ReleasePending(), uow, batches)
    # then the points are spendable, saved against the claimed version, and announced
    [(before, release)] = batches.released
    assert before == wallet and release.released == {lot.id: 100}
    assert (release.wallet.balance, release.wallet.pending) == (100, 0)
    assert report.released_points == 100
    assert uow.events == [WalletChanged(PROGRAM.id, m.id, 2, 100, 100, 0, None)]


@pytest.mark.asyncio
async def test_release_leaves_lots_still_on_hold() -> None:
    m = member(BASE, None)
    lot = Lot(new_id(), PROGRAM.id, m.id, 100, 100, NOW + timedelta(days=1), None, NOW, held=True)
    batches = FakeBatches([wallet_of(m, pending=100)], {m.id: [lot]})
    uow = FakeUow(m)
    report = await run(ReleasePending(), uow, batches)
    assert batches.released == [] and report.released_points == 0 and uow.events == []


@pytest.mark.asyncio
async def test_a_job_works_through_full_batches_until_a_short_one() -> None:
    # given five due members and batches of two
    found = [member(GOLD, NOW) for _ in range(5)]
    uow = FakeUow(*found)
    # when the job runs: three batches (2, 2, 1), each member once
    report = await run(EvaluateTiers(), uow, FakeBatches([wallet_of(m) for m in found]), 2)
    assert sorted(m for m, _, _ in uow.members.set) == sorted(m.id for m in found)
    assert report.tier_changes == 5


def test_expiry_applies_only_where_points_expire() -> None:
    never = replace(PROGRAM, policy=PointsPolicy(expiry=ExpiryPolicy.NONE))
    after = replace(PROGRAM, policy=PointsPolicy(expiry=ExpiryPolicy.AFTER_EARNING))
    assert not ExpireLots().applies(never) and ExpireLots().applies(after)
    assert [job.name for job in JOBS] == [
        "release",
        "qualify-referrals",
        "expire",
        "evaluate-tiers",
        "leaderboard",
        "birthdays",
    ]
