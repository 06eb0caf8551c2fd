"""Rows and the domain objects they hold: each table's handle and the functions that map a
row to its domain object (`*_from_row`) and an object to its row's columns (`*_values`).

Repositories build statements from these; nothing here runs one.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row

from domain.earning import Campaign
from domain.model import (
    EarnRate,
    EarnRules,
    EntryKind,
    ExpiryPolicy,
    InStoreRules,
    LedgerEntry,
    Lot,
    Member,
    PointsPolicy,
    PointValue,
    Program,
    QualifyingPeriod,
    Tier,
    Wallet,
)
from domain.rewards import (
    LimitPeriod,
    Partner,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardKind,
)
from persistence.tables import (
    IdempotencyKeyRow,
    LedgerEntryRow,
    LotRow,
    MemberRow,
    ProgramRow,
    TierRow,
    WalletRow,
)

programs_t = ProgramRow.__table__  # type: ignore[attr-defined]
tiers_t = TierRow.__table__  # type: ignore[attr-defined]
members_t = MemberRow.__table__  # type: ignore[attr-defined]
wallets_t = WalletRow.__table__  # type: ignore[attr-defined]
entries_t = LedgerEntryRow.__table__  # type: ignore[attr-defined]
lots_t = LotRow.__table__  # type: ignore[attr-defined]
idempotency_t = IdempotencyKeyRow.__table__  # type: ignore[attr-defined]


def program_from_row(row: Row[Any]) -> Program:
    return Program(
        id=row.id,
        slug=row.slug,
        name=row.name,
        points_name=row.points_name,
        currency=row.currency,
        earn_rate=EarnRate(points=row.earn_points, per_amount_minor=row.earn_per_amount_minor),
        created_at=row.created_at,
        point_value=PointValue(
            points=row.point_value_points,
            value_minor=row.point_value_minor,
            min_points=row.pay_min_points,
            max_points=row.pay_max_points,
        ),
        in_store=InStoreRules(
            card_number_lookup=row.allow_card_lookup,
            phone_lookup=row.allow_phone_lookup,
            window_minutes=row.staff_window_minutes,
        ),
        policy=PointsPolicy(
            hold_days=row.hold_days,
            expiry=ExpiryPolicy(row.expiry_policy),
            expiry_months=row.expiry_months,
            expiry_month_end=row.expiry_month_end,
            qualifying=QualifyingPeriod(row.qualifying_period),
        ),
        earn_rules=EarnRules(
            category_multipliers=tuple(sorted((row.category_multipliers or {}).items())),
            bonus_threshold_minor=row.bonus_threshold_minor,
            bonus_points=row.bonus_points,
        ),
        time_zone=row.time_zone,
    )


def program_settings_values(program: Program) -> dict[str, object]:
    value, rules, policy, earn = (
        program.point_value,
        program.in_store,
        program.policy,
        program.earn_rules,
    )
    return {
        "hold_days": policy.hold_days,
        "expiry_policy": policy.expiry.value,
        "expiry_months": policy.expiry_months,
        "expiry_month_end": policy.expiry_month_end,
        "qualifying_period": policy.qualifying.value,
        "category_multipliers": dict(earn.category_multipliers),
        "bonus_threshold_minor": earn.bonus_threshold_minor,
        "bonus_points": earn.bonus_points,
        "point_value_points": value.points,
        "point_value_minor": value.value_minor,
        "pay_min_points": value.min_points,
        "pay_max_points": value.max_points,
        "allow_card_lookup": rules.card_number_lookup,
        "allow_phone_lookup": rules.phone_lookup,
        "staff_window_minutes": rules.window_minutes,
        "time_zone": program.time_zone,
    }


def tier_from_row(row: Row[Any], prefix: str = "") -> Tier:
    """A tier from a row of the tier table, or from `prefix`-labelled columns of a join."""

    def column(name: str) -> Any:
        return getattr(row, prefix + name)

    return Tier(
        id=column("id"),
        program_id=column("program_id"),
        name=column("name"),
        rank=column("rank"),
        threshold=column("threshold"),
        multiplier_permille=column("multiplier_permille"),
        benefits=tuple(column("benefits") or ()),
        paid_fee_minor=column("paid_fee_minor"),
        reduced_fee_minor=column("reduced_fee_minor"),
        reduced_from_points=column("reduced_from_points"),
    )


def tier_values(tier: Tier) -> dict[str, Any]:
    return {
        "multiplier_permille": tier.multiplier_permille,
        "benefits": list(tier.benefits),
        "paid_fee_minor": tier.paid_fee_minor,
        "reduced_fee_minor": tier.reduced_fee_minor,
        "reduced_from_points": tier.reduced_from_points,
    }


def member_from_row(row: Row[Any]) -> Member:
    return Member(
        id=row.id,
        program_id=row.program_id,
        subject=row.subject,
        card_number=row.card_number,
        referral_code=row.referral_code,
        joined_at=row.joined_at,
        tier_id=row.tier_id,
        display_name=row.display_name,
        email=row.email,
        phone=row.phone,
        birthday=row.birthday,
        birthday_set_at=row.birthday_set_at,
        referred_by=row.referred_by,
        blocked=row.blocked,
        card_generation=row.card_generation,
        tier_valid_until=row.tier_valid_until,
        paid_tier_until=row.paid_tier_until,
    )


def wallet_from_row(row: Row[Any], prefix: str = "") -> Wallet:
    """A wallet from a row of the wallet table, or from `prefix`-labelled join columns."""

    def column(name: str) -> Any:
        return getattr(row, prefix + name)

    return Wallet(
        program_id=column("program_id"),
        member_id=column("member_id"),
        balance=column("balance"),
        pending=column("pending"),
        lifetime_earned=column("lifetime_earned"),
        version=column("version"),
    )


def entry_from_row(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        program_id=row.program_id,
        member_id=row.member_id,
        version=row.version,
        kind=EntryKind(row.kind),
        points=row.points,
        balance_after=row.balance_after,
        description=row.description,
        reference=row.reference,
        actor=row.actor,
        occurred_at=row.occurred_at,
    )


def lot_from_row(row: Row[Any]) -> Lot:
    return Lot(
        id=row.id,
        program_id=row.program_id,
        member_id=row.member_id,
        points=row.points,
        remaining=row.remaining,
        available_at=row.available_at,
        expires_at=row.expires_at,
        created_at=row.created_at,
        held=row.held,
        entry_id=row.entry_id,
    )


def entry_values(entry: LedgerEntry) -> dict[str, Any]:
    """A ledger entry as the columns of its row."""
    return {
        "id": entry.id,
        "program_id": entry.program_id,
        "member_id": entry.member_id,
        "version": entry.version,
        "kind": entry.kind.value,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "description": entry.description,
        "reference": entry.reference,
        "actor": entry.actor,
        "occurred_at": entry.occurred_at,
    }


def wallet_values(wallet: Wallet) -> dict[str, Any]:
    """A wallet's balances as the columns of its row."""
    return {
        "program_id": wallet.program_id,
        "member_id": wallet.member_id,
        "balance": wallet.balance,
        "pending": wallet.pending,
        "lifetime_earned": wallet.lifetime_earned,
        "version": wallet.version,
    }


