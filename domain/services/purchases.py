"""Crediting purchases with the full earning rules, and previewing them (refunds: refunds.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain import ledger, tiers
from domain.access import require_role
from domain.earning import (
    EarnBreakdown,
    OrderLine,
    compute_earn,
    validate_lines,
)
from domain.idempotency import validate_key
from domain.model import (
    EntryKind,
    Member,
    Principal,
    Program,
    Role,
    Tier,
    Wallet,
)
from domain.money import validate_money
from domain.ports import Clock, UnitOfWork
from domain.services import referrals
from domain.services.usecase import (
    claim,
    ensure_active,
    locked_wallet,
    member_for,
    program_and_tiers,
    purchase_time,
    record,
    upgrade_if_reached,
    wallet_of,
)


@dataclass(frozen=True)
class RecordPurchase:
    member_id: uuid.UUID
    order_id: str
    amount_minor: int
    currency: str
    occurred_at: datetime | None = None
    lines: tuple[OrderLine, ...] = ()
    # The shop's fingerprint of the card or account paid with, to spot self-referrals.
    payment_fingerprint: str | None = None


@dataclass(frozen=True)
class PurchaseResult:
    points_earned: int
    wallet: Wallet
    breakdown: EarnBreakdown | None = None


async def _breakdown(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    amount_minor: int,
    lines: Sequence[OrderLine],
    at: datetime,
    all_tiers: list[Tier],
) -> EarnBreakdown:
    tier = tiers.current_tier(all_tiers, member)
    campaigns = await uow.purchases.campaigns(program.id, at)
    return compute_earn(
        amount_minor, lines, program.earn_rate, program.earn_rules, tier, all_tiers, campaigns, at
    )


def _request(member: Member, command: RecordPurchase, amount: int, currency: str) -> dict:  # type: ignore[type-arg]
    return {
        "member": str(member.id),
        "amount": amount,
        "currency": currency,
        # As given: a retry without a time must match the first call without one.
        "occurredAt": command.occurred_at.isoformat() if command.occurred_at else None,
        "lines": [
            [line.sku, line.category, line.quantity, line.unit_price_minor]
            for line in command.lines
        ],
    }


async def record_purchase(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: RecordPurchase
) -> PurchaseResult:
    """Credit a purchase with the earning rules; the order id makes it idempotent.

    Points are pending during the program's hold period, expire under its policy, and
    lift the member to a higher tier at once when they cross its threshold.
    """
    require_role(principal, Role.STAFF, Role.ADMIN, Role.SHOP)
    program, all_tiers = await program_and_tiers(uow, principal)
    now = clock.now()
    order_id = validate_key(command.order_id, ("input", "orderId"))
    money = validate_money(
        command.amount_minor, command.currency, program.currency, ("input", "total")
    )
    occurred_at = purchase_time(command.occurred_at, now)
    lines = validate_lines(command.lines, ("input", "lines"))
    fingerprint = referrals.fingerprint_of(command.payment_fingerprint)
    member = await member_for(
        uow, principal, program, command.member_id, ("input", "memberId"), now, order=True
    )
    request = _request(member, command, money.amount_minor, money.currency)
    previous = await claim(uow, program, "purchase", order_id, request, now, ("input", "orderId"))
    if previous is not None:
        wallet = await wallet_of(uow, program, member.id)
        return PurchaseResult(points_earned=int(previous["points"]), wallet=wallet)
    ensure_active(member)
    breakdown = await _breakdown(
        uow, program, member, money.amount_minor, lines, occurred_at, all_tiers
    )
    # The answer is known now: store it before taking the wallet, which other purchases
    # of this member wait for until commit (same transaction, so nothing changes if it
    # rolls back).
    await uow.idempotency.complete(program.id, "purchase", order_id, {"points": breakdown.total})
    wallet = await locked_wallet(uow, program, member.id)
    credits = [(EntryKind.EARN, breakdown.points, _describe(order_id, breakdown))]
    if breakdown.bonus_points:
        credits.append((EntryKind.BONUS, breakdown.bonus_points, f"Spend bonus, order {order_id}"))
    hold = program.policy.hold_days
    entry_ids: list[uuid.UUID] = []
    for kind, points, description in credits:
        if points <= 0:
            continue
        posting = ledger.credit(
            wallet,
            points,
            kind=kind,
            now=now,
            description=description,
            reference=f"order:{order_id}",
            actor=principal.actor,
            expires_at=ledger.lot_expiry(program.policy, now, program.time_zone),
            available_at=now + timedelta(days=hold) if hold else None,
        )
        await uow.ledger.post(posting, previous_version=wallet.version)
        wallet = posting.wallet
        entry_ids.append(posting.entry.id)
    await uow.purchases.add(
        program.id,
        member.id,
        order_id,
        money.amount_minor,
        money.currency,
        breakdown.total,
        entry_ids,
        occurred_at,
        breakdown,
    )
    await upgrade_if_reached(uow, program, member, all_tiers, now)
    await referrals.after_purchase(uow, program, member, fingerprint, now)
    await record(uow, principal, program, member, "purchase", now, f"order {order_id}")
    await uow.commit()
    return PurchaseResult(points_earned=breakdown.total, wallet=wallet, breakdown=breakdown)


def _describe(order_id: str, breakdown: EarnBreakdown) -> str:
    why = f" ({', '.join(breakdown.reasons)})" if breakdown.reasons else ""
    return f"Purchase {order_id}{why}"[:600]


@dataclass(frozen=True)
class PreviewEarn:
    member_id: uuid.UUID
    amount_minor: int
    currency: str
    lines: tuple[OrderLine, ...] = field(default_factory=tuple)
    occurred_at: datetime | None = None


async def preview_earn(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: PreviewEarn
) -> EarnBreakdown:
    """What an order would earn now, with the reasons; writes nothing."""
    require_role(principal, Role.MEMBER, Role.STAFF, Role.ADMIN, Role.SHOP)
    program, all_tiers = await program_and_tiers(uow, principal)
    now = clock.now()
    money = validate_money(
        command.amount_minor, command.currency, program.currency, ("input", "total")
    )
    lines = validate_lines(command.lines, ("input", "lines"))
    member = await member_for(
        uow, principal, program, command.member_id, ("input", "memberId"), now, order=True
    )
    at = purchase_time(command.occurred_at, now)
    return await _breakdown(uow, program, member, money.amount_minor, lines, at, all_tiers)
