"""The background jobs as use cases: release pending points, expire lots, evaluate tiers,
pay the monthly leaderboard bonus and birthday bonuses.

A job works through a program's due members one batch at a time: `run_batch` claims up to
`limit` due wallets after the cursor (`JobBatches`, locked against every other writer and
every other runner), applies the domain rules to each and saves the answer, all in the
caller's unit of work. It returns the last member claimed while there may be more, else
None. The runner (persistence/jobs.py) opens a transaction per batch, commits it, and
loops. Every change is a ledger posting or a versioned wallet update, announced after
commit like any other.

Adding a job: a class with `name`, `applies(program)` and `run_batch`, using (or adding)
a claim of `JobBatches`, appended to `JOBS`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain import ledger, tiers
from domain.actions import ActionKind, birthday_grant_key, birthday_noticed, is_birthday
from domain.events import TierChangeReason, posted, wallet_changed
from domain.model import ExpiryPolicy, Posting, Program, Wallet
from domain.ports import JobBatches, UnitOfWork
from domain.services import actions, leaderboard
from domain.services.referrals import QualifyReferrals
from domain.services.usecase import change_tier
from domain.times import local_date

SYSTEM = "system:jobs"  # the actor of the jobs' ledger entries


@dataclass
class JobReport:
    released_points: int = 0
    expired_points: int = 0
    expired_lots: int = 0
    tier_changes: int = 0
    referrals_qualified: int = 0
    leaderboard_bonuses: int = 0  # members paid a month's leaderboard bonus
    birthday_bonuses: int = 0  # members paid their birthday bonus
    members: set[uuid.UUID] = field(default_factory=set)


class Job(Protocol):
    name: str

    def applies(self, program: Program) -> bool:
        """Whether the program has anything for this job to do at all."""
        ...

    async def run_batch(
        self,
        uow: UnitOfWork,
        batches: JobBatches,
        program: Program,
        now: datetime,
        after: uuid.UUID | None,
        limit: int,
        report: JobReport,
    ) -> uuid.UUID | None:
        """One batch (the caller commits); the cursor of the next one, or None when done."""
        ...


def next_cursor(wallets: list[Wallet], limit: int) -> uuid.UUID | None:
    """The last member of a full batch (there may be more after it), else None."""
    return wallets[-1].member_id if len(wallets) == limit else None


class ReleasePending:
    """Held lots whose hold ended become spendable (`ledger.release`)."""

    name = "release"

    def applies(self, program: Program) -> bool:
        return True

    async def run_batch(
        self,
        uow: UnitOfWork,
        batches: JobBatches,
        program: Program,
        now: datetime,
        after: uuid.UUID | None,
        limit: int,
        report: JobReport,
    ) -> uuid.UUID | None:
        wallets = await batches.claim_releasable(program.id, now, after, limit)
        for wallet in wallets:
            held = await batches.held_lots(program.id, wallet.member_id, now)
            result = ledger.release(wallet, held, now)
            if result is None:
                continue
            await batches.save_release(wallet, result, now)
            if result.points:  # lots refunded to nothing during the hold just close
                uow.record(wallet_changed(result.wallet, result.points))
            report.released_points += result.points
            report.members.add(wallet.member_id)
        return next_cursor(wallets, limit)


class ExpireLots:
    """Points expire under the program's policy (`ledger.expiring_points`, `expire`).

    The usual wallet loses all its expired lots, applied to the whole batch at once; one
    whose balance is short of them gets a posting of its own, with the lots the domain
    picks as for any debit. A wallet is due only while something of it can expire, so
    every claimed wallet leaves the due set.
    """

    name = "expire"

    def applies(self, program: Program) -> bool:
        return program.policy.expiry is not ExpiryPolicy.NONE

    async def run_batch(
        self,
        uow: UnitOfWork,
        batches: JobBatches,
        program: Program,
        now: datetime,
        after: uuid.UUID | None,
        limit: int,
        report: JobReport,
    ) -> uuid.UUID | None:
        policy = program.policy
        idle_since = None
        if policy.expiry is ExpiryPolicy.INACTIVITY:
            idle_since = tiers.add_months(now, -policy.expiry_months)
        wallets = await batches.claim_expiring(program, now, idle_since, after, limit)
        totals = await batches.expiry_due(program, [w.member_id for w in wallets], now)
        emptied: list[uuid.UUID] = []
        emptied_lots = 0
        postings: list[Posting] = []
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
                    wallet, ledger.expired_lots(lots, policy, now), points, now=now, actor=SYSTEM
                )
                await uow.ledger.post(posting, previous_version=wallet.version)
            report.expired_points += points
            report.expired_lots += due_lots
            report.members.add(wallet.member_id)
        await batches.save_expiries(program, emptied, emptied_lots, postings, now)
        for posting in postings:
            uow.record(posted(posting))
        return next_cursor(wallets, limit)


class EvaluateTiers:
    """At the end of the period a tier was kept for, the tier the points earn
    (`tiers.evaluation`): downgrades happen only here."""

    name = "evaluate-tiers"

    def applies(self, program: Program) -> bool:
        return True

    async def run_batch(
        self,
        uow: UnitOfWork,
        batches: JobBatches,
        program: Program,
        now: datetime,
        after: uuid.UUID | None,
        limit: int,
        report: JobReport,
    ) -> uuid.UUID | None:
        wallets = await batches.claim_tier_due(program.id, now, after, limit)
        all_tiers = await uow.tiers.all(program.id)
        for wallet in wallets:
            member = await uow.members.get(program.id, wallet.member_id)
            if member is None or member.tier_valid_until is None:
                continue
            due_at = member.tier_valid_until
            ended_start, ended_end = tiers.ended_period(due_at)
            in_ended = max(
                0,
                await qualifying_since(uow, program, member.id, ended_start)
                - await qualifying_since(uow, program, member.id, ended_end),
            )
            start, _ = tiers.qualifying_window(program.policy.qualifying, now, program.time_zone)
            in_now = await qualifying_since(uow, program, member.id, start)
            current = tiers.current_tier(all_tiers, member)
            result = tiers.evaluation(all_tiers, current, due_at, in_ended, in_now)
            reason = TierChangeReason.EVALUATION
            await change_tier(uow, member, current, result.tier, result.valid_until, reason, now)
            if result.tier.id != current.id:
                report.tier_changes += 1
                report.members.add(member.id)
                # the wallet's subscribers learn of the new tier (same version: no points moved)
                uow.record(wallet_changed(wallet, 0))
        return next_cursor(wallets, limit)


async def qualifying_since(
    uow: UnitOfWork, program: Program, member_id: uuid.UUID, moment: datetime
) -> int:
    """The member's qualifying points from `moment` on."""
    found = await uow.ledger.qualifying_points(
        program.id, [member_id], moment, tiers.QUALIFYING_KINDS
    )
    return found.get(member_id, 0)


