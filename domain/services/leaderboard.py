"""Use cases of the monthly leaderboard: opting in and out, the admin's settings, reading the
board, and the job that pays the month's top members (rules: domain/leaderboard.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain import leaderboard as rules
from domain import ledger
from domain.access import require_role
from domain.errors import LimitReached, NotEnrolled
from domain.leaderboard import LeaderboardSettings, Month, Standing
from domain.model import EntryKind, Principal, Program, Role
from domain.ports import Clock, UnitOfWork
from domain.services.usecase import locked_wallet, program_of, upgrade_if_reached

JOB_ACTOR = "system:jobs"  # as every job's entries


async def set_opt_in(uow: UnitOfWork, clock: Clock, principal: Principal, opt_in: bool) -> bool:
    """A member shows themself on the leaderboard (by display name only), or stops; only
    the member may decide it. Opting in again keeps the first time they did."""
    require_role(principal, Role.MEMBER)
    program = await program_of(uow, principal)
    member = await uow.members.get_by_subject(program.id, principal.subject)
    if member is None:
        raise NotEnrolled("Enroll first.")
    await uow.leaderboard.set_opt_in(program.id, member.id, opt_in, clock.now())
    await uow.commit()
    return opt_in


async def update_settings(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    *,
    enabled: bool | None,
    top_n: int | None,
    bonus_points: Sequence[int] | None,
) -> LeaderboardSettings:
    """Admins switch the leaderboard on or off and set how many members its monthly bonus
    pays and how much; values left out stay as they are."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    current = await uow.leaderboard.settings(program.id)
    settings = rules.validate_settings(
        current, enabled=enabled, top_n=top_n, bonus_points=bonus_points, now=now
    )
    await uow.leaderboard.save_settings(program.id, settings, now)
    await uow.commit()
    return settings


@dataclass(frozen=True)
class Board:
    """A month's leaderboard as one caller sees it."""

    month: Month
    enabled: bool
    opted_in: bool
    entries: list[Standing] = field(default_factory=list)
    me: Standing | None = None
    member_id: uuid.UUID | None = None  # the calling member's, to mark their own entry


async def read_board(
    uow: UnitOfWork,
    principal: Principal,
    program: Program,
    now: datetime,
    month: str | None,
    first: int | None,
) -> Board:
    """The month's top `first` members who opted in, and the calling member's own standing
    when they opted in; the current month of the program's zone when `month` is left out.
    Members and admins; nothing when the leaderboard is off."""
    require_role(principal, Role.MEMBER, Role.ADMIN)
    chosen = (
        rules.parse_month(month, ("month",))
        if month is not None
        else rules.month_of(now, program.time_zone)
    )
    size = rules.board_size(first)
    member_id: uuid.UUID | None = None
    opted_in = False
    if principal.role is Role.MEMBER:
        member = await uow.members.get_by_subject(program.id, principal.subject)
        if member is not None:
            member_id = member.id
            opted_in = await uow.leaderboard.opted_in(program.id, member.id)
    settings = await uow.leaderboard.settings(program.id)
    if not settings.enabled:
        return Board(month=chosen, enabled=False, opted_in=opted_in, member_id=member_id)
    start, end = chosen.bounds(program.time_zone)
    me = member_id if opted_in else None
    found = await uow.leaderboard.standings(program.id, start, end, first=size, me=me)
    return Board(
        month=chosen,
        enabled=True,
        opted_in=opted_in,
        entries=[s for s in found if s.position <= size],
        me=next((s for s in found if s.member_id == me), None),
        member_id=member_id,
    )


async def pay_month(uow: UnitOfWork, program: Program, now: datetime) -> int:
    """The job: pay the month just ended (in the program's zone) its bonuses, once; the
    caller commits (domain/services/jobs.py PayLeaderboard).

    The round of (program, month) is claimed first, in the transaction that pays it: a
    second run finds it taken, and a runner racing this one waits on the claim and then
    finds it taken too. Winners' wallets are locked in member order (writers that hold one
    wallet at a time, as purchases do, cannot deadlock with it; if anything fails, nothing
    of the month is paid and the next run tries again). Returns the members paid.
    """
    settings = await uow.leaderboard.settings(program.id)
    month = rules.month_to_pay(settings, now, program.time_zone)
    if month is None or await uow.leaderboard.round_paid(program.id, str(month)):
        return 0  # nothing due, or paid already: no write at all
    if not await uow.leaderboard.claim_round(program.id, str(month), now):
        return 0
    start, end = month.bounds(program.time_zone)
    ranked = await uow.leaderboard.standings(program.id, start, end, max_rank=settings.top_n)
    paid = 0
    all_tiers = await uow.tiers.all(program.id)
    for standing in sorted(rules.winners(ranked, settings), key=lambda s: s.member_id):
        points = settings.bonus_for(standing.rank)
        member = await uow.members.get(program.id, standing.member_id)
        if member is None or member.blocked or points <= 0:
            continue
        wallet = await locked_wallet(uow, program, member.id)
        try:
            posting = ledger.credit(
                wallet,
                points,
                kind=EntryKind.BONUS,
                now=now,
                description=rules.bonus_description(month, standing.rank),
                reference=rules.bonus_reference(month),
                actor=JOB_ACTOR,
                expires_at=ledger.lot_expiry(program.policy, now, program.time_zone),
            )
        except LimitReached:  # a full wallet: this member goes without, the others are paid
            continue
        await uow.ledger.post(posting, previous_version=wallet.version)
        await uow.leaderboard.add_payout(
            program.id, str(month), standing, points, posting.entry.id, now
        )
        await upgrade_if_reached(uow, program, member, all_tiers, now)
        paid += 1
    return paid
