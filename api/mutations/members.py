"""Enrollment."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import MemberOnly
from api.types.member import Member
from domain.services import members


@strawberry.input(description="What a new member tells the program about themself.")
class EnrollInput:
    display_name: str | None = strawberry.field(
        default=None, description="Name to greet the member with (at most 80 characters)."
    )
    email: str | None = strawberry.field(default=None, description="Email address.")
    phone: str | None = strawberry.field(
        default=None, description="Phone in international format, e.g. +4915123456789."
    )
    birthday: date | None = strawberry.field(default=None, description="For birthday bonuses.")
    referral_code: str | None = strawberry.field(
        default=None, description="A friend's referral code, if they referred the member."
    )


@strawberry.type(description="Result of `enroll`.")
class EnrollPayload:
    member: Member | None = strawberry.field(description="The new member; null on error.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Joining a program.")
class MemberMutations:
    @strawberry.mutation(
        description="Member: join the program of the token, as the token's subject.",
        permission_classes=[MemberOnly],
    )
    async def enroll(
        self,
        info: Info,
        input: Annotated[EnrollInput, strawberry.argument(description="Who joins.")],
    ) -> EnrollPayload:
        context = info.context
        command = members.Enrollment(
            display_name=input.display_name,
            email=input.email,
            phone=input.phone,
            birthday=input.birthday,
            referral_code=input.referral_code,
        )
        member, errors = await attempt(
            context,
            lambda uow: members.enroll(uow, context.runtime.clock, context.caller(), command),
        )
        return EnrollPayload(member=Member.from_domain(member) if member else None, errors=errors)
