"""Earning actions: the admins' catalog mutations, `recordAction` and `setBirthday`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly, MemberOnly, MemberStaffAdminOrShop
from api.types.actions import (
    ActionKind,
    ActionLimitsInput,
    ActionRecord,
    ActionReporter,
    EarningAction,
)
from api.types.member import Member
from api.types.wallet import Wallet
from domain import actions as domain
from domain import model
from domain.ports import UnitOfWork
from domain.services import actions as service


def _reward_id(value: strawberry.ID | None) -> uuid.UUID | None:
    return ids.decode(value, "Reward", ("input", "rewardId")) if value else None


def _action_id(value: strawberry.ID) -> uuid.UUID:
    return ids.decode(value, "EarningAction", ("input", "actionId"))


def _reporter(value: ActionReporter | None) -> domain.Reporter | None:
    return domain.Reporter[value.name] if value is not None else None


@strawberry.input(description="A new action of the earning catalog.")
class CreateEarningActionInput:
    key: str = strawberry.field(
        description="Slug clients report it by: lowercase letters, digits, '-' and '_', at "
        "most 64, unique in the program for good, e.g. 'instagram-follow'."
    )
    kind: ActionKind = strawberry.field(description="What the member does.")
    name: str = strawberry.field(
        description="Name shown to members and in the ledger, at most 120 characters."
    )
    points: int | None = strawberry.field(
        default=None,
        description="Points it pays, 1 to 1,000,000,000; give this or `rewardId`.",
    )
    reward_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global ID of a catalog reward (`Reward.id`) whose voucher it pays "
        "instead of points (no points are taken); give this or `points`.",
    )
    description: str | None = strawberry.field(
        default=None, description="What to do, for the app's screen, at most 500 characters."
    )
    limits: ActionLimitsInput | None = strawberry.field(
        default=None,
        description="How often one member may earn it; left out: no limit. SIGNUP is once "
        "ever and BIRTHDAY once a year whatever is given.",
    )
    reported_by: ActionReporter | None = strawberry.field(
        default=None,
        description="BACKEND (default) or MEMBER; leave out for SIGNUP and BIRTHDAY (AUTOMATIC).",
    )
    network: str | None = strawberry.field(
        default=None,
        description="The network, e.g. instagram: required for SOCIAL_FOLLOW (one live "
        "follow action per network), optional for SHARE, refused for other kinds.",
    )
    starts_at: datetime | None = strawberry.field(
        default=None, description="First instant it can be earned, with its UTC offset."
    )
    ends_at: datetime | None = strawberry.field(
        default=None,
        description="First instant it can no longer be earned, after `startsAt`, with its "
        "UTC offset.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key and input returns the action the first "
        "request made; the same key with other input is IDEMPOTENCY_CONFLICT.",
    )


@strawberry.input(description="Changes to a live earning action; fields left out stay.")
class UpdateEarningActionInput:
    action_id: strawberry.ID = strawberry.field(
        description="Global ID of the action (`EarningAction.id`); not archived."
    )
    name: str | None = strawberry.field(
        default=None, description="New name, at most 120 characters; left out: unchanged."
    )
    description: str | None = strawberry.field(
        default=None, description="New description, at most 500; left out: unchanged."
    )
    points: int | None = strawberry.field(
        default=None, description="New points (replaces a reward)."
    )
    reward_id: strawberry.ID | None = strawberry.field(
        default=None, description="New reward whose voucher it pays (replaces points)."
    )
    limits: ActionLimitsInput | None = strawberry.field(
        default=None, description="Replaces the limits as a whole."
    )
    reported_by: ActionReporter | None = strawberry.field(
        default=None, description="BACKEND or MEMBER."
    )
    starts_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="New start with its UTC offset; an explicit null: since creation.",
    )
    ends_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="New end with its UTC offset; an explicit null: open-ended.",
    )


@strawberry.input(description="The earning action to archive.")
class ArchiveEarningActionInput:
    action_id: strawberry.ID = strawberry.field(
        description="Global ID of the action (`EarningAction.id`)."
    )


@strawberry.type(description="Result of the earning action catalog mutations.")
class EarningActionPayload:
    action: EarningAction | None = strawberry.field(description="The action after the change.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A member did an action of the catalog.")
class RecordActionInput:
    action: str = strawberry.field(description="The action's key, e.g. 'newsletter'.")
    event_id: str = strawberry.field(
        description="Your id of this occurrence (e.g. the review's id), at most 200 "
        "characters: the same id again returns the first result and credits once; the same "
        "id with other input is IDEMPOTENCY_CONFLICT. A member's ids are their own."
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global ID of the member (`Member.id`); required for the backend, left "
        "out by a member reporting their own.",
    )


@strawberry.type(description="Result of `recordAction`.")
class RecordActionPayload:
    record: ActionRecord | None = strawberry.field(description="What it paid; null on error.")
    wallet: Wallet | None = strawberry.field(description="The member's wallet after it.")
    errors: list[UserError] = strawberry.field(
        description="Empty on success; ACTION_LIMIT_REACHED, ACTION_INACTIVE, "
        "ACTION_NOT_ALLOWED, NOT_FOUND (unknown key) ... with nothing written."
    )


@strawberry.input(description="The member's birthday, given once.")
class SetBirthdayInput:
    birthday: date = strawberry.field(description="Date of birth, YYYY-MM-DD, not in the future.")


@strawberry.type(description="Result of `setBirthday`.")
class SetBirthdayPayload:
    member: Member | None = strawberry.field(description="The member with the birthday.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Earning actions.")
class ActionMutations:
    @strawberry.mutation(
        description="Admins: add an action to the earning catalog.",
        permission_classes=[AdminOnly],
    )
    async def create_earning_action(
        self,
        info: Info,
        input: Annotated[
            CreateEarningActionInput,
            strawberry.argument(description="The action's key, kind, payout and rules."),
        ],
    ) -> EarningActionPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain.EarningAction:
            command = service.NewAction(
                key=input.key,
                kind=domain.ActionKind[input.kind.name],
                name=input.name,
                points=input.points,
                reward_id=_reward_id(input.reward_id),
                description=input.description,
                limits=input.limits.to_domain() if input.limits else domain.ActionLimits(),
                reported_by=_reporter(input.reported_by),
                network=input.network,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                idempotency_key=input.idempotency_key,
            )
            return await service.create_earning_action(
                uow, context.runtime.clock, context.caller(), command
            )

        action, errors = await attempt(context, use_case)
        return EarningActionPayload(
            action=EarningAction.from_domain(action) if action else None, errors=errors
        )

    @strawberry.mutation(
        description="Admins: change a live earning action (key, kind and network stay).",
        permission_classes=[AdminOnly],
    )
    async def update_earning_action(
        self,
        info: Info,
        input: Annotated[
            UpdateEarningActionInput,
            strawberry.argument(description="The action and the fields to change."),
        ],
    ) -> EarningActionPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain.EarningAction:
            starts_at = None if input.starts_at is strawberry.UNSET else input.starts_at
            ends_at = None if input.ends_at is strawberry.UNSET else input.ends_at
            changes = service.ActionChanges(
                name=input.name,
                description=input.description,
                points=input.points,
                reward_id=_reward_id(input.reward_id),
                limits=input.limits.to_domain() if input.limits else None,
                reported_by=_reporter(input.reported_by),
                starts_at=starts_at,
                ends_at=ends_at,
                clear_starts_at=input.starts_at is None,
                clear_ends_at=input.ends_at is None,
            )
            return await service.update_earning_action(
                uow, context.runtime.clock, context.caller(), _action_id(input.action_id), changes
            )

        action, errors = await attempt(context, use_case)
        return EarningActionPayload(
            action=EarningAction.from_domain(action) if action else None, errors=errors
        )

    @strawberry.mutation(
        description="Admins: archive an earning action: it pays no more, its records stay, "
        "and its kind's slot (signup, birthday, a network's follow) is free again.",
        permission_classes=[AdminOnly],
    )
    async def archive_earning_action(
        self,
        info: Info,
        input: Annotated[
            ArchiveEarningActionInput, strawberry.argument(description="The action to archive.")
        ],
    ) -> EarningActionPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain.EarningAction:
            return await service.archive_earning_action(
                uow, context.runtime.clock, context.caller(), _action_id(input.action_id)
            )

        action, errors = await attempt(context, use_case)
        return EarningActionPayload(
            action=EarningAction.from_domain(action) if action else None, errors=errors
        )

    @strawberry.mutation(
        description="A member did an action of the catalog: the brand's backend reports it "
        "for a member (admin or web shop token; staff after a scan), or the member themself "
        "for actions the program trusts members with. Credits its points (a ledger entry of "
        "kind ACTION) or issues its reward's voucher, once per `eventId`, within its limits "
        "and window.",
        permission_classes=[MemberStaffAdminOrShop],
    )
    async def record_action(
        self,
        info: Info,
        input: Annotated[
            RecordActionInput,
            strawberry.argument(description="The action's key, your event id and the member."),
        ],
    ) -> RecordActionPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> service.ActionResult:
            member_id = (
                ids.decode(input.member_id, "Member", ("input", "memberId"))
                if input.member_id is not None
                else None
            )
            command = service.RecordAction(
                action=input.action, event_id=input.event_id, member_id=member_id
            )
            return await service.record_action(
                uow, context.runtime.clock, context.caller(), command
            )

        result, errors = await attempt(context, use_case)
        if result is None:
            return RecordActionPayload(record=None, wallet=None, errors=errors)
        return RecordActionPayload(
            record=ActionRecord.from_domain(result),
            wallet=Wallet.from_domain(result.wallet),
            errors=[],
        )

    @strawberry.mutation(
        description="Member: give your birthday if you did not on enrolling, once (a second "
        "time is BIRTHDAY_ALREADY_SET). The birthday bonus is paid on the day, from the "
        "first birthday at least 30 days after it was given.",
        permission_classes=[MemberOnly],
    )
    async def set_birthday(
        self,
        info: Info,
        input: Annotated[
            SetBirthdayInput, strawberry.argument(description="The member's date of birth.")
        ],
    ) -> SetBirthdayPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> model.Member:
            return await service.set_birthday(
                uow, context.runtime.clock, context.caller(), input.birthday
            )

        member, errors = await attempt(context, use_case)
        return SetBirthdayPayload(
            member=Member.from_domain(member) if member else None, errors=errors
        )
