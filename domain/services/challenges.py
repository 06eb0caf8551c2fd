"""Challenges in play: qualifying events advance members' progress in their own
transaction, completion pays once (points, a voucher, a badge), members see their own.
Admins define challenges and badges in challenge_admin.py.

Progress is added with one atomic statement per event, so concurrent purchases all count;
completion is a conditional update of the period's row, so exactly one event pays it.
Refunds leave progress and completions as they are (a refunded purchase keeps its step).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain import ledger
from domain.challenges import (
    Badge,
    Challenge,
    EarnedBadge,
    Goal,
    PurchaseFacts,
    Window,
    action_step,
    purchase_step,
    visible_to,
    window_at,
)
from domain.events import RedemptionChanged
from domain.model import EntryKind, Member, Program, Wallet, new_id
from domain.ports import UnitOfWork
from domain.rewards import Redemption, RedemptionStatus, new_voucher_code, voucher_expiry
from domain.services.usecase import locked_wallet

CHALLENGES_SHOWN = 50  # members see at most this many challenges at once
BADGES_SHOWN = 200  # and admins and members this many badges
ACTOR = "system:challenge"  # how the ledger names the payer of a completion


# --- Progress, in the transaction of the qualifying event -------------------------------


async def advance_challenges_for_purchase(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    wallet: Wallet,
    purchase: PurchaseFacts,
    at: datetime,
    now: datetime,
) -> Wallet:
    """Count a purchase made at `at` towards the member's open challenges and pay those it
    completes; `wallet` is the member's, locked by the purchase's transaction (the answer:
    the wallet after any completion's points)."""
    after = await _advance(
        uow, program, member, at, now, lambda goal: purchase_step(goal, purchase), wallet
    )
    return after or wallet


async def advance_challenges_for_action(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    action_kind: str,
    at: datetime,
    wallet: Wallet | None = None,
) -> Wallet | None:
    """Count one earning action of `action_kind` (e.g. PRODUCT_REVIEW) done at `at` towards
    the member's ACTION_COUNT challenges, and pay those it completes. Call in the
    transaction that credits the action, with the wallet the caller locked (or None: it is
    locked here, before any progress row, when a challenge counts the action). Answers the
    wallet after any payout (None when nothing counted and no wallet was given)."""
    return await _advance(
        uow, program, member, at, at, lambda goal: action_step(goal, action_kind), wallet
    )


async def _advance(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    at: datetime,
    now: datetime,
    step_of: Callable[[Goal], int],
    wallet: Wallet | None,
) -> Wallet | None:
    counted: list[tuple[Challenge, Window, int]] = []
    for challenge in await uow.challenges.open_at(program.id, at):
        step = step_of(challenge.goal)
        if step > 0 and challenge.for_tier(member.tier_id):
            counted.append((challenge, window_at(challenge, at, program.time_zone), step))
    if not counted:
        return wallet
    # The wallet before the progress rows, as every writer of the member takes them: an
    # action and a purchase of one member never wait for each other's locks in turn.
    wallet = wallet or await locked_wallet(uow, program, member.id)
    after = {
        (p.challenge_id, p.period_key): p
        for p in await uow.challenges.advance(
            program.id, member.id, [(c.id, w.key, step) for c, w, step in counted], now
        )
    }
    for challenge, window, _ in counted:
        progress = after[(challenge.id, window.key)]
        if progress.completed_at is None and progress.progress >= challenge.goal.target:
            wallet = await _complete(uow, program, member, challenge, window, now, wallet)
    return wallet


async def _complete(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    challenge: Challenge,
    window: Window,
    now: datetime,
    wallet: Wallet,
) -> Wallet:
    """Pay a reached goal, once: only the event whose update marks it complete pays."""
    done = await uow.challenges.complete(
        program.id, member.id, challenge.id, window.key, challenge.goal.target, now
    )
    if not done:
        return wallet
    if challenge.reward_points:
        posting = ledger.credit(
            wallet,
            challenge.reward_points,
            kind=EntryKind.CHALLENGE,
            now=now,
            description=f"Challenge completed: {challenge.name}"[:600],
            reference=f"challenge:{challenge.id}:{window.key}",
            actor=ACTOR,
            expires_at=ledger.lot_expiry(program.policy, now, program.time_zone),
        )
        await uow.ledger.post(posting, previous_version=wallet.version)
        wallet = posting.wallet
    if challenge.reward_id is not None:
        await _issue_voucher(uow, program, member, challenge.reward_id, now)
    if challenge.badge_id is not None:
        await uow.challenges.award_badge(
            program.id, member.id, challenge.badge_id, challenge.id, now
        )
    return wallet


async def _issue_voucher(
    uow: UnitOfWork, program: Program, member: Member, reward_id: uuid.UUID, now: datetime
) -> None:
    """The catalog reward as a voucher for no points. Stock is taken like a redemption's;
    with none left (or the reward archived since) the completion pays the rest only."""
    reward = await uow.rewards.get(program.id, reward_id)
    if reward is None or reward.archived:
        return
    if reward.stock is not None and not await uow.rewards.take_stock(program.id, reward.id):
        return
    redemption = Redemption(
        id=new_id(),
        program_id=program.id,
        member_id=member.id,
        reward_id=reward.id,
        status=RedemptionStatus.ISSUED,
        points_spent=0,
        voucher_code=new_voucher_code(),
        created_at=now,
        expires_at=voucher_expiry(reward, now),
    )
    await uow.rewards.add_redemption(redemption, [])
    uow.record(
        RedemptionChanged(
            program_id=program.id,
            member_id=member.id,
            redemption_id=redemption.id,
            status=redemption.status.value,
            partner_id=reward.partner_id,
        )
    )


# --- Members' view ----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberChallenge:
    challenge: Challenge
    progress: int
    completed_at: datetime | None
    ends_at: datetime | None  # end of the current period (recurring) or of the window
    badge: Badge | None


async def member_challenges(
    uow: UnitOfWork, program: Program, member: Member, now: datetime
) -> list[MemberChallenge]:
    """The challenges open now that the member may see, with their progress in the current
    period: for their tier, hidden ones only once started. Three reads at most."""
    open_now = [
        c for c in await uow.challenges.open_at(program.id, now) if c.for_tier(member.tier_id)
    ]
    windows = {c.id: window_at(c, now, program.time_zone) for c in open_now}
    found = await uow.challenges.progress_of(
        program.id, member.id, [(c.id, windows[c.id].key) for c in open_now]
    )
    progress = {p.challenge_id: p for p in found}
    shown = [
        c
        for c in open_now
        if visible_to(c, member.tier_id, progress[c.id].progress if c.id in progress else 0)
    ]
    badge_ids = sorted({c.badge_id for c in shown[:CHALLENGES_SHOWN] if c.badge_id is not None})
    badges = {b.id: b for b in await uow.challenges.badges(program.id, badge_ids)}
    return [
        MemberChallenge(
            challenge=c,
            progress=progress[c.id].progress if c.id in progress else 0,
            completed_at=progress[c.id].completed_at if c.id in progress else None,
            ends_at=windows[c.id].ends_at,
            badge=badges.get(c.badge_id) if c.badge_id else None,
        )
        for c in shown[:CHALLENGES_SHOWN]
    ]


async def member_badges(uow: UnitOfWork, program: Program, member: Member) -> Sequence[EarnedBadge]:
    """The badges the member earned, latest first."""
    return await uow.challenges.member_badges(program.id, member.id, BADGES_SHOWN)
