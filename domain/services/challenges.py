"""Challenges and badges: admins define them, qualifying events advance members' progress in
their own transaction, completion pays once (points, a voucher, a badge).

Progress is added with one atomic statement per event, so concurrent purchases all count;
completion is a conditional update of the period's row, so exactly one event pays it.
Refunds leave progress and completions as they are (a refunded purchase keeps its step).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain import ledger
from domain.access import require_role
from domain.challenges import (
    MAX_TARGET,
    RECURRING,
    Badge,
    Challenge,
    EarnedBadge,
    Goal,
    GoalKind,
    PurchaseFacts,
    Window,
    action_step,
    purchase_step,
    visible_to,
    window_at,
)
from domain.contact import clean_text
from domain.errors import InvalidInput, NotFound
from domain.model import EntryKind, Member, Principal, Program, Role, Wallet, new_id
from domain.ports import Clock, UnitOfWork
from domain.rewards import Redemption, RedemptionStatus, new_voucher_code, voucher_expiry
from domain.services.usecase import claim_optional, complete_optional, locked_wallet, program_of
from domain.times import Period, utc_time

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_REWARD_POINTS = 1_000_000
MAX_TIERS = 20
CHALLENGES_SHOWN = 50  # members see at most this many challenges at once
BADGES_SHOWN = 200  # and admins and members this many badges
ACTOR = "system:challenge"  # how the ledger names the payer of a completion
CREATE_SCOPE = "create-challenge"


def _field(name: str) -> tuple[str, str]:
    return ("input", name)


# --- Admin: badges ----------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeFields:
    name: str | None = None
    description: str | None = None
    image_url: str | None = None


def _badge_validated(badge: Badge) -> Badge:
    name = clean_text(badge.name, _field("name"), max_length=MAX_NAME, required=True) or ""
    description = (
        clean_text(badge.description, _field("description"), max_length=MAX_DESCRIPTION) or ""
    )
    image = clean_text(badge.image_url, _field("imageUrl"), max_length=500)
    if image and not image.startswith("https://"):
        raise InvalidInput("imageUrl must be an https:// URL.", _field("imageUrl"))
    return replace(badge, name=name, description=description, image_url=image or None)


async def create_badge(
    uow: UnitOfWork, clock: Clock, principal: Principal, fields: BadgeFields
) -> Badge:
    """Admins define a badge members earn by completing challenges (each badge once)."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    badge = _badge_validated(
        Badge(
            id=new_id(),
            program_id=program.id,
            name=fields.name or "",
            description=fields.description or "",
            image_url=fields.image_url,
            created_at=clock.now(),
        )
    )
    await uow.challenges.add_badge(badge)
    await uow.commit()
    return badge


async def update_badge(
    uow: UnitOfWork, principal: Principal, badge_id: uuid.UUID, fields: BadgeFields
) -> Badge:
    """Admins change a badge's name, description or image; members who hold it keep it."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    found = await uow.challenges.badges(program.id, [badge_id])
    if not found:
        raise NotFound("No such badge.", _field("badgeId"))
    badge = found[0]
    badge = _badge_validated(
        replace(
            badge,
            name=fields.name if fields.name is not None else badge.name,
            description=fields.description if fields.description is not None else badge.description,
            image_url=fields.image_url if fields.image_url is not None else badge.image_url,
        )
    )
    await uow.challenges.update_badge(badge)
    await uow.commit()
    return badge


async def list_badges(uow: UnitOfWork, principal: Principal, limit: int) -> list[Badge]:
    """Admins: the program's badges, oldest first."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    return await uow.challenges.all_badges(program.id, limit)


# --- Admin: challenges ------------------------------------------------------------------


@dataclass(frozen=True)
class NewChallenge:
    name: str
    goal: Goal
    description: str = ""
    starts_at: datetime | None = None  # None: now
    ends_at: datetime | None = None
    period: Period | None = None
    tier_ids: tuple[uuid.UUID, ...] = ()
    hidden: bool = False
    reward_points: int = 0
    reward_id: uuid.UUID | None = None
    badge_id: uuid.UUID | None = None
    idempotency_key: str | None = None


