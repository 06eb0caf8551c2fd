"""Admins define challenges and badges: `createChallenge`, `updateChallenge`,
`archiveChallenge`, `createBadge`, `updateBadge`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly
from api.types.challenges import Badge, Challenge, ChallengeGoalKind, ChallengePeriod
from domain import challenges as domain
from domain.ports import UnitOfWork
from domain.services import challenge_admin as service
from domain.times import Period


@strawberry.input(description="What a challenge asks for.")
class ChallengeGoalInput:
    kind: ChallengeGoalKind = strawberry.field(description="What it counts.")
    target: int = strawberry.field(
        description="How many purchases or actions, or how much spend in minor units (1 or more)."
    )
    category: str | None = strawberry.field(
        default=None,
        description="The product category (case-insensitive), for CATEGORY_PURCHASES and "
        "CATEGORY_SPEND only.",
    )
    action_kind: str | None = strawberry.field(
        default=None,
        description="The earning action kind (e.g. PRODUCT_REVIEW), for ACTION_COUNT only.",
    )


@strawberry.input(description="A challenge: a goal within a window, and what completing it pays.")
class CreateChallengeInput:
    name: str = strawberry.field(description="Name shown to members (at most 120 characters).")
    description: str | None = strawberry.field(
        default=None, description="What to do, for the app (at most 2000 characters)."
    )
    goal: ChallengeGoalInput = strawberry.field(description="What it asks for.")
    starts_at: datetime | None = strawberry.field(
        default=None, description="From when events count, with its UTC offset; left out: now."
    )
    ends_at: datetime | None = strawberry.field(
        default=None,
        description="When events stop counting, after `startsAt`; left out: open-ended.",
    )
    period: ChallengePeriod | None = strawberry.field(
        default=None,
        description="WEEK or MONTH in the program's zone: progress starts again each period "
        "and each period can be completed once; left out: one window.",
    )
    tier_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Global IDs of the tiers that take part (`Tier.id`); left out: every tier.",
    )
    hidden: bool = strawberry.field(
        default=False, description="Members see it only once they have progress."
    )
    reward_points: int = strawberry.field(
        default=0, description="Points paid on completion (0 to 1,000,000)."
    )
    reward_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A catalog reward (`Reward.id`) issued as a voucher on completion.",
    )
    badge_id: strawberry.ID | None = strawberry.field(
        default=None, description="A badge (`Badge.id`) awarded on completion (once per member)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key and input returns the challenge the first "
        "request made; the same key with other input is IDEMPOTENCY_CONFLICT.",
    )


@strawberry.input(description="Changes to a challenge; fields left out stay as they are.")
class UpdateChallengeInput:
    challenge_id: strawberry.ID = strawberry.field(
        description="Global ID of the challenge (`Challenge.id`); it must not be archived."
    )
    name: str | None = strawberry.field(default=None, description="New name; left out: unchanged.")
    description: str | None = strawberry.field(
        default=None, description="New description; left out: unchanged."
    )
    ends_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="New end, with its UTC offset; an explicit null makes it open-ended.",
    )
    tier_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Replaces the tiers that take part; [] for every tier."
    )
    hidden: bool | None = strawberry.field(default=None, description="Hidden until started.")
    reward_points: int | None = strawberry.field(
        default=None, description="New points paid on completion."
    )
    reward_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new catalog reward; an explicit null removes it.",
    )
    badge_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A new badge; an explicit null removes it."
    )


@strawberry.input(description="The challenge to archive.")
class ArchiveChallengeInput:
    challenge_id: strawberry.ID = strawberry.field(
        description="Global ID of the challenge to archive (`Challenge.id`)."
    )


@strawberry.type(description="Result of the challenge mutations.")
class ChallengePayload:
    challenge: Challenge | None = strawberry.field(description="The challenge after the change.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A badge members earn by completing challenges.")
class CreateBadgeInput:
    name: str = strawberry.field(description="Name shown to members (at most 120 characters).")
    description: str | None = strawberry.field(
        default=None, description="What it stands for (at most 2000 characters)."
    )
    image_url: str | None = strawberry.field(
        default=None, description="Its image, an https:// URL (at most 500 characters)."
    )


@strawberry.input(description="Changes to a badge; fields left out stay as they are.")
class UpdateBadgeInput:
    badge_id: strawberry.ID = strawberry.field(description="Global ID of the badge (`Badge.id`).")
    name: str | None = strawberry.field(default=None, description="New name; left out: unchanged.")
    description: str | None = strawberry.field(
        default=None, description="New description; left out: unchanged."
    )
    image_url: str | None = strawberry.field(default=None, description="New https:// image URL.")


@strawberry.type(description="Result of `createBadge` and `updateBadge`.")
class BadgePayload:
    badge: Badge | None = strawberry.field(description="The badge after the change.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def _id(value: strawberry.ID, type_name: str, field: str) -> uuid.UUID:
    return ids.decode(value, type_name, ("input", field))


def _optional(value: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
    return _id(value, type_name, field) if value else None


def _tiers(values: list[strawberry.ID]) -> tuple[uuid.UUID, ...]:
    return tuple(_id(v, "Tier", "tierIds") for v in values)


def _goal(goal: ChallengeGoalInput) -> domain.Goal:
    return domain.Goal(
        kind=domain.GoalKind[goal.kind.name],
        target=goal.target,
        category=goal.category,
        action_kind=goal.action_kind,
    )


def _payload(challenge: domain.Challenge | None, errors: list[UserError]) -> ChallengePayload:
    return ChallengePayload(
        challenge=Challenge.from_domain(challenge) if challenge else None, errors=errors
    )


@strawberry.type(description="Challenges and badges.")
class ChallengeMutations:
    @strawberry.mutation(
        description="Admins: a challenge with its goal, window and reward.",
        permission_classes=[AdminOnly],
    )
    async def create_challenge(
        self,
        info: Info,
        input: Annotated[
            CreateChallengeInput, strawberry.argument(description="The challenge to create.")
        ],
    ) -> ChallengePayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain.Challenge:
            command = service.NewChallenge(
                name=input.name,
                description=input.description or "",
                goal=_goal(input.goal),
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                period=Period[input.period.name] if input.period else None,
                tier_ids=_tiers(input.tier_ids or []),
                hidden=input.hidden,
                reward_points=input.reward_points,
                reward_id=_optional(input.reward_id, "Reward", "rewardId"),
                badge_id=_optional(input.badge_id, "Badge", "badgeId"),
                idempotency_key=input.idempotency_key,
            )
            return await service.create_challenge(
                uow, context.runtime.clock, context.caller(), command
            )

        return _payload(*await attempt(context, use_case))

    @strawberry.mutation(
        description="Admins: change a live challenge; its goal and period stay as members "
        "progress on them.",
        permission_classes=[AdminOnly],
    )
    async def update_challenge(
        self,
        info: Info,
        input: Annotated[
            UpdateChallengeInput,
            strawberry.argument(description="The challenge and the fields to change."),
        ],
    ) -> ChallengePayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain.Challenge:
            changes = service.ChallengeChanges(
                name=input.name,
                description=input.description,
                ends_at=input.ends_at if input.ends_at is not strawberry.UNSET else None,
                open_ended=input.ends_at is None,
                tier_ids=_tiers(input.tier_ids) if input.tier_ids is not None else None,
                hidden=input.hidden,
                reward_points=input.reward_points,
                reward_id=_optional(input.reward_id, "Reward", "rewardId")
                if input.reward_id is not strawberry.UNSET
                else None,
                no_reward=input.reward_id is None,
                badge_id=_optional(input.badge_id, "Badge", "badgeId")
                if input.badge_id is not strawberry.UNSET
                else None,
                no_badge=input.badge_id is None,
            )
            return await service.update_challenge(
                uow,
                context.runtime.clock,
                context.caller(),
                _id(input.challenge_id, "Challenge", "challengeId"),
                changes,
            )

        return _payload(*await attempt(context, use_case))

    @strawberry.mutation(
        description="Admins: archive a challenge; it stops counting and leaves members' "
        "lists; completions and their points stay.",
        permission_classes=[AdminOnly],
    )
    async def archive_challenge(
        self,
        info: Info,
        input: Annotated[
            ArchiveChallengeInput, strawberry.argument(description="The challenge to archive.")
        ],
    ) -> ChallengePayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain.Challenge:
            return await service.archive_challenge(
                uow,
                context.runtime.clock,
                context.caller(),
                _id(input.challenge_id, "Challenge", "challengeId"),
            )

        return _payload(*await attempt(context, use_case))

    @strawberry.mutation(
        description="Admins: a badge to award with challenges.", permission_classes=[AdminOnly]
    )
    async def create_badge(
        self,
        info: Info,
        input: Annotated[CreateBadgeInput, strawberry.argument(description="The badge to create.")],
    ) -> BadgePayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain.Badge:
            fields = service.BadgeFields(input.name, input.description, input.image_url)
            return await service.create_badge(uow, context.runtime.clock, context.caller(), fields)

        badge, errors = await attempt(context, use_case)
        return BadgePayload(badge=Badge.from_domain(badge) if badge else None, errors=errors)

    @strawberry.mutation(
        description="Admins: change a badge; members who hold it keep it.",
        permission_classes=[AdminOnly],
    )
    async def update_badge(
        self,
        info: Info,
        input: Annotated[
            UpdateBadgeInput, strawberry.argument(description="The badge and its changes.")
        ],
    ) -> BadgePayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain.Badge:
            fields = service.BadgeFields(input.name, input.description, input.image_url)
            return await service.update_badge(
                uow, context.caller(), _id(input.badge_id, "Badge", "badgeId"), fields
            )

        badge, errors = await attempt(context, use_case)
        return BadgePayload(badge=Badge.from_domain(badge) if badge else None, errors=errors)
