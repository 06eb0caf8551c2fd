"""Rewards, partners and redemptions as the API shows them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api import ids
from api.context import Info
from api.pagination import Connection, Counter
from api.qr import qr_svg
from api.types.node import Node
from api.types.program import Money, Tier
from domain import access, vouchers
from domain import rewards as domain


@strawberry.enum(description="What a reward gives the member.")
class RewardKind(Enum):
    FIXED_DISCOUNT = strawberry.enum_value(
        "FIXED_DISCOUNT", description="Money off an order; see `value`."
    )
    PERCENT_DISCOUNT = strawberry.enum_value(
        "PERCENT_DISCOUNT", description="A percentage off; see `percentOff`."
    )
    FREE_SHIPPING = strawberry.enum_value("FREE_SHIPPING", description="Shipping at no cost.")
    FREE_PRODUCT = strawberry.enum_value("FREE_PRODUCT", description="A product free; see `sku`.")
    DONATION = strawberry.enum_value(
        "DONATION", description="Points donated to a cause; issues no voucher."
    )
    EXPERIENCE = strawberry.enum_value("EXPERIENCE", description="An event or experience.")


@strawberry.enum(description="Where a redemption's voucher stands.")
class RedemptionStatus(Enum):
    ISSUED = strawberry.enum_value("ISSUED", description="Voucher issued, not used yet.")
    USED = strawberry.enum_value("USED", description="Voucher used (donations are used at once).")
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Cancelled before use; the points were returned."
    )
    EXPIRED = strawberry.enum_value("EXPIRED", description="Not used before it expired.")


@strawberry.enum(description="The period a per-period redemption limit counts in (UTC).")
class LimitPeriod(Enum):
    DAY = strawberry.enum_value("DAY", description="A calendar day.")
    WEEK = strawberry.enum_value("WEEK", description="A week starting on Monday.")
    MONTH = strawberry.enum_value("MONTH", description="A calendar month.")


@strawberry.enum(
    description="Why the caller cannot redeem a reward now, balance aside: the first rule "
    "that fails, in the order `redeemReward` checks them."
)
class UnavailableReason(Enum):
    NOT_ENROLLED = strawberry.enum_value(
        "NOT_ENROLLED",
        description="The calling member has not enrolled yet; `enroll` first.",
    )
    MEMBER_BLOCKED = strawberry.enum_value(
        "MEMBER_BLOCKED", description="The calling member is blocked and cannot redeem."
    )
    ARCHIVED = strawberry.enum_value(
        "ARCHIVED", description="An admin withdrew the reward from the catalog."
    )
    EARLY_ACCESS_ONLY = strawberry.enum_value(
        "EARLY_ACCESS_ONLY",
        description="Open only to `earlyAccessTier` and above until `availableFrom`.",
    )
    NOT_YET_AVAILABLE = strawberry.enum_value(
        "NOT_YET_AVAILABLE",
        description="Its window opens later: at `availableFrom` (or `earlyAccessFrom` for "
        "early-access tiers).",
    )
    ENDED = strawberry.enum_value("ENDED", description="Its window closed at `availableUntil`.")
    TIER_REQUIRED = strawberry.enum_value(
        "TIER_REQUIRED", description="The member's tier is below `minTier`."
    )
    OUT_OF_STOCK = strawberry.enum_value(
        "OUT_OF_STOCK", description="No stock is left (`remainingStock` is 0)."
    )
    MEMBER_LIMIT_REACHED = strawberry.enum_value(
        "MEMBER_LIMIT_REACHED",
        description="The member has redeemed it `perMemberLimit` times already.",
    )
    PERIOD_LIMIT_REACHED = strawberry.enum_value(
        "PERIOD_LIMIT_REACHED",
        description="The member has redeemed it `periodLimit` times this `limitPeriod`; "
        "it opens again in the next period.",
    )


@strawberry.type(description="Another brand in a co-branded deal with the program.")
class Partner(Node):
    slug: str = strawberry.field(description="Short unique name, used in partner tokens.")
    name: str = strawberry.field(description="Display name of the partner brand.")

    @classmethod
    def from_domain(cls, partner: domain.Partner) -> Partner:
        return cls(
            id=strawberry.ID(ids.encode("Partner", partner.id)),
            slug=partner.slug,
            name=partner.name,
        )


@strawberry.type(description="Something members can spend points on.")
class Reward(Node):
    name: str = strawberry.field(description="Display name in the catalog.")
    description: str = strawberry.field(description="What the member gets, for the catalog.")
    kind: RewardKind = strawberry.field(description="What kind of reward this is.")
    points_cost: int = strawberry.field(description="Points one redemption costs.")
    remaining_stock: int | None = strawberry.field(
        description="Units left to redeem; null when unlimited."
    )
    value: Money | None = strawberry.field(description="Money off, for FIXED_DISCOUNT rewards.")
    percent_off: int | None = strawberry.field(description="1..100, for PERCENT_DISCOUNT rewards.")
    sku: str | None = strawberry.field(description="The free product, for FREE_PRODUCT rewards.")
    cause: str | None = strawberry.field(description="Who receives a DONATION.")
    category: str | None = strawberry.field(
        description="Product category a discount is restricted to; null for the whole order."
    )
    minimum_order: Money | None = strawberry.field(
        description="Its vouchers apply only to orders of at least this total; null: any."
    )
    image_url: str | None = strawberry.field(description="Picture for the catalog (https).")
    available_from: datetime | None = strawberry.field(
        description="Start of availability for everyone; null when always."
    )
    available_until: datetime | None = strawberry.field(
        description="End of availability; null when open-ended."
    )
    early_access_from: datetime | None = strawberry.field(
        description="When members of `earlyAccessTier` and above may redeem it already."
    )
    per_member_limit: int | None = strawberry.field(
        description="How often one member may redeem it in all; null when unlimited."
    )
    period_limit: int | None = strawberry.field(
        description="How often one member may redeem it per `limitPeriod`; null when unlimited."
    )
    limit_period: LimitPeriod | None = strawberry.field(description="Period of `periodLimit`.")
    voucher_valid_days: int | None = strawberry.field(
        description="Days a voucher stays usable; null when it never expires."
    )
    archived: bool = strawberry.field(description="Withdrawn from the catalog by an admin.")
    reward: strawberry.Private[domain.Reward]
    precomputed: strawberry.Private[tuple[domain.Unavailable | None, bool | None] | None]

    @classmethod
    def from_domain(
        cls,
        reward: domain.Reward,
        currency: str,
        precomputed: tuple[domain.Unavailable | None, bool | None] | None = None,
    ) -> Reward:
        value = (
            Money(amount_minor=reward.value_minor, currency=currency)
            if reward.value_minor is not None
            else None
        )
        return cls(
            id=strawberry.ID(ids.encode("Reward", reward.id)),
            name=reward.name,
            description=reward.description,
            kind=RewardKind[reward.kind.value],
            points_cost=reward.points_cost,
            remaining_stock=reward.stock,
            value=value,
            percent_off=reward.percent_off,
            sku=reward.sku,
            cause=reward.cause,
            category=reward.category,
            minimum_order=Money(amount_minor=reward.min_order_minor, currency=currency)
            if reward.min_order_minor is not None
            else None,
            image_url=reward.image_url,
            available_from=reward.available_from,
            available_until=reward.available_until,
            early_access_from=reward.early_access_from,
            per_member_limit=reward.per_member_limit,
            period_limit=reward.period_limit,
            limit_period=LimitPeriod[reward.limit_period.value] if reward.limit_period else None,
            voucher_valid_days=reward.voucher_valid_days,
            archived=reward.archived,
            reward=reward,
            precomputed=precomputed,
        )

    async def _availability(self, info: Info) -> tuple[domain.Unavailable | None, bool | None]:
        if self.precomputed is not None:
            return self.precomputed
        return await (await info.context.loaders()).availability.load(self.reward.id)

    @strawberry.field(
        description="Whether the caller could redeem it now, ignoring their balance: window, "
        "early access, tier, stock and limits."
    )
    async def available(self, info: Info) -> bool:
        return (await self._availability(info))[0] is None

    @strawberry.field(
        description="Why `available` is false: the first rule that fails, e.g. OUT_OF_STOCK "
        "or TIER_REQUIRED; null when `available` is true. For staff, partners and admins "
        "only the reward's own rules count (ARCHIVED, window, OUT_OF_STOCK)."
    )
    async def unavailable_reason(self, info: Info) -> UnavailableReason | None:
        reason = (await self._availability(info))[0]
        return UnavailableReason[reason.value] if reason is not None else None

    @strawberry.field(
        description="Whether the calling member's balance covers it now; null for other roles."
    )
    async def affordable(self, info: Info) -> bool | None:
        return (await self._availability(info))[1]

    @strawberry.field(description="Lowest tier that may redeem it; null for everyone.")
    async def min_tier(self, info: Info) -> Tier | None:
        return await _tier(info, self.reward.min_tier_id)

    @strawberry.field(description="Tier (and above) with early access; null when none.")
    async def early_access_tier(self, info: Info) -> Tier | None:
        return await _tier(info, self.reward.early_access_tier_id)

    @strawberry.field(description="Set for co-branded rewards.")
    async def partner(self, info: Info) -> Partner | None:
        if self.reward.partner_id is None:
            return None
        partner = await (await info.context.loaders()).partners.load(self.reward.partner_id)
        return Partner.from_domain(partner) if partner else None

    @strawberry.field(description="Points donated through this reward so far; null if no DONATION.")
    async def donated_points(self, info: Info) -> int | None:
        if self.reward.kind is not domain.RewardKind.DONATION:
            return None
        return await (await info.context.loaders()).donated_points.load(self.reward.id)


async def _tier(info: Info, tier_id: object) -> Tier | None:
    if tier_id is None:
        return None
    for tier in await info.context.tiers():
        if tier.id == tier_id:
            return Tier.from_domain(tier)
    return None


@strawberry.type(
    description="How a voucher's discount applies to an order; `useVoucher` with the order's "
    "lines and total checks it and answers the money off."
)
class VoucherTerms:
    kind: RewardKind = strawberry.field(description="What the voucher gives.")
    categories: list[str] = strawberry.field(
        description="The discount applies only to order lines in these product categories "
        "(case-insensitive); empty: to the whole order."
    )
    minimum_order: Money | None = strawberry.field(
        description="The order total must be at least this; null: any order."
    )
    free_shipping: bool = strawberry.field(description="The order ships at no cost.")
    value: Money | None = strawberry.field(
        description="FIXED_DISCOUNT: money off (at most the goods it applies to)."
    )
    percent_off: int | None = strawberry.field(
        description="PERCENT_DISCOUNT: percent off the goods it applies to."
    )
    sku: str | None = strawberry.field(
        description="FREE_PRODUCT: the product that is free (one unit); it must be in the order."
    )

    @classmethod
    def from_domain(cls, terms: vouchers.VoucherTerms, currency: str) -> VoucherTerms:
        def money(amount: int | None) -> Money | None:
            return Money(amount_minor=amount, currency=currency) if amount is not None else None

        return cls(
            kind=RewardKind[terms.kind.value],
            categories=list(terms.categories),
            minimum_order=money(terms.min_order_minor),
            free_shipping=terms.free_shipping,
            value=money(terms.value_minor),
            percent_off=terms.percent_off,
            sku=terms.sku,
        )


@strawberry.type(description="A reward a member redeemed, with its voucher.")
class Redemption(Node):
    points_spent: int = strawberry.field(description="Points the redemption cost.")
    created_at: datetime = strawberry.field(description="When it was redeemed.")
    used_at: datetime | None = strawberry.field(description="When the voucher was used.")
    expires_at: datetime | None = strawberry.field(
        description="When an unused voucher expires; null when it does not."
    )
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled.")
    redemption: strawberry.Private[domain.Redemption]

    @classmethod
    def from_domain(cls, redemption: domain.Redemption) -> Redemption:
        return cls(
            id=strawberry.ID(ids.encode("Redemption", redemption.id)),
            points_spent=redemption.points_spent,
            created_at=redemption.created_at,
            used_at=redemption.used_at,
            expires_at=redemption.expires_at,
            cancelled_at=redemption.cancelled_at,
            redemption=redemption,
        )

    @strawberry.field(description="ISSUED, USED, CANCELLED, or EXPIRED once past `expiresAt`.")
    def status(self, info: Info) -> RedemptionStatus:
        now = info.context.runtime.clock.now()
        return RedemptionStatus[self.redemption.status_at(now).value]

    def _code(self, info: Info) -> str | None:
        now = info.context.runtime.clock.now()
        if not access.can_see_voucher_code(info.context.caller(), self.redemption, now):
            return None
        return self.redemption.voucher_code

    @strawberry.field(
        description="Code to show or type at the till, e.g. K7M2-QX9D-4HTP; empty for "
        "donations. Partners get it empty until the voucher is used: they accept a voucher "
        "the member shows, together with the member's card (`useVoucher`)."
    )
    def voucher_code(self, info: Info) -> str:
        return self._code(info) or ""

    @strawberry.field(
        description="The voucher code as a QR code (SVG); null for donations, and for "
        "partners until the voucher is used."
    )
    def voucher_qr_svg(self, info: Info) -> str | None:
        code = self._code(info)
        return qr_svg(code) if code else None

    async def _reward(self, info: Info) -> domain.Reward:
        loaders = await info.context.loaders()
        reward = await loaders.rewards.load(self.redemption.reward_id)
        if reward is None:
            raise RuntimeError(f"redemption {self.redemption.id} has no reward")
        return reward

    @strawberry.field(description="The reward redeemed.")
    async def reward(self, info: Info) -> Reward:
        reward = await self._reward(info)
        return Reward.from_domain(reward, (await info.context.program()).currency)

    @strawberry.field(
        description="How the voucher's discount applies: categories, minimum order, free "
        "shipping (the reward's terms as they stand now)."
    )
    async def terms(self, info: Info) -> VoucherTerms:
        reward = await self._reward(info)
        currency = (await info.context.program()).currency
        return VoucherTerms.from_domain(vouchers.terms_of(reward), currency)


@strawberry.type(
    name="RewardConnection",
    description="A page of rewards, cheapest first; page with `first` and `after`.",
)
class RewardConnection(Connection[Reward]):
    counter: strawberry.Private[Counter]

    @strawberry.field(
        description="How many rewards the caller may see in all pages together (the same "
        "rewards as the list, available or not). Computed only when selected, with one "
        "statement more (a count over the program's catalog index; catalogs are small)."
    )
    async def total_count(self) -> int:
        return await self.counter()


@strawberry.type(
    name="RedemptionConnection",
    description="A page of a member's redemptions, newest first; page with `first` and `after`.",
)
class RedemptionConnection(Connection[Redemption]):
    counter: strawberry.Private[Counter]

    @strawberry.field(
        description="How many redemptions match in all pages together (with the `status` "
        "filter, as stored: EXPIRED vouchers count as ISSUED). Computed only when selected, "
        "with one statement more (a count over the member's redemptions index)."
    )
    async def total_count(self) -> int:
        return await self.counter()
