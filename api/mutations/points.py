"""Adjusting points by hand."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly
from api.types.wallet import Wallet
from domain import model
from domain.ports import UnitOfWork
from domain.services import points


@strawberry.input(description="A manual correction of a member's points.")
class AdjustPointsInput:
    member_id: strawberry.ID = strawberry.field(
        description="Global ID of the member whose wallet to correct (`Member.id`)."
    )
    points: int = strawberry.field(
        description=(
            "Signed points, not zero: positive adds, negative takes away (at most "
            "the spendable balance)."
        )
    )
    reason: str = strawberry.field(
        description=(
            "Why, shown to the member as the ledger entry's description and kept in"
            " the audit trail."
        )
    )
    idempotency_key: str = strawberry.field(
        description=(
            "A key the caller makes up once per adjustment (e.g. a UUID); retrying "
            "with the same key adjusts once."
        )
    )


@strawberry.type(description="Result of `adjustPoints`.")
class AdjustPointsPayload:
    wallet: Wallet | None = strawberry.field(description="The wallet after the adjustment.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Changing points.")
class PointsMutations:
    @strawberry.mutation(
        description="Admins: add or remove points with a reason.", permission_classes=[AdminOnly]
    )
    async def adjust_points(
        self,
        info: Info,
        input: Annotated[
            AdjustPointsInput,
            strawberry.argument(
                description=(
                    "The member, the signed points to add or take away, the reason and an "
                    "idempotency key."
                )
            ),
        ],
    ) -> AdjustPointsPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> model.Wallet:
            command = points.AdjustPoints(
                member_id=ids.decode(input.member_id, "Member", ("input", "memberId")),
                points=input.points,
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            )
            return await points.adjust_points(uow, context.runtime.clock, context.caller(), command)

        wallet, errors = await attempt(context, use_case)
        return AdjustPointsPayload(
            wallet=Wallet.from_domain(wallet) if wallet else None, errors=errors
        )