def lot_values(lot: Lot, entry_id: uuid.UUID) -> dict[str, Any]:
    """A new lot, opened by the entry `entry_id`, as the columns of its row."""
    return {
        "id": lot.id,
        "program_id": lot.program_id,
        "member_id": lot.member_id,
        "entry_id": entry_id,
        "points": lot.points,
        "remaining": lot.remaining,
        "available_at": lot.available_at,
        "expires_at": lot.expires_at,
        "created_at": lot.created_at,
        "held": lot.held,
    }


REWARD_FIELDS = (
    "name",
    "description",
    "points_cost",
    "stock",
    "value_minor",
    "percent_off",
    "sku",
    "cause",
    "category",
    "min_order_minor",
    "image_url",
    "min_tier_id",
    "partner_id",
    "available_from",
    "available_until",
    "early_access_tier_id",
    "early_access_from",
    "per_member_limit",
    "period_limit",
    "voucher_valid_days",
    "archived",
)


def partner_from_row(row: Row[Any]) -> Partner:
    return Partner(
        id=row.id,
        program_id=row.program_id,
        slug=row.slug,
        name=row.name,
        created_at=row.created_at,
    )


def reward_from_row(row: Row[Any]) -> Reward:
    values = {name: getattr(row, name) for name in REWARD_FIELDS}
    return Reward(
        id=row.id,
        program_id=row.program_id,
        kind=RewardKind(row.kind),
        created_at=row.created_at,
        limit_period=LimitPeriod(row.limit_period) if row.limit_period else None,
        **values,
    )


def redemption_from_row(row: Row[Any]) -> Redemption:
    return Redemption(
        id=row.id,
        program_id=row.program_id,
        member_id=row.member_id,
        reward_id=row.reward_id,
        status=RedemptionStatus(row.status),
        points_spent=row.points_spent,
        voucher_code=row.voucher_code,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        cancelled_at=row.cancelled_at,
        used_by=row.used_by,
    )


def reward_values(reward: Reward) -> dict[str, Any]:
    values = {name: getattr(reward, name) for name in REWARD_FIELDS}
    values["limit_period"] = reward.limit_period.value if reward.limit_period else None
    return values


def campaign_from_row(row: Row[Any]) -> Campaign:
    return Campaign(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        multiplier_permille=row.multiplier_permille,
        min_tier_id=row.min_tier_id,
        categories=tuple(row.categories or ()),
    )


def campaign_values(campaign: Campaign) -> dict[str, Any]:
    return dict(
        name=campaign.name,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        multiplier_permille=campaign.multiplier_permille,
        min_tier_id=campaign.min_tier_id,
        categories=list(campaign.categories),
    )
