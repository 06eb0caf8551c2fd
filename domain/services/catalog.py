"""The reward catalog: admins manage rewards and partners; callers browse what they may see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.access import require_role
from domain.contact import clean_text, validate_slug
from domain.errors import AccessDenied, InvalidInput, NotFound
from domain.model import Principal, Program, Role, Tier, new_id
from domain.money import MAX_AMOUNT_MINOR
from domain.ports import Clock, UnitOfWork
from domain.rewards import (
    LimitPeriod,
    Partner,
    Redeemer,
    RedemptionCounts,
    Reward,
    RewardKind,
    Unavailable,
    period_start,
    unavailable_reason,
)
from domain.services.usecase import claim_optional, complete_optional, program_of
from domain.tiers import current_tier
from domain.times import utc_time

MAX_COST = 1_000_000_000
MAX_STOCK = 1_000_000_000
MAX_VALIDITY_DAYS = 3650
MAX_ORDER_MINOR = MAX_AMOUNT_MINOR


@dataclass(frozen=True)
class RewardFields:
    """Everything an admin sets on a reward; on update, None leaves a field unchanged."""

    name: str | None = None
    description: str | None = None
    points_cost: int | None = None
    stock: int | None = None
    value_minor: int | None = None
    percent_off: int | None = None
    sku: str | None = None
    cause: str | None = None
    category: str | None = None
    min_order_minor: int | None = None
    image_url: str | None = None
    min_tier_id: uuid.UUID | None = None
    partner_id: uuid.UUID | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    early_access_tier_id: uuid.UUID | None = None
    early_access_from: datetime | None = None
    per_member_limit: int | None = None
    period_limit: int | None = None
    limit_period: LimitPeriod | None = None
    voucher_valid_days: int | None = None


def _field(name: str) -> tuple[str, str]:
    return ("input", name)


async def _validated(uow: UnitOfWork, program: Program, reward: Reward) -> Reward:
    """Check a reward as it would be stored; raise INVALID_INPUT / NOT_FOUND with the field."""
    reward.name = clean_text(reward.name, _field("name"), max_length=120, required=True) or ""
    reward.description = (
        clean_text(reward.description, _field("description"), max_length=2000) or ""
    )
    if not 0 < reward.points_cost <= MAX_COST:
        raise InvalidInput(f"pointsCost must be 1 to {MAX_COST}.", _field("pointsCost"))
    if reward.stock is not None and not 0 <= reward.stock <= MAX_STOCK:
        raise InvalidInput(f"stock must be 0 to {MAX_STOCK}, or null.", _field("stock"))
    kind = reward.kind
    if kind is RewardKind.FIXED_DISCOUNT and not (reward.value_minor or 0) > 0:
        raise InvalidInput("A fixed discount needs a positive valueMinor.", _field("valueMinor"))
    if kind is RewardKind.PERCENT_DISCOUNT and not 1 <= (reward.percent_off or 0) <= 100:
        raise InvalidInput("A percent discount needs percentOff 1 to 100.", _field("percentOff"))
    reward.sku = clean_text(reward.sku, _field("sku"), max_length=80)
    if kind is RewardKind.FREE_PRODUCT and not reward.sku:
        raise InvalidInput("A free product needs its sku.", _field("sku"))
    reward.cause = clean_text(reward.cause, _field("cause"), max_length=120)
    if kind is RewardKind.DONATION and not reward.cause:
        raise InvalidInput("A donation needs the cause it goes to.", _field("cause"))
    reward.category = clean_text(reward.category, _field("category"), max_length=80)
    if reward.min_order_minor is not None and not 0 < reward.min_order_minor <= MAX_ORDER_MINOR:
        raise InvalidInput(
            f"minOrderMinor must be 1 to {MAX_ORDER_MINOR}, or null.", _field("minOrderMinor")
        )
    reward.image_url = clean_text(reward.image_url, _field("imageUrl"), max_length=500)
    if reward.image_url and not reward.image_url.startswith("https://"):
        raise InvalidInput("imageUrl must be an https:// address.", _field("imageUrl"))
    tiers = {t.id for t in await uow.tiers.all(program.id)}
    for tier_id, name in (
        (reward.min_tier_id, "minTierId"),
        (reward.early_access_tier_id, "earlyAccessTierId"),
    ):
        if tier_id is not None and tier_id not in tiers:
            raise NotFound("No such tier in this program.", _field(name))
    if reward.partner_id is not None and not await uow.rewards.partners(
        program.id, [reward.partner_id]
    ):
        raise NotFound("No such partner in this program.", _field("partnerId"))
    if reward.available_from is not None:
        reward.available_from = utc_time(reward.available_from, _field("availableFrom"))
    if reward.available_until is not None:
        reward.available_until = utc_time(reward.available_until, _field("availableUntil"))
    if reward.early_access_from is not None:
        reward.early_access_from = utc_time(reward.early_access_from, _field("earlyAccessFrom"))
    if (
        reward.available_from
        and reward.available_until
        and reward.available_from >= reward.available_until
    ):
        raise InvalidInput("availableUntil must be after availableFrom.", _field("availableUntil"))
    if (reward.early_access_tier_id is None) != (reward.early_access_from is None):
        raise InvalidInput("Early access needs both a tier and a start.", _field("earlyAccessFrom"))
    if reward.per_member_limit is not None and reward.per_member_limit < 1:
        raise InvalidInput("perMemberLimit must be at least 1.", _field("perMemberLimit"))
    if (reward.period_limit is None) != (reward.limit_period is None):
        raise InvalidInput("periodLimit and limitPeriod go together.", _field("periodLimit"))
    if reward.period_limit is not None and reward.period_limit < 1:
        raise InvalidInput("periodLimit must be at least 1.", _field("periodLimit"))
    days = reward.voucher_valid_days
    if days is not None and not 1 <= days <= MAX_VALIDITY_DAYS:
        raise InvalidInput(
            f"voucherValidDays must be 1 to {MAX_VALIDITY_DAYS}.", _field("voucherValidDays")
        )
    return reward


async def create_reward(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    kind: RewardKind,
    fields: RewardFields,
    idempotency_key: str | None = None,
) -> Reward:
    """Admins add a reward to the catalog. With an idempotency key, a retry returns the
    reward the first request made (one reward, however often it is sent)."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    values = {k: v for k, v in vars(fields).items() if v is not None}
    key, previous = await claim_optional(
        uow, program, "create-reward", idempotency_key, {"kind": kind, **values}, clock.now()
    )
    if previous is not None:
        return await _reward_of(uow, program, uuid.UUID(previous["reward"]))
    values.setdefault("voucher_valid_days", 30)
    reward = Reward(
        id=new_id(),
        program_id=program.id,
        kind=kind,
        created_at=clock.now(),
        **{"name": "", "description": "", "points_cost": 0, **values},
    )
    reward = await _validated(uow, program, reward)
    await uow.rewards.add(reward)
    await complete_optional(uow, program, "create-reward", key, {"reward": str(reward.id)})
    await uow.commit()
    return reward


