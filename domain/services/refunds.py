"""Refunds: take back what the refunded part of an order earned, and the tier it bought."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain import ledger, tiers
from domain.access import require_role
from domain.earning import MAX_LINES, RefundLine, kept_points, refund_reversal
from domain.errors import InvalidInput, NotFound
from domain.events import TierChangeReason
from domain.idempotency import validate_key
from domain.model import Principal, Program, Role, Tier, Wallet
from domain.money import validate_currency, validate_money
from domain.ports import Clock, UnitOfWork
from domain.purchases import PurchaseRecord
from domain.services.usecase import (
    change_tier,
    claim,
    locked_wallet,
    member_for,
    program_and_tiers,
    record,
    wallet_of,
)


@dataclass(frozen=True)
class RefundPurchase:
    order_id: str
    amount_minor: int | None  # money refunded when no lines are named
    currency: str | None
    idempotency_key: str
    lines: tuple[RefundLine, ...] = ()


@dataclass(frozen=True)
class RefundResult:
    points_reversed: int
    wallet: Wallet


def validate_refund_lines(lines: Sequence[RefundLine], field: tuple[str, ...]) -> None:
    """Refunded lines: at most 200, a sku, 1 to 100,000 units, a sane price if given."""
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"At most {MAX_LINES} lines.", field)
    for index, line in enumerate(lines):
        at = (*field, str(index))
        if not line.sku.strip() or len(line.sku) > 80:
            raise InvalidInput("sku must be 1 to 80 characters.", (*at, "sku"))
        if not 0 < line.quantity <= 100_000:
            raise InvalidInput("quantity must be 1 to 100,000.", (*at, "quantity"))
        price = line.unit_price_minor
        if price is not None and not 0 <= price <= 1_000_000_000:
            raise InvalidInput(
                "unitPriceMinor must be 0 to 1,000,000,000.", (*at, "unitPriceMinor")
            )


def match_lines(
    purchase: PurchaseRecord, lines: Sequence[RefundLine], field: tuple[str, ...]
) -> tuple[int, ...]:
    """The order's refunded units per line after refunding `lines`: each takes units of the
    order's lines with its sku (and unit price, if given), first line first."""
    assert purchase.earning is not None
    order_lines = purchase.earning.lines
    refunded = list(purchase.refunded_quantities)
    for index, line in enumerate(lines):
        at = (*field, str(index))
        candidates = [
            i
            for i, own in enumerate(order_lines)
            if own.sku == line.sku
            and (line.unit_price_minor is None or own.unit_price_minor == line.unit_price_minor)
        ]
        if not candidates:
            raise InvalidInput("The order has no line with this sku and price.", (*at, "sku"))
        wanted = line.quantity
        for i in candidates:
            take = min(wanted, order_lines[i].quantity - refunded[i])
            refunded[i] += take
            wanted -= take
        if wanted:
            left = line.quantity - wanted
            raise InvalidInput(f"Only {left} of this line are left to refund.", (*at, "quantity"))
    return tuple(refunded)


def _money_without_lines(command: RefundPurchase, currency: str, field: tuple[str, ...]) -> int:
    """The money of a refund that names no line of the order: the amount, or the lines'
    prices for an order recorded without lines."""
    if not command.lines:
        if command.amount_minor is None:
            raise InvalidInput(
                "Give the amount refunded or the refunded lines.", ("input", "amount")
            )
        return validate_money(
            command.amount_minor, currency, currency, ("input", "amount")
        ).amount_minor
    total = 0
    for index, line in enumerate(command.lines):
        if line.unit_price_minor is None:
            raise InvalidInput(
                "This order was recorded without lines: give unitPriceMinor.",
                (*field, str(index), "unitPriceMinor"),
            )
        total += line.quantity * line.unit_price_minor
    return validate_money(total, currency, currency, field).amount_minor


def _request_of(order_id: str, command: RefundPurchase) -> dict:  # type: ignore[type-arg]
    if not command.lines:  # as before lines could be named: earlier keys still replay
        return {"order": order_id, "amount": command.amount_minor}
    lines = [[line.sku, line.quantity, line.unit_price_minor] for line in command.lines]
    return {"order": order_id, "lines": lines}


