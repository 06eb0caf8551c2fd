"""Earning actions: the catalog (`EarningAction`, `earningActions`), what a member can still
earn (`EarnableAction`, on `me { actions }`) and what reporting one paid (`ActionRecord`)."""

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
    Counter,
    Edge,
    First,
    decode_cursor,
    encode_cursor,
    page_info,
    page_size,
)
from api.permissions import AdminOnly
from api.types.node import Node
from api.types.rewards import Redemption, Reward
from domain import actions as domain
from domain.model import Role
from domain.services import actions as service
from domain.times import Period

CURSOR = "ea"


@strawberry.enum(description="What a member does to earn an action.")
class ActionKind(Enum):
    SIGNUP = strawberry.enum_value(
        "SIGNUP", description="Joining the program: paid on `enroll`, once."
    )
    BIRTHDAY = strawberry.enum_value(
        "BIRTHDAY",
        description="The member's birthday in the program's zone: paid by the jobs once a year.",
    )
    PRODUCT_REVIEW = strawberry.enum_value("PRODUCT_REVIEW", description="Reviewing a product.")
    SOCIAL_FOLLOW = strawberry.enum_value(
        "SOCIAL_FOLLOW", description="Following the brand on a network (one action per network)."
    )
    SHARE = strawberry.enum_value("SHARE", description="Sharing a product or post.")
    NEWSLETTER_SIGNUP = strawberry.enum_value(
        "NEWSLETTER_SIGNUP", description="Subscribing to the newsletter."
    )
    SMS_SIGNUP = strawberry.enum_value("SMS_SIGNUP", description="Subscribing to text messages.")
    WISHLIST_ADD = strawberry.enum_value(
        "WISHLIST_ADD", description="Adding a product to the wishlist."
    )
    SURVEY = strawberry.enum_value("SURVEY", description="Answering a survey or giving feedback.")
    APP_DOWNLOAD = strawberry.enum_value("APP_DOWNLOAD", description="Installing the app.")
    CUSTOM = strawberry.enum_value("CUSTOM", description="Anything else the brand pays for.")


@strawberry.enum(description="Who may report an action with `recordAction`.")
class ActionReporter(Enum):
    BACKEND = strawberry.enum_value(
        "BACKEND",
        description="The brand's backend only: an admin or web shop token, or staff after "
        "scanning the member's card.",
    )
    MEMBER = strawberry.enum_value(
        "MEMBER",
        description="The member from the app (the program trusts them for it), or the backend.",
    )
    AUTOMATIC = strawberry.enum_value(
        "AUTOMATIC",
        description="Nobody: the program grants it itself (SIGNUP on enroll, BIRTHDAY by "
        "the jobs).",
    )


@strawberry.enum(description="A program-local calendar period (days start at local midnight).")
class ActionPeriod(Enum):
    DAY = strawberry.enum_value("DAY", description="A calendar day in the program's zone.")
    WEEK = strawberry.enum_value("WEEK", description="A week from Monday in the program's zone.")
    MONTH = strawberry.enum_value("MONTH", description="A calendar month in the program's zone.")
    YEAR = strawberry.enum_value("YEAR", description="A calendar year in the program's zone.")


@strawberry.type(description="How often one member may earn an action; null: no such limit.")
class ActionLimits:
    lifetime: int | None = strawberry.field(
        description="At most this many times ever (1: once ever)."
    )
    period: ActionPeriod | None = strawberry.field(description="The period of `perPeriod`.")
    per_period: int | None = strawberry.field(
        description="At most this many times in each `period`."
    )

    @classmethod
    def from_domain(cls, limits: domain.ActionLimits) -> ActionLimits:
        return cls(
            lifetime=limits.lifetime,
            period=ActionPeriod[limits.period.value] if limits.period else None,
            per_period=limits.per_period,
        )


