"""Crediting purchases with the earning rules, previewing them, and refunds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import MemberStaffAdminOrShop, StaffAdminOrShop
from api.types.program import MoneyInput
from api.types.wallet import Wallet
from domain import earning
from domain.errors import InvalidInput
from domain.ports import UnitOfWork
from domain.services import purchases, refunds


@strawberry.input(
    description="One line of an order, for category rules and campaigns; in a refund, the "
    "line refunded (sku and quantity are enough)."
)
class OrderLineInput:
    sku: str = strawberry.field(description="The shop's product id (SKU), at most 80 characters.")
    category: str | None = strawberry.field(
        default=None,
        description=(
            "Product category for category multipliers, exclusions and campaigns, "
            "e.g. shoes (case-insensitive); left out: the line earns at the base "
            "rate. Not needed in a refund."
        ),
    )
    quantity: int = strawberry.field(
        default=1, description="Units on the line, 1 to 100,000; left out: 1."
    )
    unit_price_minor: int | None = strawberry.field(
        default=None,
        description="Price of one, in minor units. Required in recordPurchase and previewEarn; "
        "in refundPurchase it picks among lines of the same sku (and is needed only for "
        "orders recorded without lines).",
    )

    def to_domain(self, at: tuple[str, ...]) -> earning.OrderLine:
        if self.unit_price_minor is None:
            raise InvalidInput("unitPriceMinor is required.", (*at, "unitPriceMinor"))
        return earning.OrderLine(self.sku, self.category, self.quantity, self.unit_price_minor)

    def to_refund(self) -> earning.RefundLine:
        return earning.RefundLine(self.sku, self.quantity, self.unit_price_minor)


@strawberry.input(description="A purchase to credit to a member.")
class RecordPurchaseInput:
    member_id: strawberry.ID = strawberry.field(
        description="Global ID of the member who bought (`Member.id`)."
    )
    order_id: str = strawberry.field(
        description=(
            "The shop's order id (at most 200 characters); recording the same order"
            " twice credits once and answers the same."
        )
    )
    total: MoneyInput = strawberry.field(
        description="Amount paid in minor units, in the program's currency (`Program.currency`)."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description=(
            "When the purchase happened, with its UTC offset (ISO 8601); left out: "
            "now. Decides which campaigns apply."
        ),
    )
    lines: list[OrderLineInput] | None = strawberry.field(
        default=None,
        description=(
            "Order lines, so category multipliers, exclusions and campaigns apply, "
            "and refunds can name lines; left out: the whole total earns at the "
            "base rate."
        ),
    )
    payment_fingerprint: str | None = strawberry.field(
        default=None,
        description=(
            "The shop's fingerprint of the card or account paid with (at most 200 "
            "characters), kept as a digest: a referred member paying like their referrer "
            "is held for review. Left out: not checked."
        ),
    )


@strawberry.type(description="What one line of an order earns, and the rules that counted for it.")
class EarnLine:
    sku: str | None = strawberry.field(
        description="The line's sku; null for the part of the total no line covers "
        "(e.g. shipping), which earns at the base rate."
    )
    category: str | None = strawberry.field(description="The line's category, as given.")
    quantity: int = strawberry.field(description="Units on the line.")
    amount_minor: int = strawberry.field(
        description="What the line was paid, in minor units (scaled down when the lines add up "
        "to more than the order total, e.g. after a discount)."
    )
    category_multiplier: float = strawberry.field(
        description="The category's multiplier: 0 when the category earns nothing (excluded)."
    )
    campaign: str | None = strawberry.field(
        description="The campaign that counted on this line (the best running one), if any."
    )
    campaign_multiplier: float = strawberry.field(
        description="That campaign's multiplier; 1 without one."
    )
    points: int = strawberry.field(
        description="Points the line earns: amount at the earn rate times the multipliers, "
        "rounded down. A refund of the line takes back exactly these."
    )
    reasons: list[str] = strawberry.field(
        description="Exactly the rules applied to this line, e.g. ['2x shoes', "
        "'Black Friday 2x', '1.5x Gold'] or ['no points on gift-cards']."
    )

    @classmethod
    def from_domain(cls, line: earning.LineEarning) -> EarnLine:
        return cls(
            sku=line.sku,
            category=line.category,
            quantity=line.quantity,
            amount_minor=line.amount_minor,
            category_multiplier=line.category_permille / 1000,
            campaign=line.campaign,
            campaign_multiplier=line.campaign_permille / 1000,
            points=line.points,
            reasons=list(line.reasons),
        )


@strawberry.type(description="Where an order's points come from.")
class EarnBreakdown:
    base_points: int = strawberry.field(description="Points at the base rate alone.")
    points: int = strawberry.field(
        description="Purchase points after categories, campaigns and the tier multiplier."
    )
    bonus_points: int = strawberry.field(
        description="Spend-threshold bonus points: given when the spend that earns points "
        "(lines not excluded) reaches the program's threshold."
    )
    total: int = strawberry.field(description="All points the order earns: points + bonusPoints.")
    reasons: list[str] = strawberry.field(
        description="Readable reasons, each rule that counted on some line, once: e.g. "
        "'2x shoes', 'Black Friday 2x', '1.5x Gold'. A campaign that lost to a better one "
        "and rules on excluded lines are not listed."
    )
    lines: list[EarnLine] = strawberry.field(
        description="What each line earns and why, in the order's line order; the part of "
        "the total no line covers comes last."
    )

    @classmethod
    def from_domain(cls, breakdown: earning.EarnBreakdown) -> EarnBreakdown:
        return cls(
            base_points=breakdown.base_points,
            points=breakdown.points,
            bonus_points=breakdown.bonus_points,
            total=breakdown.total,
            reasons=list(breakdown.reasons),
            lines=[EarnLine.from_domain(line) for line in breakdown.lines],
        )


@strawberry.type(description="Result of `recordPurchase`.")
class RecordPurchasePayload:
    points_earned: int | None = strawberry.field(
        description="Points the purchase earned (the same on a retry)."
    )
    breakdown: EarnBreakdown | None = strawberry.field(
        description="Where the points came from (null on a retry)."
    )
    wallet: Wallet | None = strawberry.field(description="The member's wallet after the credit.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="An order to price in points without crediting it.")
class PreviewEarnInput:
    member_id: strawberry.ID = strawberry.field(
        description="Global ID of the member whose tier multiplier applies (`Member.id`)."
    )
    total: MoneyInput = strawberry.field(
        description="Order total in minor units, in the program's currency."
    )
    lines: list[OrderLineInput] | None = strawberry.field(
        default=None,
        description=(
            "Order lines, as for `recordPurchase`; left out: the whole total earns "
            "at the base rate."
        ),
    )
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description=(
            "When the order would happen, with its UTC offset; left out: now. "
            "Decides which campaigns apply."
        ),
    )


@strawberry.type(description="Result of `previewEarn`.")
class PreviewEarnPayload:
    points_earned: int | None = strawberry.field(description="What the order would earn.")
    breakdown: EarnBreakdown | None = strawberry.field(
        description="Where the points come from, line by line."
    )
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A refund of all or part of an order.")
class RefundPurchaseInput:
    order_id: str = strawberry.field(
        description="The order id given to `recordPurchase` for this order."
    )
    amount: MoneyInput | None = strawberry.field(
        default=None,
        description="Money refunded without naming lines: takes back that share of what the "
        "order earned. Ignored when `lines` are given (then only its currency is checked). "
        "Give `amount` or `lines`: with neither the refund is INVALID_INPUT.",
    )
    lines: list[OrderLineInput] | None = strawberry.field(
        default=None,
        description="The refunded lines, by sku and quantity: takes back exactly what those "
        "units earned with the order's own rules (multiplier, exclusion, campaign, tier), and "
        "the spend bonus once the spend left falls below its threshold. Orders recorded "
        "without lines need each line's unitPriceMinor (a proportional refund of that sum). "
        "Left out: refund by `amount`.",
    )
    idempotency_key: str = strawberry.field(
        description=(
            "A key the caller makes up once per refund (e.g. a UUID); retrying with"
            " the same key refunds once."
        )
    )


@strawberry.type(description="Result of `refundPurchase`.")
class RefundPurchasePayload:
    points_reversed: int | None = strawberry.field(description="Points taken back.")
    wallet: Wallet | None = strawberry.field(description="The wallet afterwards (may be negative).")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def order_lines(lines: list[OrderLineInput] | None) -> tuple[earning.OrderLine, ...]:
    return tuple(
        line.to_domain(("input", "lines", str(index))) for index, line in enumerate(lines or ())
    )


@strawberry.type(description="Purchases and refunds.")
class PurchaseMutations:
    @strawberry.mutation(
        description="Staff (within the member's scan window), admins and the web shop "
        "(role shop, for any member): credit a purchase.",
        permission_classes=[StaffAdminOrShop],
    )
    async def record_purchase(
        self,
        info: Info,
        input: Annotated[
            RecordPurchaseInput,
            strawberry.argument(
                description=(
                    "The member, the order id (credited once), the total paid and, for "
                    "category rules and campaigns, the lines."
                )
            ),
        ],
    ) -> RecordPurchasePayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> purchases.PurchaseResult:
            command = purchases.RecordPurchase(
                member_id=ids.decode(input.member_id, "Member", ("input", "memberId")),
                order_id=input.order_id,
                amount_minor=input.total.amount_minor,
                currency=input.total.currency,
                occurred_at=input.occurred_at,
                lines=order_lines(input.lines),
                payment_fingerprint=input.payment_fingerprint,
            )
            return await purchases.record_purchase(
                uow, context.runtime.clock, context.caller(), command
            )

        result, errors = await attempt(context, use_case)
        if result is None:
            return RecordPurchasePayload(
                points_earned=None, breakdown=None, wallet=None, errors=errors
            )
        return RecordPurchasePayload(
            points_earned=result.points_earned,
            breakdown=EarnBreakdown.from_domain(result.breakdown) if result.breakdown else None,
            wallet=Wallet.from_domain(result.wallet),
            errors=[],
        )

    @strawberry.mutation(
        description="What an order would earn, with the reasons; writes nothing. Members for "
        "themselves, staff within the scan window, admins and the web shop for any member.",
        permission_classes=[MemberStaffAdminOrShop],
    )
    async def preview_earn(
        self,
        info: Info,
        input: Annotated[
            PreviewEarnInput,
            strawberry.argument(
                description=(
                    "The member and the order to price (total, lines, time); nothing is written."
                )
            ),
        ],
    ) -> PreviewEarnPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> earning.EarnBreakdown:
            command = purchases.PreviewEarn(
                member_id=ids.decode(input.member_id, "Member", ("input", "memberId")),
                amount_minor=input.total.amount_minor,
                currency=input.total.currency,
                lines=order_lines(input.lines),
                occurred_at=input.occurred_at,
            )
            return await purchases.preview_earn(
                uow, context.runtime.clock, context.caller(), command
            )

        breakdown, errors = await attempt(context, use_case)
        return PreviewEarnPayload(
            points_earned=breakdown.total if breakdown else None,
            breakdown=EarnBreakdown.from_domain(breakdown) if breakdown else None,
            errors=errors,
        )

    @strawberry.mutation(
        description="Staff (within the member's scan window), admins and the web shop: take "
        "back the points of a refunded (part of an) order.",
        permission_classes=[StaffAdminOrShop],
    )
    async def refund_purchase(
        self,
        info: Info,
        input: Annotated[
            RefundPurchaseInput,
            strawberry.argument(
                description=(
                    "The refunded order, the lines (or amount) refunded and an idempotency key."
                )
            ),
        ],
    ) -> RefundPurchasePayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> refunds.RefundResult:
            command = refunds.RefundPurchase(
                order_id=input.order_id,
                amount_minor=input.amount.amount_minor if input.amount else None,
                currency=input.amount.currency if input.amount else None,
                idempotency_key=input.idempotency_key,
                lines=tuple(line.to_refund() for line in input.lines or ()),
            )
            return await refunds.refund_purchase(
                uow, context.runtime.clock, context.caller(), command
            )

        result, errors = await attempt(context, use_case)
        if result is None:
            return RefundPurchasePayload(points_reversed=None, wallet=None, errors=errors)
        return RefundPurchasePayload(
            points_reversed=result.points_reversed,
            wallet=Wallet.from_domain(result.wallet),
            errors=[],
        )