async def _reward_of(uow: UnitOfWork, program: Program, reward_id: uuid.UUID) -> Reward:
    reward = await uow.rewards.get(program.id, reward_id)
    if reward is None:
        raise NotFound("No such reward.", _field("rewardId"))
    return reward


async def update_reward(
    uow: UnitOfWork, principal: Principal, reward_id: uuid.UUID, fields: RewardFields
) -> Reward:
    """Admins change a reward; fields left out stay as they are. Partners whose terms allow
    it edit the offer text and stock of their own rewards, nothing else."""
    require_role(principal, Role.ADMIN, Role.PARTNER)
    program = await program_of(uow, principal)
    reward = await _reward_of(uow, program, reward_id)
    changes = {k: v for k, v in vars(fields).items() if v is not None}
    if principal.role is Role.PARTNER:
        partner = await uow.rewards.partner_by_slug(program.id, principal.partner or "")
        if partner is None or reward.partner_id != partner.id:
            raise NotFound("No such reward.", _field("rewardId"))
        if not (await uow.partners.terms(program.id, partner.id)).may_edit_rewards:
            raise AccessDenied("This partner may not edit its rewards.")
        if set(changes) - {"name", "description", "stock"}:
            raise AccessDenied("Partners may change only name, description and stock.")
    updated = await _validated(uow, program, replace(reward, **changes))
    await uow.rewards.update(updated)
    await uow.commit()
    return updated


async def archive_reward(uow: UnitOfWork, principal: Principal, reward_id: uuid.UUID) -> Reward:
    """Admins withdraw a reward: it leaves the catalog; issued vouchers stay valid."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    reward = replace(await _reward_of(uow, program, reward_id), archived=True)
    await uow.rewards.update(reward)
    await uow.commit()
    return reward


async def create_partner(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    slug: str,
    name: str,
    idempotency_key: str | None = None,
) -> Partner:
    """Admins register a partner brand; its tokens carry `partner` = slug. With an
    idempotency key, a retry returns the partner the first request made."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    key, previous = await claim_optional(
        uow, program, "create-partner", idempotency_key, {"slug": slug, "name": name}, clock.now()
    )
    if previous is not None:
        found = await uow.rewards.partners(program.id, [uuid.UUID(previous["partner"])])
        return found[0]
    partner = Partner(
        id=new_id(),
        program_id=program.id,
        slug=validate_slug(slug, _field("slug")),
        name=clean_text(name, _field("name"), max_length=80, required=True) or "",
        created_at=clock.now(),
    )
    if not await uow.rewards.add_partner(partner):
        raise InvalidInput(f"A partner with the slug {slug!r} exists already.", _field("slug"))
    await complete_optional(uow, program, "create-partner", key, {"partner": str(partner.id)})
    await uow.commit()
    return partner


@dataclass(frozen=True)
class CatalogEntry:
    reward: Reward
    unavailable: Unavailable | None  # None: the caller could redeem it now
    affordable: bool | None  # None when the caller is not a member

    @property
    def available(self) -> bool:
        return self.unavailable is None