@strawberry.input(description="How often one member may earn an action; left out: no limit.")
class ActionLimitsInput:
    lifetime: int | None = strawberry.field(
        default=None,
        description="At most this many times ever, 1 to 1,000,000 (1: once ever); left out: "
        "no lifetime cap.",
    )
    period: ActionPeriod | None = strawberry.field(
        default=None,
        description="Period of `perPeriod` in the program's time zone; give both or neither.",
    )
    per_period: int | None = strawberry.field(
        default=None, description="At most this many times per `period`, 1 to 1,000,000."
    )

    def to_domain(self) -> domain.ActionLimits:
        return domain.ActionLimits(
            lifetime=self.lifetime,
            period=Period[self.period.name] if self.period else None,
            per_period=self.per_period,
        )


async def _reward(info: Info, reward_id: uuid.UUID | None) -> Reward | None:
    if reward_id is None:
        return None
    loaders = await info.context.loaders()
    reward = await loaders.rewards.load(reward_id)
    currency = (await info.context.program()).currency
    return Reward.from_domain(reward, currency) if reward is not None else None


@strawberry.type(description="An action of the program's catalog that earns points or a reward.")
class EarningAction(Node):
    key: str = strawberry.field(
        description="Stable slug clients report it by in `recordAction`, e.g. 'instagram-follow'."
    )
    kind: ActionKind = strawberry.field(description="What the member does.")
    name: str = strawberry.field(description="Name shown to members and in the ledger.")
    description: str = strawberry.field(description="What to do, for the app's screen.")
    points: int | None = strawberry.field(
        description="Points it pays; null when it pays a reward's voucher instead."
    )
    network: str | None = strawberry.field(
        description="The network of a follow or share, e.g. instagram; null for other kinds."
    )
    reported_by: ActionReporter = strawberry.field(description="Who may report it.")
    limits: ActionLimits = strawberry.field(description="How often one member may earn it.")
    starts_at: datetime | None = strawberry.field(
        description="First instant it can be earned; null: since it was created."
    )
    ends_at: datetime | None = strawberry.field(
        description="First instant it can no longer be earned; null: open-ended."
    )
    archived: bool = strawberry.field(description="Retired by an admin: it pays no more.")
    action: strawberry.Private[domain.EarningAction]

    @classmethod
    def from_domain(cls, action: domain.EarningAction) -> EarningAction:
        return cls(
            id=strawberry.ID(ids.encode("EarningAction", action.id)),
            key=action.key,
            kind=ActionKind[action.kind.value],
            name=action.name,
            description=action.description,
            points=action.points,
            network=action.network,
            reported_by=ActionReporter[action.reported_by.value],
            limits=ActionLimits.from_domain(action.limits),
            starts_at=action.starts_at,
            ends_at=action.ends_at,
            archived=action.archived_at is not None,
            action=action,
        )

    @strawberry.field(description="The reward whose voucher it pays instead of points, if any.")
    async def reward(self, info: Info) -> Reward | None:
        return await _reward(info, self.action.reward_id)