async def refund_purchase(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: RefundPurchase
) -> RefundResult:
    """Take back what the refunded part of an order earned.

    Named lines take back exactly what those units earned under the order's own rules
    (the spend bonus too, once the spend left falls below its threshold); an amount without
    lines takes its share of the order. Repeated refunds never reverse more than was earned;
    points already spent make the balance negative, which later credits repay first. A
    tier reached in this period with the refunded points is given up again.
    """
    require_role(principal, Role.STAFF, Role.ADMIN, Role.SHOP)
    program, all_tiers = await program_and_tiers(uow, principal)
    now = clock.now()
    key = validate_key(command.idempotency_key, ("input", "idempotencyKey"))
    order_id = validate_key(command.order_id, ("input", "orderId"))
    field = ("input", "lines")
    validate_refund_lines(command.lines, field)
    if command.currency is not None:
        currency = validate_currency(command.currency, ("input", "amount", "currency"))
        if currency != program.currency:
            raise InvalidInput(
                f"The program's currency is {program.currency}, not {currency}.",
                ("input", "amount", "currency"),
            )
    purchase = await uow.purchases.get(program.id, order_id)
    if purchase is None:
        raise NotFound("No purchase with this order id.", ("input", "orderId"))
    member = await member_for(
        uow, principal, program, purchase.member_id, ("input", "orderId"), now, order=True
    )
    request = _request_of(order_id, command)
    previous = await claim(uow, program, "refund", key, request, now, ("input", "idempotencyKey"))
    if previous is not None:
        return RefundResult(int(previous["points"]), await wallet_of(uow, program, member.id))
    wallet = await locked_wallet(uow, program, member.id)
    # Re-read under the wallet lock: a concurrent refund of the same order is committed.
    purchase = await uow.purchases.get(program.id, order_id)
    assert purchase is not None
    earning = purchase.earning
    by_line = (
        bool(command.lines)
        and earning is not None
        and any(line.sku is not None for line in earning.lines)
    )
    refunded_quantities: tuple[int, ...] | None = None
    if by_line:
        refunded_quantities = match_lines(purchase, command.lines, field)
        assert earning is not None
        money = sum(
            line.amount_for(line.quantity - before) - line.amount_for(line.quantity - after)
            for line, before, after in zip(
                earning.lines, purchase.refunded_quantities, refunded_quantities, strict=True
            )
        )
    else:
        money = _money_without_lines(command, program.currency, field)
    left = purchase.amount_minor - purchase.refunded_minor
    if money > left:
        raise InvalidInput(
            f"Only {left} of this order is left to refund.",
            field if command.lines else ("input", "amount"),
        )
    points = _reversal(purchase, money, refunded_quantities)
    if points > 0:
        own = await uow.ledger.lots_of_entries(program.id, list(purchase.entry_ids))
        others = await uow.ledger.open_lots(program.id, member.id)
        posting = ledger.reverse(
            wallet,
            own,
            others,
            points,
            now=now,
            description=f"Refund of order {order_id}",
            reference=f"refund:{order_id}:{key}",
            actor=principal.actor,
        )
        await uow.ledger.post(posting, previous_version=wallet.version)
        wallet = posting.wallet
    await uow.purchases.add_refund(program.id, purchase.id, money, points, refunded_quantities)
    if points > 0:
        await downgrade_if_refunded(uow, program, member.id, all_tiers, now)
    await record(uow, principal, program, member, "refund", now, f"order {order_id}")
    await uow.idempotency.complete(program.id, "refund", key, {"points": points})
    await uow.commit()
    return RefundResult(points, wallet)


def _reversal(
    purchase: PurchaseRecord, money: int, refunded_quantities: tuple[int, ...] | None
) -> int:
    """Points a refund takes back: what the order keeps before it less what it keeps after."""
    earning = purchase.earning
    if earning is None:  # recorded before lines were kept: proportional to the money
        return refund_reversal(
            purchase.points, purchase.amount_minor, purchase.refunded_minor, money
        )
    proportional = purchase.refunded_minor - purchase.line_refunded_minor
    before = [
        line.quantity - n
        for line, n in zip(earning.lines, purchase.refunded_quantities, strict=True)
    ]
    if refunded_quantities is None:
        after, proportional_after = before, proportional + money
    else:
        after = [
            line.quantity - n for line, n in zip(earning.lines, refunded_quantities, strict=True)
        ]
        proportional_after = proportional
    points = kept_points(earning, before, proportional) - kept_points(
        earning, after, proportional_after
    )
    return max(0, min(points, purchase.points - purchase.reversed_points))


async def downgrade_if_refunded(
    uow: UnitOfWork, program: Program, member_id: uuid.UUID, all_tiers: list[Tier], now: datetime
) -> Tier | None:
    """After a refund: give up a tier reached in this period that the qualifying points no
    longer reach, down to the tier kept from before (a paid tier stays)."""
    member = await uow.members.get(program.id, member_id)  # as committed, under the lock
    if member is None or member.tier_valid_until is None:
        return None
    if member.paid_tier_until is not None and member.paid_tier_until > now:
        return None
    current = tiers.current_tier(all_tiers, member)
    period = program.policy.qualifying
    window = tiers.floor_window(period, now, member.tier_valid_until, program.time_zone)
    if current.rank == 0 or window is None:
        return None
    start, _ = tiers.qualifying_window(period, now, program.time_zone)

    async def since(moment: datetime) -> int:
        found = await uow.ledger.qualifying_points(
            program.id, [member_id], moment, tiers.QUALIFYING_KINDS
        )
        return found.get(member_id, 0)

    qualifying = await since(start)
    floor_points = max(0, await since(window[0]) - await since(window[1]))
    change = tiers.after_refund(
        all_tiers,
        current,
        qualifying,
        floor_points,
        period,
        now,
        member.tier_valid_until,
        program.time_zone,
    )
    if change is None:
        return None
    await change_tier(uow, member, current, change[0], change[1], TierChangeReason.REFUND, now)
    return change[0]
