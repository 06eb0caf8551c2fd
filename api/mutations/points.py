"""Crediting purchases and adjusting points."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly, StaffOrAdmin
from api.types.program import MoneyInput
from api.types.wallet import Wallet
from domain.ports import UnitOfWork
from domain.services import points


@strawberry.input(description="A purchase to credit to a member.")
class RecordPurchaseInput:
    member_id: strawberry.ID = strawberry.field(description="The member who bought.")
    order_id: str = strawberry.field(
        description="The shop's order id; recording the same order twice credits once."
    )
    total: MoneyInput = strawberry.field(description="Amount paid, in the program's currency.")
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When the purchase happened; defaults to now."
    )


@strawberry.type(description="Result of `recordPurchase`.")
class RecordPurchasePayload:
    points_earned: int | None = strawberry.field(
        description="Points the purchase earned (the same on a retry)."
    )
    wallet: Wallet | None = strawberry.field(description="The member's wallet after the credit.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A manual correction of a member's points.")
class AdjustPointsInput:
    member_id: strawberry.ID = strawberry.field(description="The member to adjust.")
    points: int = strawberry.field(description="Signed: positive adds, negative takes away.")
    reason: str = strawberry.field(description="Why; kept in the ledger and the audit trail.")
    idempotency_key: str = strawberry.field(description="Retrying with the same key adjusts once.")


@strawberry.type(description="Result of `adjustPoints`.")
class AdjustPointsPayload:
    wallet: Wallet | None = strawberry.field(description="The wallet after the adjustment.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Changing points.")
class PointsMutations:
    @strawberry.mutation(
        description="Staff and admins: credit a purchase.", permission_classes=[StaffOrAdmin]
    )
    async def record_purchase(
        self,
        info: Info,
        input: Annotated[RecordPurchaseInput, strawberry.argument(description="Order.")],
    ) -> RecordPurchasePayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> points.PurchaseResult:
            command = points.RecordPurchase(
                member_id=ids.decode(input.member_id, "Member", ("input", "memberId")),
                order_id=input.order_id,
                amount_minor=input.total.amount_minor,
                currency=input.total.currency,
                occurred_at=input.occurred_at,
            )
            return await points.record_purchase(
                uow, context.runtime.clock, context.caller(), command
            )

        result, errors = await attempt(context, use_case)
        if result is None:
            return RecordPurchasePayload(points_earned=None, wallet=None, errors=errors)
        return RecordPurchasePayload(
            points_earned=result.points_earned, wallet=Wallet.from_domain(result.wallet), errors=[]
        )

    @strawberry.mutation(
        description="Admins: add or remove points with a reason.", permission_classes=[AdminOnly]
    )
    async def adjust_points(
        self,
        info: Info,
        input: Annotated[AdjustPointsInput, strawberry.argument(description="Change.")],
    ) -> AdjustPointsPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> points.Wallet:
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