def _goal_validated(goal: Goal) -> Goal:
    field = ("input", "goal")
    if not 1 <= goal.target <= MAX_TARGET:
        raise InvalidInput(f"target must be 1 to {MAX_TARGET}.", (*field, "target"))
    category = None
    if goal.kind in (GoalKind.CATEGORY_PURCHASES, GoalKind.CATEGORY_SPEND):
        text = clean_text(goal.category, (*field, "category"), max_length=80, required=True)
        category = (text or "").casefold()
    elif goal.category is not None:
        raise InvalidInput("Only category goals take a category.", (*field, "category"))
    action = None
    if goal.kind is GoalKind.ACTION_COUNT:
        text = clean_text(goal.action_kind, (*field, "actionKind"), max_length=40, required=True)
        action = (text or "").upper()
        if not action.replace("_", "").isalnum():
            raise InvalidInput(
                "actionKind is an action kind such as PRODUCT_REVIEW.", (*field, "actionKind")
            )
    elif goal.action_kind is not None:
        raise InvalidInput("Only ACTION_COUNT goals take an actionKind.", (*field, "actionKind"))
    return Goal(goal.kind, goal.target, category, action)


async def _validated(uow: UnitOfWork, program: Program, challenge: Challenge) -> Challenge:
    """The challenge as it may be stored: text, goal, window, tiers and reward."""
    name = clean_text(challenge.name, _field("name"), max_length=MAX_NAME, required=True) or ""
    description = (
        clean_text(challenge.description, _field("description"), max_length=MAX_DESCRIPTION) or ""
    )
    goal = _goal_validated(challenge.goal)
    starts_at = utc_time(challenge.starts_at, _field("startsAt"))
    ends_at = utc_time(challenge.ends_at, _field("endsAt")) if challenge.ends_at else None
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInput("endsAt must be after startsAt.", _field("endsAt"))
    if challenge.period is not None and challenge.period not in RECURRING:
        raise InvalidInput("A challenge recurs by WEEK or MONTH.", _field("period"))
    if len(challenge.tier_ids) > MAX_TIERS:
        raise InvalidInput(f"At most {MAX_TIERS} tiers.", _field("tierIds"))
    if challenge.tier_ids:
        known = {t.id for t in await uow.tiers.all(program.id)}
        if not set(challenge.tier_ids) <= known:
            raise NotFound("No such tier.", _field("tierIds"))
    if not 0 <= challenge.reward_points <= MAX_REWARD_POINTS:
        raise InvalidInput(
            f"rewardPoints must be 0 to {MAX_REWARD_POINTS}.", _field("rewardPoints")
        )
    if challenge.reward_id is not None:
        reward = await uow.rewards.get(program.id, challenge.reward_id)
        if reward is None or reward.archived:
            raise NotFound("No such reward.", _field("rewardId"))
    if challenge.badge_id is not None and not await uow.challenges.badges(
        program.id, [challenge.badge_id]
    ):
        raise NotFound("No such badge.", _field("badgeId"))
    if not (challenge.reward_points or challenge.reward_id or challenge.badge_id):
        raise InvalidInput(
            "Give the challenge a reward: rewardPoints, rewardId or badgeId.",
            _field("rewardPoints"),
        )
    return replace(
        challenge,
        name=name,
        description=description,
        goal=goal,
        starts_at=starts_at,
        ends_at=ends_at,
        tier_ids=tuple(dict.fromkeys(challenge.tier_ids)),
    )


