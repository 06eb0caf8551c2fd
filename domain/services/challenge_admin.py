"""Admins define challenges and badges (rules: domain/challenges.py; progress and payouts:
challenges.py). Archiving a challenge keeps it, its completions and their entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from domain.access import require_role
from domain.challenges import MAX_TARGET, RECURRING, Badge, Challenge, Goal, GoalKind
from domain.contact import clean_text
from domain.errors import InvalidInput, NotFound
from domain.model import Principal, Program, Role, new_id
from domain.ports import Clock, UnitOfWork
from domain.services.usecase import claim_optional, complete_optional, program_of
from domain.times import Period, utc_time

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_REWARD_POINTS = 1_000_000
MAX_TIERS = 20
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
