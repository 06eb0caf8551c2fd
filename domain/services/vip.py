"""Paid VIP tiers: a member buys a tier for a year; staff or the shop record it after payment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain import tiers
from domain.access import require_role
from domain.errors import InvalidInput, NotFound
from domain.events import TierChanged, TierChangeReason
from domain.idempotency import validate_key
from domain.model import Member, Principal, Role, Tier
from domain.money import validate_money
from domain.ports import Clock, UnitOfWork
from domain.services.usecase import claim, ensure_active, member_for, program_of, record, wallet_of


@dataclass(frozen=True)
class PaidTierPurchase:
    member_id: uuid.UUID
    tier_id: uuid.UUID
    amount_minor: int
    currency: str
    idempotency_key: str


@dataclass(frozen=True)
class PaidTierResult:
    member: Member
    tier: Tier
    paid_until: datetime


async def record_paid_tier(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: PaidTierPurchase
) -> PaidTierResult:
    """Record a paid year of a tier: the amount must be the member's fee (reduced from the
    tier's points threshold); the member holds the tier (or a higher one) for a year."""
    require_role(principal, Role.STAFF, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    key = validate_key(command.idempotency_key, ("input", "idempotencyKey"))
    money = validate_money(
        command.amount_minor, command.currency, program.currency, ("input", "amount")
    )
    member = await member_for(
        uow, principal, program, command.member_id, ("input", "memberId"), now
    )
    request = {"member": str(member.id), "tier": str(command.tier_id), "amount": money.amount_minor}
    previous = await claim(uow, program, "vip", key, request, now, ("input", "idempotencyKey"))
    all_tiers = await uow.tiers.all(program.id)
    tier = next((t for t in all_tiers if t.id == command.tier_id), None)
    if tier is None:
        raise NotFound("No such tier.", ("input", "tierId"))
    if previous is not None:
        stored = await uow.members.get(program.id, member.id)
        assert stored is not None and stored.paid_tier_until is not None
        return PaidTierResult(stored, tier, stored.paid_tier_until)
    ensure_active(member)
    wallet = await wallet_of(uow, program, member.id)
    fee = tiers.paid_fee(tier, wallet.balance)
    if fee is None:
        raise InvalidInput("This tier cannot be bought.", ("input", "tierId"))
    if money.amount_minor != fee:
        raise InvalidInput(f"The fee for this member is {fee}.", ("input", "amount", "amountMinor"))
    paid_until = tiers.add_months(now, 12)
    current = tiers.current_tier(all_tiers, member)
    held = tier if tier.rank >= current.rank else current
    valid_until = max(paid_until, member.tier_valid_until or paid_until)
    await uow.members.set_paid_tier(program.id, member.id, held.id, valid_until, paid_until)
    if held.id != current.id:
        uow.record(
            TierChanged(program.id, member.id, held.id, current.id, TierChangeReason.PAID, now)
        )
    await record(uow, principal, program, member, "paid-tier", now, f"{tier.name} {fee}")
    await uow.idempotency.complete(program.id, "vip", key, {"until": paid_until.isoformat()})
    await uow.commit()
    member.tier_id, member.tier_valid_until, member.paid_tier_until = (
        held.id,
        valid_until,
        paid_until,
    )
    return PaidTierResult(member, tier, paid_until)