async def create_challenge(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: NewChallenge
) -> Challenge:
    """Admins define a challenge: a goal within a window, optionally recurring, for some
    tiers, hidden until started; with its reward. An idempotency key makes retries safe."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    request = {
        k: (str(v) if not isinstance(v, (int, bool, type(None))) else v)
        for k, v in vars(command).items()
        if k != "idempotency_key"
    }
    key, previous = await claim_optional(
        uow, program, CREATE_SCOPE, command.idempotency_key, request, now
    )
    if previous is not None:
        return await _challenge_of(uow, program, uuid.UUID(previous["challenge"]), "idempotencyKey")
    challenge = await _validated(
        uow,
        program,
        Challenge(
            id=new_id(),
            program_id=program.id,
            name=command.name,
            description=command.description,
            goal=command.goal,
            starts_at=command.starts_at or now,
            created_at=now,
            ends_at=command.ends_at,
            period=command.period,
            tier_ids=command.tier_ids,
            hidden=command.hidden,
            reward_points=command.reward_points,
            reward_id=command.reward_id,
            badge_id=command.badge_id,
        ),
    )
    await uow.challenges.add(challenge)
    await complete_optional(uow, program, CREATE_SCOPE, key, {"challenge": str(challenge.id)})
    await uow.commit()
    return challenge


async def _challenge_of(
    uow: UnitOfWork, program: Program, challenge_id: uuid.UUID, field: str, *, lock: bool = False
) -> Challenge:
    challenge = await uow.challenges.get(program.id, challenge_id, lock=lock)
    if challenge is None:
        raise NotFound("No such challenge.", _field(field))
    return challenge


@dataclass(frozen=True)
class ChallengeChanges:
    """What `updateChallenge` changes; None leaves a field as it is. The goal and period
    stay: members' progress was counted against them."""

    name: str | None = None
    description: str | None = None
    ends_at: datetime | None = None
    open_ended: bool = False  # drop the end
    tier_ids: tuple[uuid.UUID, ...] | None = None
    hidden: bool | None = None
    reward_points: int | None = None
    reward_id: uuid.UUID | None = None
    no_reward: bool = False  # drop the catalog reward
    badge_id: uuid.UUID | None = None
    no_badge: bool = False  # drop the badge


async def update_challenge(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    challenge_id: uuid.UUID,
    changes: ChallengeChanges,
) -> Challenge:
    """Admins change a challenge that is not archived; only the fields given change."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    challenge = await _challenge_of(uow, program, challenge_id, "challengeId", lock=True)
    if challenge.archived_at is not None:
        raise InvalidInput("This challenge is archived.", _field("challengeId"))
    c = changes
    updated = replace(
        challenge,
        name=c.name if c.name is not None else challenge.name,
        description=c.description if c.description is not None else challenge.description,
        ends_at=None if c.open_ended else (c.ends_at or challenge.ends_at),
        tier_ids=c.tier_ids if c.tier_ids is not None else challenge.tier_ids,
        hidden=c.hidden if c.hidden is not None else challenge.hidden,
        reward_points=c.reward_points if c.reward_points is not None else challenge.reward_points,
        reward_id=None if c.no_reward else (c.reward_id or challenge.reward_id),
        badge_id=None if c.no_badge else (c.badge_id or challenge.badge_id),
    )
    updated = await _validated(uow, program, updated)
    await uow.challenges.update(updated)
    await uow.commit()
    return updated


async def archive_challenge(
    uow: UnitOfWork, clock: Clock, principal: Principal, challenge_id: uuid.UUID
) -> Challenge:
    """Admins archive a challenge: it stops counting and leaves members' lists; completions
    and their entries stay. Archiving an archived one changes nothing."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    challenge = await _challenge_of(uow, program, challenge_id, "challengeId", lock=True)
    if challenge.archived_at is not None:
        return challenge
    archived = replace(challenge, archived_at=clock.now())
    await uow.challenges.update(archived)
    await uow.commit()
    return archived


@dataclass(frozen=True)
class ChallengePage:
    challenges: list[Challenge]
    has_next: bool


async def list_challenges(
    uow: UnitOfWork,
    principal: Principal,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    archived: bool | None,
) -> ChallengePage:
    """Admins: the program's challenges, latest start first; `archived` filters."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    found = await uow.challenges.page(program.id, limit=limit + 1, after=after, archived=archived)
    return ChallengePage(found[:limit], len(found) > limit)


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
    uow: UnitOfWork, program: Program, member: Member, action_kind: str, at: datetime
) -> None:
    """Count one earning action of `action_kind` (e.g. PRODUCT_REVIEW) done at `at` towards
    the member's ACTION_COUNT challenges, and pay those it completes. Call in the
    transaction that credits the action (it locks the wallet only to pay points)."""
    await _advance(uow, program, member, at, at, lambda goal: action_step(goal, action_kind), None)


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
            expires_at=ledger.lot_expiry(program.policy, now),
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
