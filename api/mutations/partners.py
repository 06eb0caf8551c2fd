"""The partner deal's mutations: terms, purchases at the partner, closing a month."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly, PartnerOnly
from api.types.partners import PartnerStatement, PartnerTermsView
from api.types.program import EarnRateInput, MoneyInput
from domain.model import EarnRate
from domain.partners import PartnerTerms, Statement
from domain.ports import UnitOfWork
from domain.services import partners


@strawberry.input(description="The terms of a partner deal.")
class UpdatePartnerTermsInput:
    partner_id: strawberry.ID = strawberry.field(
        description="Global ID of the partner (`Partner.id`)."
    )
    earn_rate: EarnRateInput = strawberry.field(
        description="What purchases at the partner earn: points per step of spend."
    )
    price_per_100_points_minor: int = strawberry.field(
        description="What the partner pays the brand per 100 points issued at it (minor units)."
    )
    payout_per_redemption_minor: int = strawberry.field(
        description=(
            "What the brand pays the partner per used voucher of its rewards, in minor units."
        )
    )
    may_edit_rewards: bool = strawberry.field(
        default=False,
        description=(
            "True lets the partner edit its rewards' name, description and stock; left out: false."
        ),
    )


@strawberry.type(description="Result of `updatePartnerTerms`.")
class UpdatePartnerTermsPayload:
    terms: PartnerTermsView | None = strawberry.field(description="The terms now.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A purchase at the partner, by a member of the program.")
class RecordPartnerPurchaseInput:
    order_id: str = strawberry.field(
        description=(
            "The partner's order id (at most 200 characters); credited once, a "
            "retry answers the same."
        )
    )
    total: MoneyInput = strawberry.field(
        description="Amount paid in minor units, in the program's currency."
    )
    card_payload: str | None = strawberry.field(
        default=None,
        description=(
            "The QR text scanned from the member's app (preferred); give this or `cardNumber`."
        ),
    )
    card_number: str | None = strawberry.field(
        default=None, description="The member's card number, typed in; give this or `cardPayload`."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None,
        description="When the purchase happened, with its UTC offset; left out: now.",
    )


@strawberry.type(description="Result of `recordPartnerPurchase`.")
class RecordPartnerPurchasePayload:
    points_earned: int | None = strawberry.field(description="Points credited (same on retry).")
    card_number: str | None = strawberry.field(description="The member's card number.")
    display_name: str | None = strawberry.field(description="The member's display name.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A finished month to freeze.")
class ClosePartnerPeriodInput:
    partner_id: strawberry.ID = strawberry.field(
        description="Global ID of the partner (`Partner.id`)."
    )
    period: str = strawberry.field(
        description="The month to freeze as YYYY-MM (UTC), e.g. 2026-11; it must be over."
    )


@strawberry.type(description="Result of `closePartnerPeriod`.")
class ClosePartnerPeriodPayload:
    statement: PartnerStatement | None = strawberry.field(description="The frozen statement.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def _statement_payload(statement: Statement | None, currency: str) -> PartnerStatement | None:
    return PartnerStatement.from_domain(statement, currency) if statement else None


@strawberry.type(description="The partner deal.")
class PartnerMutations:
    @strawberry.mutation(
        description="Admins: set a partner's terms.", permission_classes=[AdminOnly]
    )
    async def update_partner_terms(
        self,
        info: Info,
        input: Annotated[
            UpdatePartnerTermsInput,
            strawberry.argument(
                description=(
                    "The partner and its new terms; every term is replaced (mayEditRewards "
                    "false when left out)."
                )
            ),
        ],
    ) -> UpdatePartnerTermsPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> PartnerTerms:
            terms = PartnerTerms(
                earn_rate=EarnRate(input.earn_rate.points, input.earn_rate.per_amount_minor),
                price_per_100_points_minor=input.price_per_100_points_minor,
                payout_per_redemption_minor=input.payout_per_redemption_minor,
                may_edit_rewards=input.may_edit_rewards,
            )
            partner_id = ids.decode(input.partner_id, "Partner", ("input", "partnerId"))
            return await partners.update_terms(uow, context.caller(), partner_id, terms)

        terms, errors = await attempt(context, use_case)
        return UpdatePartnerTermsPayload(
            terms=PartnerTermsView.from_domain(terms) if terms else None, errors=errors
        )

    @strawberry.mutation(
        description="Partners: credit a purchase at the partner to a member identified by a "
        "card scan (or card number).",
        permission_classes=[PartnerOnly],
    )
    async def record_partner_purchase(
        self,
        info: Info,
        input: Annotated[
            RecordPartnerPurchaseInput,
            strawberry.argument(
                description=(
                    "The partner's order: its id (credited once), the total paid and the "
                    "member's card scan or card number."
                )
            ),
        ],
    ) -> RecordPartnerPurchasePayload:
        context = info.context
        key = context.runtime.settings.card_key_bytes

        async def use_case(uow: UnitOfWork) -> partners.PartnerPurchaseResult:
            command = partners.PartnerPurchase(
                order_id=input.order_id,
                amount_minor=input.total.amount_minor,
                currency=input.total.currency,
                card_number=input.card_number,
                card_payload=input.card_payload,
                occurred_at=input.occurred_at,
            )
            return await partners.record_partner_purchase(
                uow, context.runtime.clock, context.caller(), key, command
            )

        result, errors = await attempt(context, use_case)
        if result is None:
            return RecordPartnerPurchasePayload(
                points_earned=None, card_number=None, display_name=None, errors=errors
            )
        return RecordPartnerPurchasePayload(
            points_earned=result.points_earned,
            card_number=result.member.card_number,
            display_name=result.member.display_name,
            errors=[],
        )

    @strawberry.mutation(
        description="Admins: freeze a finished month of a partner's statement.",
        permission_classes=[AdminOnly],
    )
    async def close_partner_period(
        self,
        info: Info,
        input: Annotated[
            ClosePartnerPeriodInput,
            strawberry.argument(
                description=(
                    "The partner and a finished month (YYYY-MM, UTC) to freeze; closing it "
                    "again changes nothing."
                )
            ),
        ],
    ) -> ClosePartnerPeriodPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> Statement:
            partner_id = ids.decode(input.partner_id, "Partner", ("input", "partnerId"))
            return await partners.close_period(
                uow, context.runtime.clock, context.caller(), partner_id, input.period
            )

        statement, errors = await attempt(context, use_case)
        currency = (await context.program()).currency
        return ClosePartnerPeriodPayload(
            statement=_statement_payload(statement, currency), errors=errors
        )
