"""Program settings and tiers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import AdminOnly, StaffOrAdmin
from api.types.program import (
    EarnRateInput,
    EarnRulesInput,
    InStoreRulesInput,
    MoneyInput,
    PointsPolicyInput,
    PointValueInput,
    Program,
    Tier,
)
from domain import model
from domain.model import InStoreRules as DomainInStoreRules
from domain.model import PointValue as DomainPointValue
from domain.ports import UnitOfWork
from domain.services import programs, vip


@strawberry.input(description="Program settings to change; omitted fields stay as they are.")
class UpdateProgramInput:
    name: str | None = strawberry.field(
        default=None, description="New display name of the program; left out: unchanged."
    )
    points_name: str | None = strawberry.field(
        default=None,
        description="What the program calls its points, e.g. stars; left out: unchanged.",
    )
    earn_rate: EarnRateInput | None = strawberry.field(
        default=None, description="New base rate at which purchases earn; left out: unchanged."
    )
    point_value: PointValueInput | None = strawberry.field(
        default=None,
        description="What points are worth when paying for orders with them; left out: unchanged.",
    )
    in_store: InStoreRulesInput | None = strawberry.field(
        default=None,
        description="Lookups staff may use, and how long a scan lasts; left out: unchanged.",
    )
    policy: PointsPolicyInput | None = strawberry.field(
        default=None,
        description=(
            "Hold period, expiry and tier qualification, replaced as a whole; left out: unchanged."
        ),
    )
    earn_rules: EarnRulesInput | None = strawberry.field(
        default=None,
        description=(
            "Category multipliers and the spend bonus, replaced as a whole; left out: unchanged."
        ),
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description=(
            "IANA time zone the program's calendar runs in (e.g. Europe/Berlin): days, weeks and "
            "months of limits, birthdays, calendar years and jobs; left out: unchanged."
        ),
    )


def _policy(policy: PointsPolicyInput) -> model.PointsPolicy:
    return model.PointsPolicy(
        hold_days=policy.hold_days,
        expiry=model.ExpiryPolicy[policy.expiry.name],
        expiry_months=policy.expiry_months,
        expiry_month_end=policy.expiry_at_month_end,
        qualifying=model.QualifyingPeriod[policy.qualifying_period.name],
    )


def _permille(value: float) -> int:
    """A multiplier in thousandths; out-of-range values (even 1e308) become -1 for the
    domain to refuse with a proper INVALID_INPUT."""
    return round(value * 1000) if 0 <= value <= 100 else -1


def _earn_rules(rules: EarnRulesInput) -> model.EarnRules:
    multipliers = tuple(
        (item.category, _permille(item.multiplier)) for item in rules.category_multipliers
    )
    return model.EarnRules(multipliers, rules.bonus_threshold_minor, rules.bonus_points)


@strawberry.type(description="Result of `updateProgram`.")
class UpdateProgramPayload:
    program: Program | None = strawberry.field(description="The program after the change.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A new tier above the existing ones.")
class CreateTierInput:
    name: str = strawberry.field(description="Display name, e.g. Gold (at most 80 characters).")
    threshold: int = strawberry.field(
        description="Qualifying points needed; above every existing tier's threshold."
    )
    earn_multiplier: float | None = strawberry.field(
        default=None, description="Multiplier on purchase points (default 1.0, at most 100)."
    )
    benefits: list[str] | None = strawberry.field(
        default=None,
        description="Perks shown to members, e.g. 'Free shipping' (at most 20); left out: none.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key and input returns the tier the first request "
        "made (one tier, however often it is sent); the same key with other input is "
        "IDEMPOTENCY_CONFLICT. Left out: every request creates a new one.",
    )


@strawberry.type(description="Result of `createTier`.")
class CreateTierPayload:
    tier: Tier | None = strawberry.field(description="The new tier.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Configuring the program.")
class ProgramMutations:
    @strawberry.mutation(
        description="Admins: change the program's name, points name or earn rate.",
        permission_classes=[AdminOnly],
    )
    async def update_program(
        self,
        info: Info,
        input: Annotated[
            UpdateProgramInput,
            strawberry.argument(
                description="The settings to change; fields left out keep their value."
            ),
        ],
    ) -> UpdateProgramPayload:
        context = info.context
        rate = input.earn_rate
        changes = programs.ProgramChanges(
            name=input.name,
            points_name=input.points_name,
            earn_rate=(rate.points, rate.per_amount_minor) if rate else None,
            point_value=(
                DomainPointValue(
                    points=value.points,
                    value_minor=value.value_minor,
                    min_points=value.min_points,
                    max_points=value.max_points,
                )
                if (value := input.point_value)
                else None
            ),
            in_store=(
                DomainInStoreRules(
                    card_number_lookup=rules.card_number_lookup,
                    phone_lookup=rules.phone_lookup,
                    window_minutes=rules.window_minutes,
                )
                if (rules := input.in_store)
                else None
            ),
            policy=_policy(input.policy) if input.policy else None,
            earn_rules=_earn_rules(input.earn_rules) if input.earn_rules else None,
            time_zone=input.time_zone,
        )
        program, errors = await attempt(
            context, lambda uow: programs.update_program(uow, context.caller(), changes)
        )
        context.forget_program()
        return UpdateProgramPayload(
            program=Program.from_domain(program) if program else None, errors=errors
        )

    @strawberry.mutation(
        description="Admins: add a tier above the existing ones.", permission_classes=[AdminOnly]
    )
    async def create_tier(
        self,
        info: Info,
        input: Annotated[
            CreateTierInput,
            strawberry.argument(
                description=(
                    "The new tier's name, threshold (above every existing tier's) and perks."
                )
            ),
        ],
    ) -> CreateTierPayload:
        context = info.context
        command = programs.NewTier(
            name=input.name,
            threshold=input.threshold,
            earn_multiplier=input.earn_multiplier,
            benefits=tuple(input.benefits or ()),
            idempotency_key=input.idempotency_key,
        )
        tier, errors = await attempt(
            context,
            lambda uow: programs.create_tier(uow, context.runtime.clock, context.caller(), command),
        )
        context.forget_program()
        return CreateTierPayload(tier=Tier.from_domain(tier) if tier else None, errors=errors)


@strawberry.input(description="Changes to a tier; fields left out stay as they are.")
class UpdateTierInput:
    tier_id: strawberry.ID = strawberry.field(
        description="Global ID of the tier to change (`Tier.id`)."
    )
    name: str | None = strawberry.field(
        default=None, description="New display name, e.g. Gold; left out: unchanged."
    )
    threshold: int | None = strawberry.field(
        default=None,
        description=(
            "New qualifying points needed, between the thresholds of the tiers "
            "below and above; left out: unchanged."
        ),
    )
    earn_multiplier: float | None = strawberry.field(
        default=None,
        description=(
            "New multiplier on purchase points, above 0 and at most 100; left out: unchanged."
        ),
    )
    benefits: list[str] | None = strawberry.field(
        default=None,
        description=(
            "New perks shown to members, at most 20, replacing the old ones; left out: unchanged."
        ),
    )
    paid_fee_minor: int | None = strawberry.field(
        default=None,
        description=(
            "Make the tier buyable for a year at this fee, in minor units; left out: unchanged."
        ),
    )
    reduced_fee_minor: int | None = strawberry.field(
        default=None,
        description=(
            "A reduced yearly fee, in minor units, for members with "
            "`reducedFromPoints` points or more; left out: unchanged."
        ),
    )
    reduced_from_points: int | None = strawberry.field(
        default=None,
        description="Balance from which `reducedFeeMinor` applies; left out: unchanged.",
    )
    not_for_sale: bool = strawberry.field(
        default=False,
        description=(
            "True stops selling the tier (paid years already bought stay); left out: false."
        ),
    )


@strawberry.type(description="Result of `updateTier`.")
class UpdateTierPayload:
    tier: Tier | None = strawberry.field(description="The tier after the change.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A paid year of a VIP tier, recorded after the member paid.")
class RecordPaidTierInput:
    member_id: strawberry.ID = strawberry.field(
        description="Global ID of the member who bought the year (`Member.id`)."
    )
    tier_id: strawberry.ID = strawberry.field(
        description="Global ID of the tier bought (`Tier.id`); it must be for sale."
    )
    amount: MoneyInput = strawberry.field(
        description=(
            "What was paid: the member's fee now (`Member.paidTierOffers`), in the "
            "program's currency."
        )
    )
    idempotency_key: str = strawberry.field(
        description=(
            "A key the caller makes up once per payment (e.g. a UUID); retrying "
            "with the same key records once."
        )
    )


@strawberry.type(description="Result of `recordPaidTier`.")
class RecordPaidTierPayload:
    tier: Tier | None = strawberry.field(description="The tier bought.")
    paid_until: datetime | None = strawberry.field(description="End of the paid year.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A tier to retire.")
class RetireTierInput:
    tier_id: strawberry.ID = strawberry.field(
        description="Global ID of the tier to retire (`Tier.id`); any tier but the entry tier."
    )


@strawberry.type(description="Result of `retireTier`.")
class RetireTierPayload:
    tiers: list[Tier] | None = strawberry.field(description="The tiers that remain.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Tiers: changing them, selling paid years.")
class TierMutations:
    @strawberry.mutation(
        description="Admins: retire a tier; its members, rewards and campaigns move to the "
        "tier below.",
        permission_classes=[AdminOnly],
    )
    async def retire_tier(
        self,
        info: Info,
        input: Annotated[
            RetireTierInput,
            strawberry.argument(
                description=(
                    "The tier to retire (not the entry tier); its members move to the tier below."
                )
            ),
        ],
    ) -> RetireTierPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> list[model.Tier]:
            tier_id = ids.decode(input.tier_id, "Tier", ("input", "tierId"))
            return await programs.retire_tier(uow, context.caller(), tier_id)

        remaining, errors = await attempt(context, use_case)
        context.forget_program()
        return RetireTierPayload(
            tiers=[Tier.from_domain(t) for t in remaining] if remaining else None, errors=errors
        )

    @strawberry.mutation(description="Admins: change a tier.", permission_classes=[AdminOnly])
    async def update_tier(
        self,
        info: Info,
        input: Annotated[
            UpdateTierInput,
            strawberry.argument(
                description="The tier and the fields to change; fields left out keep their value."
            ),
        ],
    ) -> UpdateTierPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> model.Tier:
            changes = programs.TierChanges(
                name=input.name,
                threshold=input.threshold,
                earn_multiplier=input.earn_multiplier,
                benefits=tuple(input.benefits) if input.benefits is not None else None,
                paid_fee_minor=input.paid_fee_minor,
                reduced_fee_minor=input.reduced_fee_minor,
                reduced_from_points=input.reduced_from_points,
                not_for_sale=input.not_for_sale,
            )
            tier_id = ids.decode(input.tier_id, "Tier", ("input", "tierId"))
            return await programs.update_tier(uow, context.caller(), tier_id, changes)

        tier, errors = await attempt(context, use_case)
        context.forget_program()
        return UpdateTierPayload(tier=Tier.from_domain(tier) if tier else None, errors=errors)

    @strawberry.mutation(
        description="Staff and admins: record a paid year of a VIP tier after payment.",
        permission_classes=[StaffOrAdmin],
    )
    async def record_paid_tier(
        self,
        info: Info,
        input: Annotated[
            RecordPaidTierInput,
            strawberry.argument(
                description="The member, the tier bought, the fee paid and an idempotency key."
            ),
        ],
    ) -> RecordPaidTierPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> vip.PaidTierResult:
            command = vip.PaidTierPurchase(
                member_id=ids.decode(input.member_id, "Member", ("input", "memberId")),
                tier_id=ids.decode(input.tier_id, "Tier", ("input", "tierId")),
                amount_minor=input.amount.amount_minor,
                currency=input.amount.currency,
                idempotency_key=input.idempotency_key,
            )
            return await vip.record_paid_tier(uow, context.runtime.clock, context.caller(), command)

        result, errors = await attempt(context, use_case)
        if result is None:
            return RecordPaidTierPayload(tier=None, paid_until=None, errors=errors)
        return RecordPaidTierPayload(
            tier=Tier.from_domain(result.tier), paid_until=result.paid_until, errors=[]
        )