@dataclass(frozen=True)
class CatalogScope:
    """Which rewards a caller sees: the filter of their catalog, to page or count it."""

    program_id: uuid.UUID
    partner_id: uuid.UUID | None
    include_archived: bool
    open_after: datetime | None


@dataclass
class CatalogPage:
    entries: list[CatalogEntry] = field(default_factory=list)
    has_next: bool = False
    scope: CatalogScope | None = None  # None: the caller sees no rewards at all


async def browse(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    *,
    limit: int,
    after: tuple[int, uuid.UUID] | None,
) -> CatalogPage:
    """The rewards the caller may see, cheapest first: members the live catalog with what
    they can redeem and afford; partners only their own; staff the catalog; admins all."""
    found = await uow.programs.get_with_tiers(principal.program_slug)
    if found is None:
        raise NotFound("No such program.")
    program, tiers = found
    now = clock.now()
    partner_id = None
    if principal.role is Role.PARTNER:
        partner = await uow.rewards.partner_by_slug(program.id, principal.partner or "")
        if partner is None:
            return CatalogPage()
        partner_id = partner.id
    scope = CatalogScope(
        program_id=program.id,
        partner_id=partner_id,
        include_archived=principal.role in (Role.ADMIN, Role.PARTNER),
        open_after=now if principal.role is Role.MEMBER else None,
    )
    rewards = await uow.rewards.catalog(
        scope.program_id,
        limit=limit + 1,
        after=after,
        partner_id=scope.partner_id,
        include_archived=scope.include_archived,
        open_after=scope.open_after,
    )
    page, has_next = rewards[:limit], len(rewards) > limit
    if principal.role is not Role.MEMBER:
        entries = [CatalogEntry(r, unavailable_reason(r, now), None) for r in page]
        return CatalogPage(entries, has_next, scope)
    member_view = await member_context(uow, program.id, tiers, principal, page, now)
    entries = [
        CatalogEntry(
            reward,
            member_view.unavailable(reward),
            member_view.balance >= reward.points_cost if member_view.enrolled else False,
        )
        for reward in page
    ]
    return CatalogPage(entries, has_next, scope)


async def count_catalog(uow: UnitOfWork, scope: CatalogScope | None) -> int:
    """How many rewards a catalog scope holds in all (one read; none without a scope)."""
    if scope is None:
        return 0
    return await uow.rewards.catalog_count(
        scope.program_id,
        partner_id=scope.partner_id,
        include_archived=scope.include_archived,
        open_after=scope.open_after,
    )


@dataclass
class MemberView:
    """What the catalog needs to know about the browsing member."""

    tiers: list[Tier]
    tier: Tier | None
    counts: dict[uuid.UUID, RedemptionCounts]
    balance: int
    now: datetime
    enrolled: bool

    blocked: bool = False

    def unavailable(self, reward: Reward) -> Unavailable | None:
        """Why this member cannot redeem the reward now (balance aside); None if they can."""
        if not self.enrolled:
            return Unavailable.MEMBER_BLOCKED if self.blocked else Unavailable.NOT_ENROLLED
        counts = self.counts.get(reward.id, RedemptionCounts())
        return unavailable_reason(reward, self.now, Redeemer(self.tiers, self.tier, counts))

    def available(self, reward: Reward) -> bool:
        return self.unavailable(reward) is None


async def member_context(
    uow: UnitOfWork,
    program_id: uuid.UUID,
    tiers: list[Tier],
    principal: Principal,
    rewards: list[Reward],
    now: datetime,
) -> MemberView:
    """The member's tier, balance and redemption counts for `rewards` (three reads at most)."""
    found = await uow.members.get_with_wallet_by_subject(program_id, principal.subject)
    if found is None:
        return MemberView(tiers, None, {}, 0, now, enrolled=False)
    member, wallet = found
    tier = current_tier(tiers, member)
    starts = {r.id: period_start(r.limit_period, now) for r in rewards}
    counts = await uow.rewards.counts(program_id, member.id, [r.id for r in rewards], starts)
    return MemberView(
        tiers,
        tier,
        counts,
        wallet.balance,
        now,
        enrolled=not member.blocked,
        blocked=member.blocked,
    )


async def affordable_for(
    uow: UnitOfWork, program_id: uuid.UUID, member_subject: str, now: datetime, limit: int = 20
) -> list[Reward]:
    """Rewards the member could redeem right now with their balance (cheapest first)."""
    found = await uow.programs.get_with_tiers_by_id(program_id)
    if found is None:
        return []
    _, tiers = found
    rewards = await uow.rewards.catalog(
        program_id, limit=100, after=None, partner_id=None, include_archived=False, open_after=now
    )
    principal = Principal(role=Role.MEMBER, program_slug="", subject=member_subject)
    view = await member_context(uow, program_id, tiers, principal, rewards, now)
    fitting = [r for r in rewards if view.available(r) and r.points_cost <= view.balance]
    return fitting[:limit]
