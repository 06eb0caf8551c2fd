"""Paying for orders with points at the till, and refunding such payments."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import StaffOrAdmin
from api.types.program import Money
from api.types.wallet import Wallet
from domain import model
from domain.ports import UnitOfWork
from domain.services import payments


@strawberry.input(description="Points to turn into money off an order at the till.")
class RedeemPointsForOrderInput:
    member_id: strawberry.ID = strawberry.field(
        description=(
            "Global ID of the paying member (`Member.id`), scanned at this store within its window."
        )
    )
    order_id: str = strawberry.field(
        description=(
            "The till's order id (at most 200 characters); each order pays with "
            "points once, a retry answers the same payment."
        )
    )
    points: int = strawberry.field(
        description=(
            "Points to spend: positive, within `Program.pointValue` minPoints and "
            "maxPoints, at most the spendable balance."
        )
    )


@strawberry.type(description="Result of `redeemPointsForOrder`.")
class RedeemPointsForOrderPayload:
    points_spent: int | None = strawberry.field(description="Points taken from the wallet.")
    discount: Money | None = strawberry.field(description="Money off the order.")
    wallet: Wallet | None = strawberry.field(description="The wallet afterwards.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="An order whose points payment is to be reversed.")
class RefundPointsPaymentInput:
    order_id: str = strawberry.field(
        description="The order id that was paid with points (`redeemPointsForOrder`)."
    )
    idempotency_key: str = strawberry.field(
        description=(
            "A key the till makes up once per refund (e.g. a UUID); retrying with "
            "the same key refunds once and answers the same."
        )
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The paying member, as a check: NOT_FOUND if the order was not paid "
        "with this member's points. Left out: no check.",
    )


@strawberry.type(description="Result of `refundPointsPayment`.")
class RefundPointsPaymentPayload:
    points_refunded: int | None = strawberry.field(description="Points given back.")
    discount: Money | None = strawberry.field(
        description="The money off the order those points had paid (to charge again)."
    )
    wallet: Wallet | None = strawberry.field(description="The wallet afterwards.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def _money(value: model.Money) -> Money:
    return Money(amount_minor=value.amount_minor, currency=value.currency)


@strawberry.type(description="Paying with points at the till.")
class PaymentMutations:
    @strawberry.mutation(
        description="Staff and admins: pay part of an order with points at the program's "
        "point value.",
        permission_classes=[StaffOrAdmin],
    )
    async def redeem_points_for_order(
        self,
        info: Info,
        input: Annotated[
            RedeemPointsForOrderInput,
            strawberry.argument(
                description=(
                    "The paying member, the order id (pays with points once) and the points"
                    " to spend."
                )
            ),
        ],
    ) -> RedeemPointsForOrderPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> payments.PaymentResult:
            command = payments.PayWithPoints(
                member_id=ids.decode(input.member_id, "Member", ("input", "memberId")),
                order_id=input.order_id,
                points=input.points,
            )
            return await payments.redeem_points_for_order(
                uow, context.runtime.clock, context.caller(), command
            )

        result, errors = await attempt(context, use_case)
        if result is None:
            return RedeemPointsForOrderPayload(
                points_spent=None, discount=None, wallet=None, errors=errors
            )
        return RedeemPointsForOrderPayload(
            points_spent=result.points_spent,
            discount=_money(result.discount),
            wallet=Wallet.from_domain(result.wallet),
            errors=[],
        )

    @strawberry.mutation(
        description="Staff (within the member's scan window) and admins: reverse an order's "
        "points payment (order refunded, or the till failed after paying). The points come "
        "back with the expiry they had; once per order, audited.",
        permission_classes=[StaffOrAdmin],
    )
    async def refund_points_payment(
        self,
        info: Info,
        input: Annotated[
            RefundPointsPaymentInput,
            strawberry.argument(
                description=(
                    "The order paid with points and an idempotency key; optionally the "
                    "paying member as a check."
                )
            ),
        ],
    ) -> RefundPointsPaymentPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> payments.RefundResult:
            command = payments.RefundPayment(
                order_id=input.order_id,
                idempotency_key=input.idempotency_key,
                member_id=ids.decode(input.member_id, "Member", ("input", "memberId"))
                if input.member_id is not None
                else None,
            )
            return await payments.refund_points_payment(
                uow, context.runtime.clock, context.caller(), command
            )

        result, errors = await attempt(context, use_case)
        if result is None:
            return RefundPointsPaymentPayload(
                points_refunded=None, discount=None, wallet=None, errors=errors
            )
        return RefundPointsPaymentPayload(
            points_refunded=result.points_refunded,
            discount=_money(result.value),
            wallet=Wallet.from_domain(result.wallet),
            errors=[],
        )
