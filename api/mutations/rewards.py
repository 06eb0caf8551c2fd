"""The catalog and partners; redeeming, using and cancelling vouchers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from api import ids
from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import (
    AdminOnly,
    AdminOrPartner,
    MemberStaffOrAdmin,
)
from api.types.rewards import LimitPeriod, Partner, Redemption, Reward, RewardKind
from api.types.wallet import Wallet
from domain import rewards as domain_rewards
from domain.ports import UnitOfWork
from domain.rewards import LimitPeriod as DomainPeriod
from domain.rewards import RewardKind as DomainKind
from domain.services import catalog, redemptions


def _id(value: strawberry.ID | None, type_name: str, name: str) -> uuid.UUID | None:
    return ids.decode(value, type_name, ("input", name)) if value is not None else None


@strawberry.input(description="A reward for the catalog.")
class CreateRewardInput:
    name: str = strawberry.field(description="Display name in the catalog, at most 120 characters.")
    description: str | None = strawberry.field(
        default=None,
        description=(
            "Catalog text describing the reward, at most 2,000 characters; left out: empty."
        ),
    )
    kind: RewardKind = strawberry.field(
        description=(
            "What the reward gives; decides which of valueMinor, percentOff, sku or"
            " cause is required."
        )
    )
    points_cost: int = strawberry.field(
        description="Points one redemption costs, 1 to 1,000,000,000."
    )
    stock: int | None = strawberry.field(
        default=None,
        description="Units that can be redeemed, 0 to 1,000,000,000; null or left out: unlimited.",
    )
    min_tier_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "Global ID of the lowest tier that may redeem it (`Tier.id`); left out: every member."
        ),
    )
    partner_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "Global ID of the partner of a co-branded reward (`Partner.id`); left "
            "out: the brand's own reward."
        ),
    )
    value_minor: int | None = strawberry.field(
        default=None,
        description="Required for FIXED_DISCOUNT: money off in the program's minor units (> 0).",
    )
    percent_off: int | None = strawberry.field(
        default=None, description="Required for PERCENT_DISCOUNT: percent off, 1 to 100."
    )
    sku: str | None = strawberry.field(
        default=None,
        description=(
            "Required for FREE_PRODUCT: the sku of the free product (at most 80 characters)."
        ),
    )
    cause: str | None = strawberry.field(
        default=None,
        description="Required for DONATION: who receives the points (at most 120 characters).",
    )
    category: str | None = strawberry.field(
        default=None,
        description=(
            "Restrict a discount to lines of one product category (case-"
            "insensitive); left out: the whole order."
        ),
    )
    min_order_minor: int | None = strawberry.field(
        default=None,
        description=(
            "Vouchers apply only to orders of at least this total, in minor units; "
            "left out: any order."
        ),
    )
    image_url: str | None = strawberry.field(
        default=None,
        description=(
            "Picture for the catalog: an https:// address, at most 500 characters; left out: none."
        ),
    )
    available_from: datetime | None = strawberry.field(
        default=None,
        description="When everyone may start redeeming it, with its UTC offset; left out: at once.",
    )
    available_until: datetime | None = strawberry.field(
        default=None,
        description="When redeeming ends (exclusive), after `availableFrom`; left out: never.",
    )
    early_access_tier_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "Global ID of the tier (and above) that may redeem from "
            "`earlyAccessFrom`; give both or neither."
        ),
    )
    early_access_from: datetime | None = strawberry.field(
        default=None,
        description=(
            "When `earlyAccessTierId` members may start redeeming, with its UTC "
            "offset; give both or neither."
        ),
    )
    per_member_limit: int | None = strawberry.field(
        default=None,
        description="How often one member may redeem it in all, at least 1; left out: unlimited.",
    )
    period_limit: int | None = strawberry.field(
        default=None,
        description=(
            "How often one member may redeem it per `limitPeriod`, at least 1; give"
            " both or neither; left out: unlimited."
        ),
    )
    limit_period: LimitPeriod | None = strawberry.field(
        default=None,
        description="The calendar period (UTC) `periodLimit` counts in; give both or neither.",
    )
    voucher_valid_days: int | None = strawberry.field(
        default=None,
        description="Days a voucher stays usable after redeeming, 1 to 3,650; left out: 30.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key and input returns the reward the first request "
        "made (one reward, however often it is sent); the same key with other input is "
        "IDEMPOTENCY_CONFLICT. Left out: every request creates a new one.",
    )

    def fields(self) -> catalog.RewardFields:
        return catalog.RewardFields(
            name=self.name,
            description=self.description,
            points_cost=self.points_cost,
            stock=self.stock,
            value_minor=self.value_minor,
            percent_off=self.percent_off,
            sku=self.sku,
            cause=self.cause,
            category=self.category,
            min_order_minor=self.min_order_minor,
            image_url=self.image_url,
            min_tier_id=_id(self.min_tier_id, "Tier", "minTierId"),
            partner_id=_id(self.partner_id, "Partner", "partnerId"),
            available_from=self.available_from,
            available_until=self.available_until,
            early_access_tier_id=_id(self.early_access_tier_id, "Tier", "earlyAccessTierId"),
            early_access_from=self.early_access_from,
            per_member_limit=self.per_member_limit,
            period_limit=self.period_limit,
            limit_period=DomainPeriod[self.limit_period.name] if self.limit_period else None,
            voucher_valid_days=self.voucher_valid_days,
        )


@strawberry.type(description="Result of `createReward`.")
class CreateRewardPayload:
    reward: Reward | None = strawberry.field(description="The new reward.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="Changes to a reward; fields left out stay as they are.")
class UpdateRewardInput:
    reward_id: strawberry.ID = strawberry.field(
        description="Global ID of the reward to change (`Reward.id`)."
    )
    name: str | None = strawberry.field(
        default=None, description="New display name, at most 120 characters; left out: unchanged."
    )
    description: str | None = strawberry.field(
        default=None,
        description="New catalog text, at most 2,000 characters; left out: unchanged.",
    )
    points_cost: int | None = strawberry.field(
        default=None,
        description="New points cost per redemption, 1 to 1,000,000,000; left out: unchanged.",
    )
    stock: int | None = strawberry.field(
        default=None, description="New remaining stock, 0 to 1,000,000,000; left out: unchanged."
    )
    image_url: str | None = strawberry.field(
        default=None, description="New picture, an https:// address; left out: unchanged."
    )
    category: str | None = strawberry.field(
        default=None,
        description="New product category the discount is restricted to; left out: unchanged.",
    )
    min_order_minor: int | None = strawberry.field(
        default=None,
        description=(
            "New minimum order total for its vouchers, in minor units; left out: unchanged."
        ),
    )
    available_from: datetime | None = strawberry.field(
        default=None,
        description="New start of availability, with its UTC offset; left out: unchanged.",
    )
    available_until: datetime | None = strawberry.field(
        default=None,
        description="New end of availability (exclusive), after the start; left out: unchanged.",
    )
    per_member_limit: int | None = strawberry.field(
        default=None,
        description="New limit of redemptions per member in all, at least 1; left out: unchanged.",
    )


@strawberry.type(description="Result of `updateReward` and `archiveReward`.")
class UpdateRewardPayload:
    reward: Reward | None = strawberry.field(description="The reward after the change.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="Which reward to withdraw from the catalog.")
class ArchiveRewardInput:
    reward_id: strawberry.ID = strawberry.field(
        description="Global ID of the reward to archive (`Reward.id`)."
    )


@strawberry.input(description="A partner brand.")
class CreatePartnerInput:
    slug: str = strawberry.field(
        description=(
            "Short unique name used in the partner's tokens: lowercase letters, "
            "digits and dashes, e.g. acme-coffee."
        )
    )
    name: str = strawberry.field(
        description="Display name of the partner brand, at most 80 characters."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key and input returns the partner the first request "
        "made (one partner, however often it is sent); the same key with other input is "
        "IDEMPOTENCY_CONFLICT. Left out: every request creates a new one.",
    )


@strawberry.type(description="Result of `createPartner`.")
class CreatePartnerPayload:
    partner: Partner | None = strawberry.field(description="The new partner.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A redemption request.")
class RedeemRewardInput:
    reward_id: strawberry.ID = strawberry.field(
        description="Global ID of the reward to redeem (`Reward.id`)."
    )
    idempotency_key: str = strawberry.field(
        description=(
            "A key the app makes up once per redemption (e.g. a UUID); retrying "
            "with the same key redeems once and answers the same."
        )
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Staff redeeming for a member at the counter pass the member; members omit it.",
    )


@strawberry.type(description="Result of `redeemReward` and `cancelRedemption`.")
class RedeemRewardPayload:
    redemption: Redemption | None = strawberry.field(description="The redemption and voucher.")
    wallet: Wallet | None = strawberry.field(description="The member's wallet afterwards.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


@strawberry.input(description="A voucher to cancel before it is used.")
class CancelRedemptionInput:
    redemption_id: strawberry.ID = strawberry.field(
        description=(
            "Global ID of the redemption to cancel (`Redemption.id`); its voucher must be unused."
        )
    )


def _reward_payload(
    info: Info, currency: str, reward: domain_rewards.Reward | None, errors: list[UserError]
) -> UpdateRewardPayload:
    return UpdateRewardPayload(
        reward=Reward.from_domain(reward, currency) if reward else None, errors=errors
    )


@strawberry.type(description="The catalog and redemptions.")
class RewardMutations:
    @strawberry.mutation(description="Admins: add a reward.", permission_classes=[AdminOnly])
    async def create_reward(
        self,
        info: Info,
        input: Annotated[
            CreateRewardInput,
            strawberry.argument(
                description=(
                    "The new reward: name, kind, cost and the optional limits, window and terms."
                )
            ),
        ],
    ) -> CreateRewardPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain_rewards.Reward:
            kind = DomainKind[input.kind.name]
            return await catalog.create_reward(
                uow,
                context.runtime.clock,
                context.caller(),
                kind,
                input.fields(),
                input.idempotency_key,
            )

        reward, errors = await attempt(context, use_case)
        currency = (await context.program()).currency
        return CreateRewardPayload(
            reward=Reward.from_domain(reward, currency) if reward else None, errors=errors
        )

    @strawberry.mutation(
        description="Admins change a reward; partners whose terms allow it change the name, "
        "description and stock of their own rewards.",
        permission_classes=[AdminOrPartner],
    )
    async def update_reward(
        self,
        info: Info,
        input: Annotated[
            UpdateRewardInput,
            strawberry.argument(
                description="The reward and the fields to change; fields left out keep their value."
            ),
        ],
    ) -> UpdateRewardPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain_rewards.Reward:
            fields = catalog.RewardFields(
                name=input.name,
                description=input.description,
                points_cost=input.points_cost,
                stock=input.stock,
                image_url=input.image_url,
                category=input.category,
                min_order_minor=input.min_order_minor,
                available_from=input.available_from,
                available_until=input.available_until,
                per_member_limit=input.per_member_limit,
            )
            reward_id = ids.decode(input.reward_id, "Reward", ("input", "rewardId"))
            return await catalog.update_reward(uow, context.caller(), reward_id, fields)

        reward, errors = await attempt(context, use_case)
        return _reward_payload(info, (await context.program()).currency, reward, errors)

    @strawberry.mutation(
        description="Admins: withdraw a reward from the catalog (issued vouchers stay valid).",
        permission_classes=[AdminOnly],
    )
    async def archive_reward(
        self,
        info: Info,
        input: Annotated[
            ArchiveRewardInput,
            strawberry.argument(
                description="The reward to withdraw from the catalog; issued vouchers stay valid."
            ),
        ],
    ) -> UpdateRewardPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> domain_rewards.Reward:
            reward_id = ids.decode(input.reward_id, "Reward", ("input", "rewardId"))
            return await catalog.archive_reward(uow, context.caller(), reward_id)

        reward, errors = await attempt(context, use_case)
        return _reward_payload(info, (await context.program()).currency, reward, errors)

    @strawberry.mutation(
        description="Admins: register a partner brand.", permission_classes=[AdminOnly]
    )
    async def create_partner(
        self,
        info: Info,
        input: Annotated[
            CreatePartnerInput,
            strawberry.argument(
                description="The partner's slug (used in its tokens) and display name."
            ),
        ],
    ) -> CreatePartnerPayload:
        context = info.context
        partner, errors = await attempt(
            context,
            lambda uow: catalog.create_partner(
                uow,
                context.runtime.clock,
                context.caller(),
                input.slug,
                input.name,
                input.idempotency_key,
            ),
        )
        return CreatePartnerPayload(
            partner=Partner.from_domain(partner) if partner else None, errors=errors
        )

    @strawberry.mutation(
        description="Members for themselves; staff for a member whose card they scanned.",
        permission_classes=[MemberStaffOrAdmin],
    )
    async def redeem_reward(
        self,
        info: Info,
        input: Annotated[
            RedeemRewardInput,
            strawberry.argument(
                description=(
                    "The reward, an idempotency key from the app and, for staff, the member."
                )
            ),
        ],
    ) -> RedeemRewardPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> redemptions.RedeemResult:
            command = redemptions.Redeem(
                reward_id=ids.decode(input.reward_id, "Reward", ("input", "rewardId")),
                idempotency_key=input.idempotency_key,
                member_id=_id(input.member_id, "Member", "memberId"),
            )
            return await redemptions.redeem(uow, context.runtime.clock, context.caller(), command)

        result, errors = await attempt(context, use_case)
        return _redeem_payload(result, errors)

    @strawberry.mutation(
        description="Members (their own), staff and admins: cancel an unused voucher; the "
        "points come back with their original expiry and the stock is returned.",
        permission_classes=[MemberStaffOrAdmin],
    )
    async def cancel_redemption(
        self,
        info: Info,
        input: Annotated[
            CancelRedemptionInput,
            strawberry.argument(description="The redemption whose unused voucher to cancel."),
        ],
    ) -> RedeemRewardPayload:
        context = info.context

        async def use_case(uow: UnitOfWork) -> redemptions.RedeemResult:
            redemption_id = ids.decode(input.redemption_id, "Redemption", ("input", "redemptionId"))
            return await redemptions.cancel_redemption(
                uow, context.runtime.clock, context.caller(), redemption_id
            )

        result, errors = await attempt(context, use_case)
        return _redeem_payload(result, errors)


def _redeem_payload(
    result: redemptions.RedeemResult | None, errors: list[UserError]
) -> RedeemRewardPayload:
    if result is None:
        return RedeemRewardPayload(redemption=None, wallet=None, errors=errors)
    return RedeemRewardPayload(
        redemption=Redemption.from_domain(result.redemption),
        wallet=Wallet.from_domain(result.wallet),
        errors=[],
    )
