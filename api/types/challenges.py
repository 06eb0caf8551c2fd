"""Challenges and badges: admins' `Challenge` and `Badge` nodes and listings, and what
members see on `me { challenges badges }`."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.pagination import (
    After,
    Connection,
    Edge,
    First,
    decode_cursor,
    encode_cursor,
    page_info,
    page_size,
)
from api.permissions import AdminOnly
from api.types.node import Node
from api.types.program import Tier
from api.types.rewards import Reward
from domain import challenges as domain
from domain import model
from domain.model import Role
from domain.services import challenge_admin as admin
from domain.services import challenges as service

CURSOR = "ch"


@strawberry.enum(description="What a challenge counts.")
class ChallengeGoalKind(Enum):
    PURCHASE_COUNT = strawberry.enum_value(
        "PURCHASE_COUNT", description="Purchases, each counting one."
    )
    SPEND = strawberry.enum_value("SPEND", description="Money spent, in minor units.")
    CATEGORY_PURCHASES = strawberry.enum_value(
        "CATEGORY_PURCHASES", description="Purchases with at least one line in the category."
    )
    CATEGORY_SPEND = strawberry.enum_value(
        "CATEGORY_SPEND", description="Money spent on lines in the category, in minor units."
    )
    ACTION_COUNT = strawberry.enum_value(
        "ACTION_COUNT", description="Earning actions of one kind (e.g. PRODUCT_REVIEW)."
    )


@strawberry.enum(description="How often a recurring challenge starts again.")
class ChallengePeriod(Enum):
    WEEK = strawberry.enum_value("WEEK", description="Each week, Monday first, program's zone.")
    MONTH = strawberry.enum_value("MONTH", description="Each calendar month, program's zone.")


@strawberry.type(description="What a challenge asks for.")
class ChallengeGoal:
    kind: ChallengeGoalKind = strawberry.field(description="What it counts.")
    target: int = strawberry.field(
        description="How many purchases or actions, or how much spend in minor units."
    )
    category: str | None = strawberry.field(
        description="The product category (lowercase) of category goals; null otherwise."
    )
    action_kind: str | None = strawberry.field(
        description="The action kind ACTION_COUNT counts; null otherwise."
    )

    @classmethod
    def from_domain(cls, goal: domain.Goal) -> ChallengeGoal:
        return cls(
            kind=ChallengeGoalKind[goal.kind.value],
            target=goal.target,
            category=goal.category,
            action_kind=goal.action_kind,
        )


@strawberry.type(description="A badge members earn by completing challenges, each once.")
class Badge(Node):
    name: str = strawberry.field(description="Name shown to members.")
    description: str = strawberry.field(description="What it stands for.")
    image_url: str | None = strawberry.field(description="Its image, an https:// URL.")

    @classmethod
    def from_domain(cls, badge: domain.Badge) -> Badge:
        return cls(
            id=strawberry.ID(ids.encode("Badge", badge.id)),
            name=badge.name,
            description=badge.description,
            image_url=badge.image_url,
        )


@strawberry.type(description="A badge the member earned.")
class EarnedBadge:
    id: strawberry.ID = strawberry.field(description="Global ID of the badge (`Badge.id`).")
    name: str = strawberry.field(description="Name shown to members.")
    description: str = strawberry.field(description="What it stands for.")
    image_url: str | None = strawberry.field(description="Its image, an https:// URL.")
    awarded_at: datetime = strawberry.field(description="When the member earned it.")

    @classmethod
    def from_domain(cls, earned: domain.EarnedBadge) -> EarnedBadge:
        badge = earned.badge
        return cls(
            id=strawberry.ID(ids.encode("Badge", badge.id)),
            name=badge.name,
            description=badge.description,
            image_url=badge.image_url,
            awarded_at=earned.awarded_at,
        )


@strawberry.type(description="What completing a challenge pays.")
class ChallengeReward:
    points: int = strawberry.field(description="Points credited on completion (0: none).")
    reward_id: strawberry.Private[uuid.UUID | None]
    badge: Badge | None = strawberry.field(description="The badge awarded, if any.")

    @strawberry.field(description="The catalog reward issued as a voucher, if any.")
    async def reward(self, info: Info) -> Reward | None:
        if self.reward_id is None:
            return None
        loaders = await info.context.loaders()
        found = await loaders.rewards.load(self.reward_id)
        currency = (await info.context.program()).currency
        return Reward.from_domain(found, currency) if found else None


def _reward(challenge: domain.Challenge, badge: domain.Badge | None) -> ChallengeReward:
    return ChallengeReward(
        points=challenge.reward_points,
        reward_id=challenge.reward_id,
        badge=Badge.from_domain(badge) if badge else None,
    )


@strawberry.type(description="A challenge as admins define it.")
class Challenge(Node):
    name: str = strawberry.field(description="Name shown to members and in the ledger.")
    description: str = strawberry.field(description="What to do, for the app.")
    goal: ChallengeGoal = strawberry.field(description="What it asks for.")
    starts_at: datetime = strawberry.field(description="From when events count.")
    ends_at: datetime | None = strawberry.field(
        description="When events stop counting; null: open-ended."
    )
    period: ChallengePeriod | None = strawberry.field(
        description="WEEK or MONTH: progress starts again each period; null: one window."
    )
    hidden: bool = strawberry.field(description="Members see it only once they have progress.")
    archived_at: datetime | None = strawberry.field(
        description="When it was archived (it no longer counts); null while live."
    )
    challenge: strawberry.Private[domain.Challenge]

    @classmethod
    def from_domain(cls, challenge: domain.Challenge) -> Challenge:
        return cls(
            id=strawberry.ID(ids.encode("Challenge", challenge.id)),
            name=challenge.name,
            description=challenge.description,
            goal=ChallengeGoal.from_domain(challenge.goal),
            starts_at=challenge.starts_at,
            ends_at=challenge.ends_at,
            period=ChallengePeriod[challenge.period.value] if challenge.period else None,
            hidden=challenge.hidden,
            archived_at=challenge.archived_at,
            challenge=challenge,
        )

    @strawberry.field(description="Tiers that take part; empty: every tier.")
    async def tiers(self, info: Info) -> list[Tier]:
        return [
            Tier.from_domain(t)
            for t in await info.context.tiers()
            if t.id in self.challenge.tier_ids
        ]

    @strawberry.field(description="What completing it pays.")
    async def reward(self, info: Info) -> ChallengeReward:
        badge = None
        if self.challenge.badge_id is not None:
            loaders = await info.context.loaders()
            badge = await loaders.badges.load(self.challenge.badge_id)
        return _reward(self.challenge, badge)


@strawberry.type(description="A challenge open to the member, with their progress now.")
class MemberChallenge:
    id: strawberry.ID = strawberry.field(description="Global ID of the challenge.")
    name: str = strawberry.field(description="Name of the challenge.")
    description: str = strawberry.field(description="What to do.")
    goal: ChallengeGoal = strawberry.field(description="What it asks for.")
    progress: int = strawberry.field(
        description="Counted so far in the current period (purchases, actions or minor "
        "units); it keeps counting after completion."
    )
    completed_at: datetime | None = strawberry.field(
        description="When the member completed it in the current period; null: not yet."
    )
    reward: ChallengeReward = strawberry.field(description="What completing it pays.")
    ends_at: datetime | None = strawberry.field(
        description="When the current period (or the challenge) ends; null: open-ended."
    )

    @classmethod
    def from_domain(cls, view: service.MemberChallenge) -> MemberChallenge:
        challenge = view.challenge
        return cls(
            id=strawberry.ID(ids.encode("Challenge", challenge.id)),
            name=challenge.name,
            description=challenge.description,
            goal=ChallengeGoal.from_domain(challenge.goal),
            progress=view.progress,
            completed_at=view.completed_at,
            reward=_reward(challenge, view.badge),
            ends_at=view.ends_at,
        )


@strawberry.type(
    name="ChallengeConnection",
    description="A page of challenges, latest start first; page with `first` and `after`.",
)
class ChallengeConnection(Connection[Challenge]):
    pass


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    position = decode_cursor(cursor, CURSOR, datetime, uuid.UUID)
    return (position[0], position[1]) if position is not None else None


@strawberry.type(description="Reading challenges and badges.")
class ChallengeQueries:
    @strawberry.field(
        description="Admins: the program's challenges, latest start first.",
        permission_classes=[AdminOnly],
    )
    async def challenges(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        archived: Annotated[
            bool | None,
            strawberry.argument(
                description="True: only archived challenges; false: only live ones; left out: all."
            ),
        ] = None,
    ) -> ChallengeConnection:
        context = info.context
        async with context.reader() as uow:
            page = await admin.list_challenges(
                uow,
                context.caller(),
                limit=page_size(first),
                after=_after(after),
                archived=archived,
            )
        edges = [
            Edge(cursor=encode_cursor(CURSOR, c.starts_at, c.id), node=Challenge.from_domain(c))
            for c in page.challenges
        ]
        return ChallengeConnection(edges=edges, page_info=page_info(edges, page.has_next, after))

    @strawberry.field(
        description=f"Admins: the program's badges, oldest first (at most {service.BADGES_SHOWN}).",
        permission_classes=[AdminOnly],
    )
    async def badges(self, info: Info) -> list[Badge]:
        async with info.context.reader() as uow:
            found = await admin.list_badges(uow, info.context.caller(), service.BADGES_SHOWN)
        return [Badge.from_domain(b) for b in found]


async def resolve_challenge_node(
    info: Info, type_name: str, value: uuid.UUID
) -> Challenge | Badge | None:
    """A challenge or badge by global ID: admins only; null for everyone else."""
    if info.context.caller().role is not Role.ADMIN:
        return None
    program = await info.context.program()
    async with info.context.reader() as uow:
        if type_name == "Challenge":
            found = await uow.challenges.get(program.id, value)
            return Challenge.from_domain(found) if found else None
        badges = await uow.challenges.badges(program.id, [value])
    return Badge.from_domain(badges[0]) if badges else None


async def member_challenges(info: Info, member: model.Member) -> list[MemberChallenge]:
    """`me { challenges }`: three reads whatever the number of challenges."""
    program = await info.context.program()
    now = info.context.runtime.clock.now()
    async with info.context.reader() as uow:
        views = await service.member_challenges(uow, program, member, now)
    return [MemberChallenge.from_domain(v) for v in views]


async def member_badges(info: Info, member: model.Member) -> list[EarnedBadge]:
    """`me { badges }`: one read."""
    program = await info.context.program()
    async with info.context.reader() as uow:
        earned = await service.member_badges(uow, program, member)
    return [EarnedBadge.from_domain(e) for e in earned]