@strawberry.type(
    description="An action the member can still earn, and what is left of its limits now: "
    "what the app's 'earn more' screen shows."
)
class EarnableAction:
    key: str = strawberry.field(description="The action's key, as `recordAction` takes it.")
    kind: ActionKind = strawberry.field(description="What the member does.")
    name: str = strawberry.field(description="Name to show.")
    description: str = strawberry.field(description="What to do.")
    network: str | None = strawberry.field(description="The network of a follow or share.")
    points: int | None = strawberry.field(
        description="Points it pays; null when it pays `reward`'s voucher instead."
    )
    reported_by: ActionReporter = strawberry.field(
        description="MEMBER: the app reports it (`recordAction`); BACKEND: the brand's systems "
        "do once the member did it; AUTOMATIC: nothing to report."
    )
    can_earn_now: bool = strawberry.field(
        description="False while a period's limit is used up (see `periodResetsAt`)."
    )
    remaining_in_period: int | None = strawberry.field(
        description="How many more times this period; null without a per-period limit."
    )
    period: ActionPeriod | None = strawberry.field(description="The period of the limit.")
    period_resets_at: datetime | None = strawberry.field(
        description="When the current period ends and `remainingInPeriod` refills."
    )
    lifetime_remaining: int | None = strawberry.field(
        description="How many more times ever; null without a lifetime cap."
    )
    ends_at: datetime | None = strawberry.field(
        description="Last chance: it can be earned until then; null: open-ended."
    )
    action: strawberry.Private[domain.EarningAction]

    @classmethod
    def from_domain(cls, earnable: service.Earnable) -> EarnableAction:
        action, left = earnable.action, earnable.allowance
        return cls(
            key=action.key,
            kind=ActionKind[action.kind.value],
            name=action.name,
            description=action.description,
            network=action.network,
            points=action.points,
            reported_by=ActionReporter[action.reported_by.value],
            can_earn_now=left.can_earn_now,
            remaining_in_period=left.remaining_in_period,
            period=ActionPeriod[action.limits.period.value] if action.limits.period else None,
            period_resets_at=left.period_resets_at,
            lifetime_remaining=left.lifetime_remaining,
            ends_at=action.ends_at,
            action=action,
        )

    @strawberry.field(description="The reward whose voucher it pays instead of points, if any.")
    async def reward(self, info: Info) -> Reward | None:
        return await _reward(info, self.action.reward_id)


@strawberry.type(description="What earning an action once paid.")
class ActionRecord:
    action_key: str = strawberry.field(description="The action's key.")
    action_name: str = strawberry.field(description="The action's name.")
    points: int = strawberry.field(description="Points credited (0 when it paid a voucher).")
    voucher: Redemption | None = strawberry.field(
        description="The voucher it issued, when the action pays a reward."
    )
    occurred_at: datetime = strawberry.field(description="When it was credited.")

    @classmethod
    def from_domain(cls, result: service.ActionResult) -> ActionRecord:
        return cls(
            action_key=result.action.key,
            action_name=result.action.name,
            points=result.record.points,
            voucher=Redemption.from_domain(result.redemption) if result.redemption else None,
            occurred_at=result.record.occurred_at,
        )


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    position = decode_cursor(cursor, CURSOR, datetime, uuid.UUID)
    return (position[0], position[1]) if position is not None else None


@strawberry.type(
    name="EarningActionConnection",
    description="A page of earning actions, oldest first; page with `first` and `after`.",
)
class EarningActionConnection(Connection[EarningAction]):
    counter: strawberry.Private[Counter]

    @strawberry.field(
        description="How many actions match in all pages together (one statement more)."
    )
    async def total_count(self) -> int:
        return await self.counter()


@strawberry.type(description="Reading the earning actions catalog.")
class ActionQueries:
    @strawberry.field(
        description="Admins: the program's earning actions catalog, oldest first.",
        permission_classes=[AdminOnly],
    )
    async def earning_actions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        include_archived: Annotated[
            bool,
            strawberry.argument(description="True lists archived actions too; default false."),
        ] = False,
    ) -> EarningActionConnection:
        context = info.context
        size = page_size(first)
        position = _after(after)
        async with context.reader() as uow:
            page = await service.list_earning_actions(
                uow, context.caller(), limit=size, after=position, archived=include_archived
            )
        edges = [
            Edge(
                cursor=encode_cursor(CURSOR, a.created_at, a.id), node=EarningAction.from_domain(a)
            )
            for a in page.actions
        ]

        async def count() -> int:
            async with context.reader() as uow:
                return await uow.actions.count(page.program_id, archived=include_archived)

        return EarningActionConnection(
            edges=edges, page_info=page_info(edges, page.has_next, after), counter=count
        )


async def resolve_earning_action(info: Info, action_id: uuid.UUID) -> EarningAction | None:
    """An action by global ID: admins only; null for everyone else."""
    if info.context.caller().role is not Role.ADMIN:
        return None
    program = await info.context.program()
    async with info.context.reader() as uow:
        found = await uow.actions.get(program.id, action_id)
    return EarningAction.from_domain(found) if found else None
