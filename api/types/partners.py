"""The partner deal as the API shows it: terms, monthly statements, redemptions of the
partner's rewards and their statistics."""

from __future__ import annotations

import strawberry

from api.types.program import Money
from api.types.rewards import Redemption, Reward
from domain.partners import PartnerTerms, Statement


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
