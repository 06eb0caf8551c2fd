"""The partner API: terms, purchases at the partner, redemptions, statistics, statements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.pagination import (
    After,
    Connection,
    Edge,
    First,
    connection,
    decode_cursor,
    encode_cursor,
    page_size,
)
from api.permissions import AdminOnly, AdminOrPartner, PartnerOnly
from api.types.program import EarnRateInput, Money, MoneyInput
from api.types.rewards import Redemption, RedemptionStatus, Reward
from domain.model import EarnRate
from domain.partners import PartnerTerms, Statement
from domain.ports import UnitOfWork
from domain.services import partners
from domain.times import utc_time

REWARD_STATS_SHOWN = 100  # by reward id; a cap so the query can be priced (api/pricing.py)


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


@strawberry.type(description="The terms of a partner deal.")
class PartnerTermsView:
    earn_points: int = strawberry.field(description="Points earned per `earnPerAmountMinor`.")
    earn_per_amount_minor: int = strawberry.field(description="Step of spend, minor units.")
    price_per_100_points_minor: int = strawberry.field(description="Partner pays per 100 points.")
    payout_per_redemption_minor: int = strawberry.field(description="Brand pays per voucher.")
    may_edit_rewards: bool = strawberry.field(description="May edit its rewards.")

    @classmethod
    def from_domain(cls, terms: PartnerTerms) -> PartnerTermsView:
        return cls(
            earn_points=terms.earn_rate.points,
            earn_per_amount_minor=terms.earn_rate.per_amount_minor,
            price_per_100_points_minor=terms.price_per_100_points_minor,
            payout_per_redemption_minor=terms.payout_per_redemption_minor,
            may_edit_rewards=terms.may_edit_rewards,
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


@strawberry.type(description="What each side of a partner deal owes for a month.")
class PartnerStatement:
    period: str = strawberry.field(description="The month as YYYY-MM (UTC), e.g. 2026-11.")
    points_issued: int = strawberry.field(description="Points issued at the partner.")
    owed_by_partner: Money = strawberry.field(description="For the points issued.")
    redemptions: int = strawberry.field(description="Vouchers of the partner's rewards used.")
    owed_to_partner: Money = strawberry.field(description="For those redemptions.")
    net: Money = strawberry.field(description="Positive: the partner pays; negative: is paid.")
    closed: bool = strawberry.field(description="Frozen by an admin; it will not change.")

    @classmethod
    def from_domain(cls, statement: Statement, currency: str) -> PartnerStatement:
        def money(amount: int) -> Money:
            return Money(amount_minor=amount, currency=currency)

        return cls(
            period=statement.period,
            points_issued=statement.points_issued,
            owed_by_partner=money(statement.owed_by_partner_minor),
            redemptions=statement.redemptions,
            owed_to_partner=money(statement.owed_to_partner_minor),
            net=money(statement.net_minor),
            closed=statement.closed,
        )


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


@strawberry.type(
    description="A partner's reward redeemed, with only what the voucher needs of the member."
)
class PartnerRedemption:
    redemption: Redemption = strawberry.field(description="The redemption and its voucher.")
    card_number: str = strawberry.field(description="The member's card number.")
    display_name: str | None = strawberry.field(description="The member's display name.")


@strawberry.type(description="How one of the partner's rewards performs.")
class PartnerRewardStats:
    reward: Reward = strawberry.field(description="The partner's reward these numbers are about.")
    redemptions: int = strawberry.field(description="Live redemptions (issued or used).")
    points_spent: int = strawberry.field(description="Points members spent on it.")
    used: int = strawberry.field(description="Vouchers of it used at a till or the partner.")
    issued: int = strawberry.field(description="Vouchers issued, not used yet.")


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


@strawberry.type(description="The partner deal.")
class PartnerQueries:
    @strawberry.field(
        description="Partners their own, admins any partner's statement for a month.",
        permission_classes=[AdminOrPartner],
    )
    async def partner_statement(
        self,
        info: Info,
        period: Annotated[
            str, strawberry.argument(description="The month as YYYY-MM (UTC), e.g. 2026-11.")
        ],
        partner_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description=(
                    "Admins: global ID of the partner (`Partner.id`), required for them; "
                    "partners leave it out and get their own."
                )
            ),
        ] = None,
    ) -> PartnerStatement:
        context = info.context
        partner = ids.decode(partner_id, "Partner", ("partnerId",)) if partner_id else None
        async with context.reader() as uow:
            statement = await partners.partner_statement(uow, context.caller(), partner, period)
        return PartnerStatement.from_domain(statement, (await context.program()).currency)

    @strawberry.field(
        description="Partners: redemptions of their rewards, newest first. No `totalCount`: "
        "they grow without bound and no index leads with the partner; see "
        "`partnerRewardStats` for totals per reward.",
        permission_classes=[PartnerOnly],
    )
    async def partner_redemptions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            list[RedemptionStatus] | None,
            strawberry.argument(
                description=(
                    "Only redemptions in these statuses (as stored; EXPIRED is derived); "
                    "left out: all."
                )
            ),
        ] = None,
        since: Annotated[
            datetime | None,
            strawberry.argument(
                description=(
                    "Only redemptions created at or after this time, with its UTC offset; "
                    "left out: from the first."
                )
            ),
        ] = None,
        until: Annotated[
            datetime | None,
            strawberry.argument(
                description=(
                    "Only redemptions created before this time, with its UTC offset; left "
                    "out: up to now."
                )
            ),
        ] = None,
    ) -> Connection[PartnerRedemption]:
        context = info.context
        size = page_size(first)
        before = decode_cursor(after, "pr", datetime, uuid.UUID)
        since = utc_time(since, ("since",)) if since is not None else None
        until = utc_time(until, ("until",)) if until is not None else None
        program = await context.program()
        async with context.reader() as uow:
            partner = await partners.partner_of(uow, context.caller(), program)
            rows = await uow.partners.redemptions(
                program.id,
                partner.id,
                statuses=[s.value for s in status] if status else None,
                since=since,
                until=until,
                limit=size + 1,
                before=before,
            )
        edges = [
            Edge(
                cursor=encode_cursor("pr", r.redemption.created_at, r.redemption.id),
                node=PartnerRedemption(
                    redemption=Redemption.from_domain(r.redemption),
                    card_number=r.card_number,
                    display_name=r.display_name,
                ),
            )
            for r in rows[:size]
        ]
        return connection(edges, len(rows) > size, after)

    @strawberry.field(
        description="Partners: redemptions, points and use of each of their rewards "
        f"(at most {REWARD_STATS_SHOWN}).",
        permission_classes=[PartnerOnly],
    )
    async def partner_reward_stats(self, info: Info) -> list[PartnerRewardStats]:
        context = info.context
        program = await context.program()
        async with context.reader() as uow:
            partner = await partners.partner_of(uow, context.caller(), program)
            stats = await uow.partners.reward_stats(program.id, partner.id, REWARD_STATS_SHOWN)
            rewards = {
                r.id: r
                for r in await uow.rewards.get_many(program.id, [s.reward_id for s in stats])
            }
        return [
            PartnerRewardStats(
                reward=Reward.from_domain(rewards[s.reward_id], program.currency),
                redemptions=s.redemptions,
                points_spent=s.points_spent,
                used=s.used,
                issued=s.issued,
            )
            for s in stats
        ]
