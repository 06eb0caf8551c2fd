"""Using a voucher at a till or a partner: checked against the order, once."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.mutations.purchases import OrderLineInput, order_lines
from api.permissions import StaffAdminOrPartner
from api.types.program import Money, MoneyInput
from api.types.rewards import Redemption
from domain import model
from domain.ports import UnitOfWork
from domain.services import redemptions


@strawberry.input(description="A voucher presented at a till or a partner.")
class UseVoucherInput:
    code: str = strawberry.field(
        description=(
            "The voucher code as shown or typed, e.g. K7M2-QX9D-4HTP (case, spaces "
            "and dashes ignored)."
        )
    )
    card_payload: str | None = strawberry.field(
        default=None,
        description="Partners (required): the QR text of the member's card, scanned from "
        "their app together with the voucher; it must be the voucher holder's card. Staff "
        "and admins leave it out.",
    )
    total: MoneyInput | None = strawberry.field(
        default=None,
        description="The order total: checked against the voucher's minimum order, and the "
        "base of its discount when no lines are given; in the program's currency. Left out: "
        "the lines' sum counts as the total (with neither, nothing is checked).",
    )
    lines: list[OrderLineInput] | None = strawberry.field(
        default=None,
        description="The order's lines (as for `recordPurchase`): the voucher must apply to "
        "one of them (its categories, its free product), and its discount is computed on "
        "them. Without lines and total the voucher is accepted as before, with no discount "
        "computed.",
    )


@strawberry.type(description="Result of `useVoucher`.")
class UseVoucherPayload:
    redemption: Redemption | None = strawberry.field(description="The redemption, now USED.")
    discount: Money | None = strawberry.field(
        description="The money off the order the voucher grants (fixed or percent off the "
        "goods it applies to, or the free product's price). null when the till gave no "
        "order (or, for a category voucher, no lines), or when the voucher grants no money "
        "off goods (free shipping, experiences): see `redemption.terms`."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Accepting vouchers.")
class VoucherMutations:
    @strawberry.mutation(
        description="Staff, and partners for their own rewards: mark a voucher used.",
        permission_classes=[StaffAdminOrPartner],
    )
    async def use_voucher(
        self,
        info: Info,
        input: Annotated[
            UseVoucherInput,
            strawberry.argument(
                description=(
                    "The voucher code and, to check its terms and get the discount, the "
                    "order's lines and total."
                )
            ),
        ],
    ) -> UseVoucherPayload:
        context = info.context
        key = context.runtime.settings.card_key_bytes

        async def use_case(uow: UnitOfWork) -> redemptions.VoucherUse:
            # lines are read inside the use case, so a bad one is a payload error
            command = redemptions.UseVoucher(
                code=input.code,
                card_payload=input.card_payload,
                total=model.Money(input.total.amount_minor, input.total.currency)
                if input.total
                else None,
                lines=order_lines(input.lines),
            )
            return await redemptions.use_voucher(
                uow, context.runtime.clock, context.caller(), key, command
            )

        result, errors = await attempt(context, use_case)
        if result is None:
            return UseVoucherPayload(redemption=None, discount=None, errors=errors)
        off = result.discount
        return UseVoucherPayload(
            redemption=Redemption.from_domain(result.redemption),
            discount=Money(amount_minor=off.amount_minor, currency=off.currency) if off else None,
            errors=[],
        )
