"""Running the background jobs (`loyalty jobs`): the loop and the SQL of their claims.

The rules are the domain's (domain/services/jobs.py); here each job's due members are
found with one set-based query and claimed in batches (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several job processes share the work and never touch the same wallet
twice; on SQLite the single writer lock does it). Claiming the wallet before its lots
keeps the lock order of every other writer: no deadlocks. Expiry applies the rules to a
whole batch in a few statements (persistence/repositories/expiry.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import ledger
from domain.ledger import Release
from domain.model import Lot, Posting, Program, Wallet
from domain.ports import JobBatches
from domain.services.jobs import JOBS, SYSTEM, Job, JobReport
from persistence.db import Database
from persistence.events import EventBus
from persistence.repositories.actions import birthday_due
from persistence.repositories.expiry import SqlExpiryRepository, expired_lot_conditions
from persistence.rows import (
    lot_from_row,
    lots_t,
    members_t,
    program_from_row,
    programs_t,
    wallet_from_row,
    wallets_t,
)
from persistence.unit_of_work import SqlUnitOfWork

__all__ = ["BATCH", "SYSTEM", "JobReport", "Jobs", "SqlJobBatches"]

BATCH = 500


class Jobs:
    def __init__(self, db: Database, bus: EventBus | None = None, batch: int = BATCH) -> None:
        self.db = db
        self.bus = bus
        self.batch = batch

    async def run_once(self, now: datetime, program_slug: str | None = None) -> JobReport:
        """Every job for every program (or one), until nothing is due."""
        report = JobReport()
        query = select(programs_t)
        if program_slug is not None:
            query = query.where(programs_t.c.slug == program_slug)
        async with SqlUnitOfWork(self.db, write=False) as uow:
            rows = (await uow.conn.execute(query)).all()
        for program in [program_from_row(row) for row in rows]:
            for job in JOBS:
                if job.applies(program):
                    await self._drain(job, program, now, report)
        return report

    async def _drain(self, job: Job, program: Program, now: datetime, report: JobReport) -> None:
        """A transaction per batch, committed before the next one is claimed."""
        after: uuid.UUID | None = None
        while True:
            async with SqlUnitOfWork(self.db, write=True, bus=self.bus) as uow:
                batches = SqlJobBatches(uow.conn)
                after = await job.run_batch(uow, batches, program, now, after, self.batch, report)
                await uow.commit()
            if after is None:
                return


class SqlJobBatches:
    """domain.ports.JobBatches over SQL."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.expiry = SqlExpiryRepository(conn)

    async def _claim(
        self, program_id: uuid.UUID, due: Sequence[Any], after: uuid.UUID | None, limit: int
    ) -> list[Wallet]:
        """Lock the wallets of up to `limit` due members (`due`: conditions on the wallet
        row) that no other runner holds, in member order after `after`."""
        if after is not None:
            due = (*due, wallets_t.c.member_id > after)
        stmt = (
            select(wallets_t)
            .where(wallets_t.c.program_id == program_id, *due)
            .order_by(wallets_t.c.member_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [wallet_from_row(row) for row in await self.conn.execute(stmt)]

    async def claim_releasable(
        self, program_id: uuid.UUID, now: datetime, after: uuid.UUID | None, limit: int
    ) -> list[Wallet]:
        # A lot that would take the balance past the maximum stays pending, and its wallet
        # is not due until spending makes room (ledger.fits_release).
        due = (
            select(lots_t.c.id)
            .where(
                lots_t.c.program_id == program_id,
                lots_t.c.member_id == wallets_t.c.member_id,
                lots_t.c.held.is_(True),
                lots_t.c.available_at <= now,
                lots_t.c.remaining <= ledger.MAX_BALANCE - wallets_t.c.balance,
            )
            .exists()
        )
        return await self._claim(program_id, [due], after, limit)

    async def held_lots(
        self, program_id: uuid.UUID, member_id: uuid.UUID, now: datetime
    ) -> list[Lot]:
        result = await self.conn.execute(
            select(lots_t).where(
                lots_t.c.program_id == program_id,
                lots_t.c.member_id == member_id,
                lots_t.c.held.is_(True),
                (lots_t.c.remaining > 0)
                | ((lots_t.c.remaining == 0) & (lots_t.c.available_at <= now)),
            )
        )
        return [lot_from_row(row) for row in result]

    async def save_release(self, before: Wallet, release: Release, now: datetime) -> None:
        for lot_id, remaining in release.released.items():
            await self.conn.execute(
                update(lots_t)
                .where(
                    lots_t.c.program_id == before.program_id,
                    lots_t.c.id == lot_id,
                    lots_t.c.held.is_(True),
                )
                .values(held=False, released_at=now, remaining=remaining)
            )
        if not release.points:
            return
        after = release.wallet
        result = await self.conn.execute(
            update(wallets_t)
            .where(
                wallets_t.c.program_id == before.program_id,
                wallets_t.c.member_id == before.member_id,
                wallets_t.c.version == before.version,
            )
            .values(
                balance=after.balance,
                pending=after.pending,
                version=after.version,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            raise RuntimeError(f"wallet {before.member_id} changed under a claimed job")

    async def claim_expiring(
        self,
        program: Program,
        now: datetime,
        idle_since: datetime | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[Wallet]:
        # EXISTS per wallet, in member order from the cursor: each batch reads about its own
        # wallets' lots (an IN over all due lots made every batch read all of them)
        has_expired_lots = (
            select(lots_t.c.id)
            .where(
                lots_t.c.program_id == program.id,
                lots_t.c.member_id == wallets_t.c.member_id,
                *expired_lot_conditions(program.policy, now),
            )
            .exists()
        )
        due = [wallets_t.c.balance > 0, has_expired_lots]
        if idle_since is not None:
            due.append(wallets_t.c.last_activity_at <= idle_since)
        return await self._claim(program.id, due, after, limit)

    async def expiry_due(
        self, program: Program, member_ids: Sequence[uuid.UUID], now: datetime
    ) -> dict[uuid.UUID, tuple[int, int]]:
        return await self.expiry.due(program.id, member_ids, program.policy, now)

    async def save_expiries(
        self,
        program: Program,
        emptied: Sequence[uuid.UUID],
        emptied_lots: int,
        postings: Sequence[Posting],
        now: datetime,
    ) -> None:
        await self.expiry.empty_expired_lots(program.id, emptied, program.policy, now, emptied_lots)
        await self.expiry.post_expiries(program.id, postings)

    async def claim_birthdays(
        self,
        program_id: uuid.UUID,
        action_id: uuid.UUID,
        today: date,
        grant_key: str,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[Wallet]:
        return await self._claim(
            program_id, [birthday_due(program_id, action_id, today, grant_key)], after, limit
        )

    async def claim_tier_due(
        self, program_id: uuid.UUID, now: datetime, after: uuid.UUID | None, limit: int
    ) -> list[Wallet]:
        due = select(members_t.c.id).where(
            members_t.c.program_id == program_id,
            members_t.c.tier_valid_until.is_not(None),
            members_t.c.tier_valid_until <= now,
        )
        return await self._claim(program_id, [wallets_t.c.member_id.in_(due)], after, limit)


def _implements_the_port(batches: SqlJobBatches) -> JobBatches:
    """mypy checks here that SqlJobBatches offers what the JobBatches port names."""
    return batches