class PayLeaderboard:
    """The month just ended pays its leaderboard bonuses, once per program and month
    (domain/services/leaderboard.py `pay_month`); one batch, whatever the program's size."""

    name = "leaderboard"

    def applies(self, program: Program) -> bool:
        return True  # whether it is on is the program's leaderboard settings'

    async def run_batch(
        self,
        uow: UnitOfWork,
        batches: JobBatches,
        program: Program,
        now: datetime,
        after: uuid.UUID | None,
        limit: int,
        report: JobReport,
    ) -> uuid.UUID | None:
        report.leaderboard_bonuses += await leaderboard.pay_month(uow, program, now)
        return None


class PayBirthdays:
    """The program's BIRTHDAY action for members whose birthday it is today in the
    program's zone (`actions.is_birthday`), once a year: the grant key per member and year
    makes a second run, or a second runner, pay nothing (`actions.grant_birthday`)."""

    name = "birthdays"

    def applies(self, program: Program) -> bool:
        return True  # whether it has a live birthday action is read per run

    async def run_batch(
        self,
        uow: UnitOfWork,
        batches: JobBatches,
        program: Program,
        now: datetime,
        after: uuid.UUID | None,
        limit: int,
        report: JobReport,
    ) -> uuid.UUID | None:
        action = await uow.actions.by_slot(program.id, ActionKind.BIRTHDAY.value)
        if action is None or not action.active_at(now):
            return None
        today = local_date(now, program.time_zone)
        key = birthday_grant_key(today)
        wallets = await batches.claim_birthdays(program.id, action.id, today, key, after, limit)
        for wallet in wallets:
            member = await uow.members.get(program.id, wallet.member_id)
            if member is None or member.birthday is None or not is_birthday(member.birthday, today):
                continue
            if not birthday_noticed(member.birthday_set_at, today, program.time_zone):
                continue  # given too shortly before: next year's pays
            if await actions.grant_birthday(uow, program, action, member, key, now):
                report.birthday_bonuses += 1
                report.members.add(member.id)
        return next_cursor(wallets, limit)


# In order: released points pay referrers and can expire in the same run, tiers are
# evaluated, then the leaderboard's and the birthday bonuses (which may lift a tier at
# once, as any credit).
JOBS: tuple[Job, ...] = (
    ReleasePending(),
    QualifyReferrals(),
    ExpireLots(),
    EvaluateTiers(),
    PayLeaderboard(),
    PayBirthdays(),
)
