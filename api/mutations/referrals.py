"""Referral admin: `updateReferralProgram`, `approveReferral`, `rejectReferral`."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly
from api.types.program import MoneyInput
from api.types.referrals import Referral, ReferralProgram
from domain import referrals
from domain.errors import InvalidInput
from domain.money import validate_currency
from domain.ports import UnitOfWork
from domain.services import referrals as service
from domain.services.usecase import program_of


@strawberry.input(description="A step of the referral ladder.")
class ReferralMilestoneInput:
    count: int = strawberry.field(description="Successful referrals that reach it, 1 to 100,000.")
    points: int = strawberry.field(
        default=0, description="Points paid when reached; left out: 0 (then give `rewardId`)."
    )
    reward_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global ID of a reward issued as a free voucher when reached; left out: none.",
    )


@strawberry.input(description="Changes to the referral rules; fields left out stay as they are.")
class UpdateReferralProgramInput:
    welcome_points: int | None = strawberry.field(
        default=None,
        description="Points a new member gets on enrolling with a friend's code; left out: "
        "unchanged.",
    )
    welcome_reward_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Global ID of a reward the new member gets as a free voucher (e.g. 10 % "
        "off the first order); an explicit null removes it; left out: unchanged.",
    )
    referrer_points: int | None = strawberry.field(
        default=None,
        description="Points the referrer gets for the friend's first qualifying purchase; "
        "left out: unchanged.",
    )
    min_purchase: MoneyInput | None = strawberry.field(
        default=None,
        description="Smallest purchase (after refunds) that qualifies, in the program's "
        "currency; left out: unchanged.",
    )
    monthly_cap: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Referrals per referrer per month that can pay, 1 to 10,000; an "
        "explicit null removes the cap; left out: unchanged.",
    )
    milestones: list[ReferralMilestoneInput] | None = strawberry.field(
        default=None,
        description="Replaces the ladder (at most 20 steps, distinct counts); [] removes "
        "it; left out: unchanged.",
    )
    normalised_domains: list[str] | None = strawberry.field(
        default=None,
        description="Email domains whose dots and +tags are ignored when telling whether a "
        'friend is the referrer, e.g. ["gmail.com"]; left out: unchanged.',
    )
    link_template: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An https:// link with `{code}`, e.g. https://brand.example/r/{code}; "
        "an explicit null removes it; left out: unchanged.",
    )


@strawberry.type(description="Result of `updateReferralProgram`.")
class UpdateReferralProgramPayload:
    referral_program: ReferralProgram | None = strawberry.field(
        description="The rules after the change; null on error."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A referral held for review.")
class ApproveReferralInput:
    referral_id: strawberry.ID = strawberry.field(
        description="Global ID of the referral (`Referral.id`)."
    )


@strawberry.input(description="A referral to refuse.")
class RejectReferralInput:
    referral_id: strawberry.ID = strawberry.field(
        description="Global ID of the referral (`Referral.id`), held or pending."
    )
    note: str | None = strawberry.field(
        default=None, description="Why, for the admins (at most 500 characters); left out: none."
    )


@strawberry.type(description="Result of `approveReferral` and `rejectReferral`.")
class ReviewReferralPayload:
    referral: Referral | None = strawberry.field(description="The referral after the decision.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def _reward(value: strawberry.ID | None, field: tuple[str, ...]) -> uuid.UUID | None:
    return ids.decode(value, "Reward", field) if value else None


async def _settings(
    uow: UnitOfWork, info: Info, input: UpdateReferralProgramInput
) -> tuple[referrals.ReferralSettings, str]:
    program = await program_of(uow, info.context.caller())
    current = await uow.referrals.settings(program.id)
    changes: dict[str, object] = {}
    if input.welcome_points is not None:
        changes["welcome_points"] = input.welcome_points
    if input.welcome_reward_id is not strawberry.UNSET:
        changes["welcome_reward_id"] = _reward(
            input.welcome_reward_id, ("input", "welcomeRewardId")
        )
    if input.referrer_points is not None:
        changes["referrer_points"] = input.referrer_points
    if input.min_purchase is not None:
        field = ("input", "minPurchase", "currency")
        if validate_currency(input.min_purchase.currency, field) != program.currency:
            raise InvalidInput(f"The program's currency is {program.currency}.", field)
        changes["min_purchase_minor"] = input.min_purchase.amount_minor
    if input.monthly_cap is not strawberry.UNSET:
        changes["monthly_cap"] = input.monthly_cap
    if input.milestones is not None:
        changes["milestones"] = tuple(
            referrals.Milestone(
                count=m.count,
                points=m.points,
                reward_id=_reward(m.reward_id, ("input", "milestones", str(i), "rewardId")),
            )
            for i, m in enumerate(input.milestones)
        )
    if input.normalised_domains is not None:
        changes["normalised_domains"] = tuple(input.normalised_domains)
    if input.link_template is not strawberry.UNSET:
        changes["link_template"] = input.link_template
    return replace(current, **changes), program.currency  # type: ignore[arg-type]


async def _answer(uow: UnitOfWork, referral: referrals.Referral) -> Referral:
    referee = await uow.members.get(referral.program_id, referral.referee_id)
    return Referral.from_domain(referral, referee.display_name if referee else None)


def _referral_id(value: strawberry.ID) -> uuid.UUID:
    return ids.decode(value, "Referral", ("input", "referralId"))


@strawberry.type(description="Referral rules and review.")
class ReferralMutations:
    @strawberry.mutation(
        description="Admins: set how referrals pay: the friend's welcome, the referrer's "
        "points, the minimum purchase, a monthly cap, milestones, email normalisation and "
        "the referral link. Only the fields given change.",
        permission_classes=[AdminOnly],
    )
    async def update_referral_program(
        self,
        info: Info,
        input: Annotated[
            UpdateReferralProgramInput,
            strawberry.argument(description="The rules to change; fields left out stay."),
        ],
    ) -> UpdateReferralProgramPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> ReferralProgram:
            wanted, currency = await _settings(uow, info, input)
            saved = await service.update_settings(
                uow, context.runtime.clock.now(), context.caller(), wanted
            )
            return ReferralProgram.from_domain(saved, currency)

        result, errors = await attempt(context, use_case)
        return UpdateReferralProgramPayload(referral_program=result, errors=errors)

    @strawberry.mutation(
        description="Admins: clear a referral held for review. The friend gets the welcome, "
        "and the referrer is paid at once if the friend's first qualifying purchase landed.",
        permission_classes=[AdminOnly],
    )
    async def approve_referral(
        self,
        info: Info,
        input: Annotated[
            ApproveReferralInput, strawberry.argument(description="The referral to approve.")
        ],
    ) -> ReviewReferralPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> Referral:
            done = await service.approve(
                uow, context.runtime.clock.now(), context.caller(), _referral_id(input.referral_id)
            )
            return await _answer(uow, done)

        found, errors = await attempt(context, use_case)
        return ReviewReferralPayload(referral=found, errors=errors)

    @strawberry.mutation(
        description="Admins: refuse a held or pending referral; it never pays.",
        permission_classes=[AdminOnly],
    )
    async def reject_referral(
        self,
        info: Info,
        input: Annotated[
            RejectReferralInput,
            strawberry.argument(description="The referral to reject, and why."),
        ],
    ) -> ReviewReferralPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> Referral:
            done = await service.reject(
                uow,
                context.runtime.clock.now(),
                context.caller(),
                _referral_id(input.referral_id),
                input.note,
            )
            return await _answer(uow, done)

        found, errors = await attempt(context, use_case)
        return ReviewReferralPayload(referral=found, errors=errors)
