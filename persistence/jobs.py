"""Background jobs: release pending points, expire points, evaluate tiers (`loyalty jobs`).

Each job finds due members with one set-based query, then claims their wallets in batches
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several job processes share the work and
never touch the same wallet twice; on SQLite the single writer lock does it). Claiming
the wallet before its lots keeps the lock order of every other writer: no deadlocks.
Per member, the domain rules decide; every change is a ledger posting or a versioned
wallet update, announced after commit like any other change. Expiry applies the rules to
a whole batch in a few statements (persistence/repositories/expiry.py): the usual wallet
loses all its expired lots; one whose balance is short of them gets a posting of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from domain import ledger, tiers
from domain.actions import ActionKind, EarningAction, birthday_grant_key, is_birthday
from domain.events import WalletChanged
from domain.model import ExpiryPolicy, Program, Wallet
from domain.services.actions import grant_birthday
from domain.times import local_date
from persistence.db import Database
from persistence.events import EventBus
from persistence.repositories.actions import birthday_due
from persistence.repositories.core import (
    lot_from_row,
    lots_t,
    members_t,
    posted,
    program_from_row,
    programs_t,
    wallet_from_row,
    wallets_t,
)
from persistence.repositories.expiry import SqlExpiryRepository, expired_lot_conditions
from persistence.unit_of_work import SqlUnitOfWork

BATCH = 500
SYSTEM = "system:jobs"


@dataclass
class JobReport:
    released_points: int = 0
    expired_points: int = 0
    expired_lots: int = 0
    tier_changes: int = 0
    birthday_bonuses: int = 0
    members: set[uuid.UUID] = field(default_factory=set)


class Jobs:
    def __init__(self, db: Database, bus: EventBus | None = None, batch: int = BATCH) -> None:
        self.db = db
        self.bus = bus
        self.batch = batch

    async def run_once(self, now: datetime, program_slug: str | None = None) -> JobReport:
        """Release, expire and evaluate tiers for every program (or one), until nothing is due."""
        report = JobReport()
        query = select(programs_t)
        if program_slug is not None:
            query = query.where(programs_t.c.slug == program_slug)
        async with SqlUnitOfWork(self.db, write=False) as uow:
            rows = (await uow.conn.execute(query)).all()
        for program in [program_from_row(row) for row in rows]:
            await self._drain(self._release, program, now, report)
            if program.policy.expiry is not ExpiryPolicy.NONE:
                after = await self._expire(program, now, report, None)
                while after is not None:
                    after = await self._expire(program, now, report, after)
            await self._drain(self._evaluate, program, now, report)
            after = await self._birthdays(program, now, report, None)
            while after is not None:
                after = await self._birthdays(program, now, report, after)
        return report

    async def _drain(self, job, program: Program, now: datetime, report: JobReport) -> None:  # type: ignore[no-untyped-def]
        while await job(program, now, report):
            pass

    async def _claim(
        self, uow: SqlUnitOfWork, program: Program, *due: Any, after: uuid.UUID | None = None
    ) -> list[Wallet]:
        """Lock the wallets of up to `batch` due members (`due`: conditions on the wallet
        row) that no other runner holds; with `after`, only those after it in member order."""
        if after is not None:
            due = (*due, wallets_t.c.member_id > after)
        stmt = (
            select(wallets_t)
            .where(wallets_t.c.program_id == program.id, *due)
            .order_by(wallets_t.c.member_id)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        )
        return [wallet_from_row(row) for row in await uow.conn.execute(stmt)]

    def _uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db, write=True, bus=self.bus)

    async def _release(self, program: Program, now: datetime, report: JobReport) -> bool:
        # Due: a held lot whose hold ended and that fits the wallet (ledger.fits_release).
        # A lot that would take the balance past the maximum stays pending, and its wallet
        # is not due until spending makes room: claiming it again would loop forever.
        due = (
            select(lots_t.c.id)
            .where(
                lots_t.c.program_id == program.id,
                lots_t.c.member_id == wallets_t.c.member_id,
                lots_t.c.held.is_(True),
                lots_t.c.available_at <= now,
                lots_t.c.remaining <= ledger.MAX_BALANCE - wallets_t.c.balance,
            )
            .exists()
        )
        async with self._uow() as uow:
            wallets = await self._claim(uow, program, due)
            for wallet in wallets:
                lots = await uow.ledger.open_lots(program.id, wallet.member_id)
                held = [lot for lot in lots if lot.held]
                # also held lots fully refunded during the hold: nothing left, just release
                empty = await uow.conn.execute(
                    select(lots_t).where(
                        lots_t.c.member_id == wallet.member_id,
                        lots_t.c.held.is_(True),
                        lots_t.c.remaining == 0,
                        lots_t.c.available_at <= now,
                    )
                )
                held += [lot_from_row(row) for row in empty]
                result = ledger.release(wallet, held, now)
                if result is None:
                    continue
                for lot_id, remaining in result.released.items():
                    await uow.conn.execute(
                        update(lots_t)
                        .where(lots_t.c.id == lot_id, lots_t.c.held.is_(True))
                        .values(held=False, released_at=now, remaining=remaining)
                    )
                if result.points:  # lots refunded to nothing during the hold just close
                    await self._save_wallet(uow, wallet, result.wallet, now)
                    uow.record(_changed(result.wallet, result.points))
                report.released_points += result.points
                report.members.add(wallet.member_id)
            await uow.commit()
        return len(wallets) == self.batch

    async def _expire(
        self, program: Program, now: datetime, report: JobReport, after: uuid.UUID | None
    ) -> uuid.UUID | None:
        """Expire one batch of wallets, set-based: claim up to `batch` due wallets after
        `after` (member id order), then a few statements for the whole batch. Returns the
        last member claimed while there may be more, else None.

        A wallet is due only while something of it can expire (a positive balance and an
        expired lot), so every claimed wallet leaves the due set and the pass ends. Due
        wallets another transaction holds are skipped (SKIP LOCKED): another runner is
        expiring them, or the next pass will.
        """
        policy = program.policy
        expired = expired_lot_conditions(policy, now)
        # EXISTS per wallet, in member order from the cursor: each batch reads about its own
        # wallets' lots (an IN over all due lots made every batch read all of them)
        has_expired_lots = (
            select(lots_t.c.id)
            .where(
                lots_t.c.program_id == program.id,
                lots_t.c.member_id == wallets_t.c.member_id,
                *expired,
            )
            .exists()
        )
        due = [wallets_t.c.balance > 0, has_expired_lots]
        if policy.expiry is ExpiryPolicy.INACTIVITY:
            idle_since = tiers.add_months(now, -policy.expiry_months)
            due.append(wallets_t.c.last_activity_at <= idle_since)
        async with self._uow() as uow:
            wallets = await self._claim(uow, program, *due, after=after)
            repo = SqlExpiryRepository(uow.conn)
            totals = await repo.due(program.id, [w.member_id for w in wallets], policy, now)
            emptied: list[uuid.UUID] = []
            emptied_lots = 0
            postings = []
            for wallet in wallets:
                due_points, due_lots = totals.get(wallet.member_id, (0, 0))
                points = ledger.expiring_points(wallet, due_points)
                if points <= 0:
                    continue
                if points == due_points:  # the usual case: every expired lot goes to zero
                    postings.append(ledger.expire(wallet, [], points, now=now, actor=SYSTEM))
                    emptied.append(wallet.member_id)
                    emptied_lots += due_lots
                else:  # short of its lots: the domain picks which lots, as for any debit
                    lots = await uow.ledger.open_lots(program.id, wallet.member_id)
                    posting = ledger.expire(
                        wallet,
                        ledger.expired_lots(lots, policy, now),
                        points,
                        now=now,
                        actor=SYSTEM,
                    )
                    await uow.ledger.post(posting, previous_version=wallet.version)
                report.expired_points += points
                report.expired_lots += due_lots
                report.members.add(wallet.member_id)
            await repo.empty_expired_lots(program.id, emptied, policy, now, emptied_lots)
            await repo.post_expiries(program.id, postings)
            for posting in postings:
                uow.record(posted(posting))
            await uow.commit()
        return wallets[-1].member_id if len(wallets) == self.batch else None

    async def _evaluate(self, program: Program, now: datetime, report: JobReport) -> bool:
        due = select(members_t.c.id).where(
            members_t.c.program_id == program.id,
            members_t.c.tier_valid_until.is_not(None),
            members_t.c.tier_valid_until <= now,
        )
        async with self._uow() as uow:
            wallets = await self._claim(uow, program, wallets_t.c.member_id.in_(due))
            all_tiers = await uow.tiers.all(program.id)
            period = program.policy.qualifying
            for wallet in wallets:
                member = await uow.members.get(program.id, wallet.member_id)
                if member is None or member.tier_valid_until is None:
                    continue
                ended_at = member.tier_valid_until
                ended_start = tiers.add_months(ended_at, -12)
                in_ended = await _qualifying_between(uow, program, member.id, ended_start, ended_at)
                start, _ = tiers.qualifying_window(period, now)
                in_now = (
                    await uow.ledger.qualifying_points(
                        program.id, [member.id], start, tiers.QUALIFYING_KINDS
                    )
                ).get(member.id, 0)
                current = next((t for t in all_tiers if t.id == member.tier_id), all_tiers[0])
                new = tiers.evaluate(all_tiers, current, in_ended, in_now)
                until = tiers.add_months(ended_at, 12) if new.rank > 0 else None
                await uow.members.set_tier(program.id, member.id, new.id, until)
                if new.id != current.id:
                    report.tier_changes += 1
                    report.members.add(member.id)
                    uow.record(_changed(wallet, 0))
            await uow.commit()
        return len(wallets) == self.batch

    async def _birthdays(
        self, program: Program, now: datetime, report: JobReport, after: uuid.UUID | None
    ) -> uuid.UUID | None:
        """Pay the birthday action to one batch of members whose birthday it is today in
        the program's zone (domain/actions.py), once a year: the grant key per member and
        year makes a second run, or a second runner, pay nothing."""
        action = await self._birthday_action(program, now)
        if action is None:
            return None
        today = local_date(now, program.time_zone)
        grant_key = birthday_grant_key(today)
        due = birthday_due(program.id, action.id, today, grant_key)
        async with self._uow() as uow:
            wallets = await self._claim(uow, program, due, after=after)
            for wallet in wallets:
                member = await uow.members.get(program.id, wallet.member_id)
                if member is None or member.birthday is None:
                    continue
                if not is_birthday(member.birthday, today):
                    continue
                if await grant_birthday(uow, program, action, member, grant_key, now):
                    report.birthday_bonuses += 1
                    report.members.add(member.id)
            await uow.commit()
        return wallets[-1].member_id if len(wallets) == self.batch else None

    async def _birthday_action(self, program: Program, now: datetime) -> EarningAction | None:
        async with SqlUnitOfWork(self.db, write=False) as uow:
            action = await uow.actions.by_slot(program.id, ActionKind.BIRTHDAY.value)
        return action if action is not None and action.active_at(now) else None

    async def _save_wallet(
        self, uow: SqlUnitOfWork, before: Wallet, after: Wallet, now: datetime
    ) -> None:
        result = await uow.conn.execute(
            update(wallets_t)
            .where(wallets_t.c.member_id == before.member_id, wallets_t.c.version == before.version)
            .values(
                balance=after.balance,
                pending=after.pending,
                version=after.version,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            raise RuntimeError(f"wallet {before.member_id} changed under a claimed job")


async def _qualifying_between(
    uow: SqlUnitOfWork, program: Program, member_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    since_start = await uow.ledger.qualifying_points(
        program.id, [member_id], start, tiers.QUALIFYING_KINDS
    )
    since_end = await uow.ledger.qualifying_points(
        program.id, [member_id], end, tiers.QUALIFYING_KINDS
    )
    return max(0, since_start.get(member_id, 0) - since_end.get(member_id, 0))


def _changed(wallet: Wallet, delta: int) -> WalletChanged:
    """A release (delta > 0, new version) or a tier change (delta 0, same version)."""
    return WalletChanged(
        program_id=wallet.program_id,
        member_id=wallet.member_id,
        version=wallet.version,
        delta=delta,
        balance=wallet.balance,
        pending=wallet.pending,
        entry_id=None,
    )
