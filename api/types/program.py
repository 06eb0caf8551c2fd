"""Program, tiers and money."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from api import ids
from api.context import Info
from api.types.leaderboard import LeaderboardSettings, program_leaderboard
from api.types.node import Node
from domain import model

if TYPE_CHECKING:
    from api.types.referrals import ReferralProgram


@strawberry.type(description="An amount of money in integer minor units (cents) and its currency.")
class Money:
    amount_minor: int = strawberry.field(description="Amount in minor units, e.g. 1999 = 19.99.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")


@strawberry.input(description="An amount of money in integer minor units and its currency.")
class MoneyInput:
    amount_minor: int = strawberry.field(
        description="Amount in minor units (cents), e.g. 1999 = 19.99; not negative."
    )
    currency: str = strawberry.field(description="ISO 4217 code; must be the program's currency.")


@strawberry.type(description="How purchases earn: `points` for every `perAmountMinor` spent.")
class EarnRate:
    points: int = strawberry.field(description="Points earned per step of spend.")
    per_amount_minor: int = strawberry.field(description="Step of spend in minor units, e.g. 100.")


@strawberry.input(description="How purchases earn: `points` for every `perAmountMinor` spent.")
class EarnRateInput:
    points: int = strawberry.field(description="Points earned per step (0 to 1,000,000).")
    per_amount_minor: int = strawberry.field(
        description="Step of spend in minor units, greater than 0, e.g. 100."
    )


@strawberry.type(description="What points are worth when paying for an order with them.")
class PointValue:
    points: int = strawberry.field(description="This many points...")
    value_minor: int = strawberry.field(description="...are worth this much money, in minor units.")
    min_points: int = strawberry.field(description="Fewest points one order may use.")
    max_points: int | None = strawberry.field(
        description="Most points one order may use; null when unbounded."
    )


@strawberry.input(description="What points are worth when paying for an order with them.")
class PointValueInput:
    points: int = strawberry.field(
        description="This many points (e.g. 100), greater than 0, are worth `valueMinor`."
    )
    value_minor: int = strawberry.field(
        description=(
            "What `points` points are worth in minor units (e.g. 100 = 1.00), greater than 0."
        )
    )
    min_points: int = strawberry.field(
        default=1, description="Fewest points one order may use, at least 1; left out: 1."
    )
    max_points: int | None = strawberry.field(
        default=None, description="Most points one order may use; null or left out: unbounded."
    )


@strawberry.type(description="How staff may find members and act for them.")
class InStoreRules:
    card_number_lookup: bool = strawberry.field(
        description="Staff may look members up by card number."
    )
    phone_lookup: bool = strawberry.field(description="Staff may look members up by phone.")
    window_minutes: int = strawberry.field(
        description="Minutes a scan or lookup lets the store act for the member."
    )


@strawberry.input(description="How staff may find members and act for them.")
class InStoreRulesInput:
    card_number_lookup: bool = strawberry.field(
        description="True lets staff find members by card number (`lookupMember`)."
    )
    phone_lookup: bool = strawberry.field(
        description="True lets staff find members by phone (`lookupMember`)."
    )
    window_minutes: int = strawberry.field(
        default=10,
        description=(
            "Minutes a scan or lookup lets the store act for the member, 1 to 1440; left out: 10."
        ),
    )


@strawberry.enum(description="Which earned points count towards tiers.")
class QualifyingPeriod(Enum):
    CALENDAR_YEAR = strawberry.enum_value(
        "CALENDAR_YEAR", description="Points earned this calendar year (UTC)."
    )
    ROLLING_12_MONTHS = strawberry.enum_value(
        "ROLLING_12_MONTHS", description="Points earned in the last 12 months."
    )


@strawberry.enum(description="When points expire.")
class ExpiryPolicy(Enum):
    NONE = strawberry.enum_value("NONE", description="Points never expire.")
    AFTER_EARNING = strawberry.enum_value(
        "AFTER_EARNING", description="Each credit `expiryMonths` after it was earned."
    )
    INACTIVITY = strawberry.enum_value(
        "INACTIVITY", description="All points after `expiryMonths` without earning or spending."
    )


@strawberry.type(description="Hold period, expiry and tier qualification of the program.")
class PointsPolicy:
    hold_days: int = strawberry.field(description="Days credits stay pending (returns window).")
    expiry: ExpiryPolicy = strawberry.field(description="When points expire.")
    expiry_months: int = strawberry.field(description="Months used by the expiry policy.")
    expiry_at_month_end: bool = strawberry.field(
        description="Round AFTER_EARNING expiry to the end of the month."
    )
    qualifying_period: QualifyingPeriod = strawberry.field(
        description="Which earned points count towards tiers."
    )


@strawberry.input(description="Hold period, expiry and tier qualification of the program.")
class PointsPolicyInput:
    hold_days: int = strawberry.field(
        default=0,
        description=(
            "Days credits stay pending before they can be spent (returns window), 0"
            " to 365; left out: 0."
        ),
    )
    expiry: ExpiryPolicy = strawberry.field(
        default=ExpiryPolicy.NONE,
        description="When points expire; left out: NONE (points never expire).",
    )
    expiry_months: int = strawberry.field(
        default=12, description="Months used by the expiry policy, 1 to 120; left out: 12."
    )
    expiry_at_month_end: bool = strawberry.field(
        default=False,
        description="True rounds AFTER_EARNING expiry to the end of the month; left out: false.",
    )
    qualifying_period: QualifyingPeriod = strawberry.field(
        default=QualifyingPeriod.CALENDAR_YEAR,
        description="Which earned points count towards tiers; left out: CALENDAR_YEAR.",
    )


@strawberry.type(description="A multiplier for a product category; 0 excludes it.")
class CategoryMultiplier:
    category: str = strawberry.field(description="Category name (case-insensitive).")
    multiplier: float = strawberry.field(description="E.g. 2.0; 0 earns nothing.")


@strawberry.input(description="A multiplier for a product category; 0 excludes it.")
class CategoryMultiplierInput:
    category: str = strawberry.field(
        description="Category name as sent in order lines, e.g. shoes (case-insensitive)."
    )
    multiplier: float = strawberry.field(
        description="Multiplier on the category's points, 0 to 100: 0 excludes it, 2.0 doubles."
    )


@strawberry.type(description="Earning rules beyond the base rate.")
class EarnRules:
    category_multipliers: list[CategoryMultiplier] = strawberry.field(
        description="Per-category multipliers and exclusions."
    )
    bonus_threshold: Money | None = strawberry.field(
        description="Orders from this total earn `bonusPoints` extra."
    )
    bonus_points: int = strawberry.field(description="The spend-threshold bonus.")


@strawberry.input(description="Earning rules beyond the base rate.")
class EarnRulesInput:
    category_multipliers: list[CategoryMultiplierInput] = strawberry.field(
        default_factory=list,
        description="Per-category multipliers and exclusions, at most 100; left out: none.",
    )
    bonus_threshold_minor: int | None = strawberry.field(
        default=None,
        description=(
            "Spend that earns `bonusPoints` extra, in minor units; null or left "
            "out: no spend bonus."
        ),
    )
    bonus_points: int = strawberry.field(
        default=0,
        description=(
            "Points added once an order's earning spend reaches "
            "`bonusThresholdMinor`, not negative; left out: 0."
        ),
    )


@strawberry.type(description="A VIP level. Members move up as they earn qualifying points.")
class Tier(Node):
    name: str = strawberry.field(description="Display name, e.g. Gold.")
    rank: int = strawberry.field(
        description="0 for the entry tier every member starts in, higher is better."
    )
    threshold: int = strawberry.field(
        description="Qualifying points needed within the qualifying period."
    )
    earn_multiplier: float = strawberry.field(
        description="Multiplier on purchase points, e.g. 1.5 earns half again as much."
    )
    benefits: list[str] = strawberry.field(
        description="Perks to show the member, e.g. 'Free shipping'."
    )
    paid_fee_minor: int | None = strawberry.field(
        description="Yearly fee to buy this tier, in minor units; null when not for sale."
    )
    reduced_fee_minor: int | None = strawberry.field(
        description="The reduced yearly fee for members with `reducedFromPoints` points or more."
    )
    reduced_from_points: int | None = strawberry.field(
        description="Points from which the reduced fee applies."
    )

    @classmethod
    def from_domain(cls, tier: model.Tier) -> Tier:
        return cls(
            id=strawberry.ID(ids.encode("Tier", tier.id)),
            name=tier.name,
            rank=tier.rank,
            threshold=tier.threshold,
            earn_multiplier=tier.earn_multiplier,
            benefits=list(tier.benefits),
            paid_fee_minor=tier.paid_fee_minor,
            reduced_fee_minor=tier.reduced_fee_minor,
            reduced_from_points=tier.reduced_from_points,
        )


@strawberry.type(description="A brand's loyalty program; every token is scoped to one.")
class Program(Node):
    slug: str = strawberry.field(description="Short unique name used in tokens, e.g. demo.")
    name: str = strawberry.field(description="Display name of the program.")
    points_name: str = strawberry.field(
        description="What the program calls its points: points, miles, stars, beans."
    )
    currency: str = strawberry.field(description="ISO 4217 currency purchases are recorded in.")
    earn_rate: EarnRate = strawberry.field(description="Base rate at which purchases earn points.")
    point_value: PointValue = strawberry.field(
        description="What points are worth at the till (`redeemPointsForOrder`)."
    )
    in_store: InStoreRules = strawberry.field(description="Rules of the in-store flow.")
    policy: PointsPolicy = strawberry.field(description="Hold, expiry and tier qualification.")
    earn_rules: EarnRules = strawberry.field(description="Category rules and spend bonus.")
    time_zone: str = strawberry.field(
        description="IANA time zone the program's days, weeks, months and birthdays run in."
    )

    @strawberry.field(description="All tiers, lowest rank first.")
    async def tiers(self, info: Info) -> list[Tier]:
        return [Tier.from_domain(t) for t in await info.context.tiers()]

    @strawberry.field(description="How referrals pay (`updateReferralProgram`).")
    async def referral_program(
        self, info: Info
    ) -> Annotated[ReferralProgram, strawberry.lazy("api.types.referrals")]:
        from api.types.referrals import ReferralProgram

        program = await info.context.program()
        async with info.context.reader() as uow:
            settings = await uow.referrals.settings(program.id)
        return ReferralProgram.from_domain(settings, program.currency)

    @strawberry.field(
        description="The monthly leaderboard and its bonus (admins: `updateLeaderboard`)."
    )
    async def leaderboard(self, info: Info) -> LeaderboardSettings:
        return await program_leaderboard(info)

    @classmethod
    def from_domain(cls, program: model.Program) -> Program:
        return cls(
            id=strawberry.ID(ids.encode("Program", program.id)),
            slug=program.slug,
            name=program.name,
            points_name=program.points_name,
            currency=program.currency,
            earn_rate=EarnRate(
                points=program.earn_rate.points,
                per_amount_minor=program.earn_rate.per_amount_minor,
            ),
            point_value=PointValue(
                points=program.point_value.points,
                value_minor=program.point_value.value_minor,
                min_points=program.point_value.min_points,
                max_points=program.point_value.max_points,
            ),
            in_store=InStoreRules(
                card_number_lookup=program.in_store.card_number_lookup,
                phone_lookup=program.in_store.phone_lookup,
                window_minutes=program.in_store.window_minutes,
            ),
            policy=PointsPolicy(
                hold_days=program.policy.hold_days,
                expiry=ExpiryPolicy[program.policy.expiry.value],
                expiry_months=program.policy.expiry_months,
                expiry_at_month_end=program.policy.expiry_month_end,
                qualifying_period=QualifyingPeriod[program.policy.qualifying.value],
            ),
            earn_rules=EarnRules(
                category_multipliers=[
                    CategoryMultiplier(category=name, multiplier=permille / 1000)
                    for name, permille in program.earn_rules.category_multipliers
                ],
                bonus_threshold=Money(
                    amount_minor=program.earn_rules.bonus_threshold_minor,
                    currency=program.currency,
                )
                if program.earn_rules.bonus_threshold_minor is not None
                else None,
                bonus_points=program.earn_rules.bonus_points,
            ),
            time_zone=program.time_zone,
        )
