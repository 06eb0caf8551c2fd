"""Enrollment."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly, MemberOnly
from api.types.member import Member
from domain import model
from domain.ports import UnitOfWork
from domain.services import members


@strawberry.input(description="What a new member tells the program about themself.")
class EnrollInput:
    display_name: str | None = strawberry.field(
        default=None,
        description=(
            "Name to greet the member with, at most 80 characters; left out: the "
            "app greets without a name."
        ),
    )
    email: str | None = strawberry.field(
        default=None,
        description=(
            "Email address for receipts and offers, at most 254 characters; left out: none stored."
        ),
    )
    phone: str | None = strawberry.field(
        default=None,
        description=(
            "Phone in international format, e.g. +4915123456789 (stored as E.164); "
            "left out: staff cannot look the member up by phone."
        ),
    )
    birthday: date | None = strawberry.field(
        default=None,
        description=(
            "Date of birth as YYYY-MM-DD, for birthday bonuses; left out: no birthday bonus."
        ),
    )
    referral_code: str | None = strawberry.field(
        default=None,
        description=(
            "A friend's `referralCode`, if they referred the new member; unknown or "
            "own codes (same email or phone) are REFERRAL_INVALID; a blocked friend's "
            "referral is recorded VOID. Left out: no referral."
        ),
    )
    device_id: str | None = strawberry.field(
        default=None,
        description=(
            "The app's id of this device (at most 200 characters), kept as a digest: a "
            "referral from a member who used the same device is held for review. Left out: "
            "not checked."
        ),
    )


@strawberry.type(description="Result of `enroll`.")
class EnrollPayload:
    member: Member | None = strawberry.field(description="The new member; null on error.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="Block a member, or lift a block.")
class BlockMemberInput:
    member_id: strawberry.ID = strawberry.field(
        description="Global ID of the member to block or unblock (`Member.id`)."
    )
    blocked: bool = strawberry.field(
        description="True blocks the member (no earning, spending or scans), false lifts the block."
    )
    reason: str = strawberry.field(
        description=(
            "Why, in words an admin will understand later (at most 10,000 "
            "characters); kept in the audit log."
        )
    )


@strawberry.type(description="Result of `blockMember`.")
class BlockMemberPayload:
    member: Member | None = strawberry.field(description="The member after the change.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Joining a program; blocking members.")
class MemberMutations:
    @strawberry.mutation(
        description="Admins: block a member (no earning, spending or card scans) or unblock.",
        permission_classes=[AdminOnly],
    )
    async def block_member(
        self,
        info: Info,
        input: Annotated[
            BlockMemberInput,
            strawberry.argument(
                description="The member to block or unblock, and the reason kept in the audit log."
            ),
        ],
    ) -> BlockMemberPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> model.Member:
            member_id = ids.decode(input.member_id, "Member", ("input", "memberId"))
            return await members.set_blocked(
                uow, context.runtime.clock, context.caller(), member_id, input.blocked, input.reason
            )

        member, errors = await attempt(context, use_case)
        return BlockMemberPayload(
            member=Member.from_domain(member) if member else None, errors=errors
        )

    @strawberry.mutation(
        description="Member: join the program of the token, as the token's subject. Safe to "
        "retry: the same input again returns the member it made (same payload); a different "
        "input from an enrolled subject is ALREADY_ENROLLED.",
        permission_classes=[MemberOnly],
    )
    async def enroll(
        self,
        info: Info,
        input: Annotated[
            EnrollInput,
            strawberry.argument(
                description="What the new member tells about themself; every field is optional."
            ),
        ],
    ) -> EnrollPayload:
        context = info.context
        command = members.Enrollment(
            display_name=input.display_name,
            email=input.email,
            phone=input.phone,
            birthday=input.birthday,
            referral_code=input.referral_code,
            device_id=input.device_id,
        )
        member, errors = await attempt(
            context,
            lambda uow: members.enroll(uow, context.runtime.clock, context.caller(), command),
        )
        return EnrollPayload(member=Member.from_domain(member) if member else None, errors=errors)
