"""Paying for an order with points at the till, and refunding such a payment.

A payment debits the points soonest-expiring first and remembers which lots it drew on,
so a refund (the order was refunded, or the till crashed after paying) gives the points
back with the expiries they had. Both are idempotent: a payment by its order id, a refund
by its key; an order's payment is refunded at most once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain import audit, ledger
from domain.access import require_role
from domain.errors import NotFound, PaymentRefunded
from domain.idempotency import validate_key
from domain.model import EntryKind, Money, Principal, Role, Wallet, new_id
from domain.payments import PaymentTake, PointsPayment
from domain.ports import Clock, UnitOfWork
from domain.rewards import points_to_money
from domain.services.usecase import (
    KEY_FIELD,
    claim,
    ensure_active,
    locked_wallet,
    member_for,
    program_of,
    record,
    wallet_of,
)

PAY_SCOPE = "pay"  # keys: order ids
REFUND_SCOPE = "pay-refund"  # keys: the refund's idempotency key
ORDER_FIELD = ("input", "orderId")


@dataclass(frozen=True)
class PayWithPoints:
    member_id: uuid.UUID
    order_id: str
    points: int


@dataclass(frozen=True)
class PaymentResult:
    points_spent: int
    discount: Money
    wallet: Wallet


def _refunded(order_id: str) -> PaymentRefunded:
    return PaymentRefunded(
        f"The points payment of order {order_id!r} was refunded; it cannot be paid with "
        "points again, nor refunded twice.",
        ORDER_FIELD,
    )


async def redeem_points_for_order(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: PayWithPoints
) -> PaymentResult:
    """Staff and admins turn points into money off an order, once per order."""
    require_role(principal, Role.STAFF, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    order_id = validate_key(command.order_id, ORDER_FIELD)
    amount = points_to_money(command.points, program.point_value)
    member = await member_for(
        uow, principal, program, command.member_id, ("input", "memberId"), now
    )
    request = {"member": str(member.id), "points": command.points}
    previous = await claim(uow, program, PAY_SCOPE, order_id, request, now, ORDER_FIELD)
    if previous is not None:
        paid = await uow.payments.get(program.id, order_id)
        if paid is not None and paid.refunded_at is not None:
            raise _refunded(order_id)  # a replay must not tell the till it is paid
        wallet = await wallet_of(uow, program, member.id)
        return PaymentResult(
            command.points, Money(int(previous["amount"]), program.currency), wallet
        )
    ensure_active(member)
    wallet = await locked_wallet(uow, program, member.id)
    lots = await uow.ledger.open_lots(program.id, member.id)
    posting = ledger.debit(
        wallet,
        lots,
        command.points,
        kind=EntryKind.REDEEM,
        now=now,
        description=f"Paid with points: order {order_id}",
        reference=f"order:{order_id}:points",
        actor=principal.actor,
    )
    await uow.ledger.post(posting, previous_version=wallet.version)
    expiries = {lot.id: lot.expires_at for lot in lots}
    payment = PointsPayment(
        id=new_id(),
        program_id=program.id,
        member_id=member.id,
        order_id=order_id,
        points=command.points,
        amount_minor=amount,
        currency=program.currency,
        paid_at=now,
    )
    takes = [PaymentTake(t.lot_id, t.points, expiries.get(t.lot_id)) for t in posting.takes]
    await uow.payments.add(payment, takes)
    await record(uow, principal, program, member, "pay-with-points", now, f"order {order_id}")
    await uow.idempotency.complete(program.id, PAY_SCOPE, order_id, {"amount": amount})
    await uow.commit()
    return PaymentResult(command.points, Money(amount, program.currency), posting.wallet)


@dataclass(frozen=True)
class RefundPayment:
    order_id: str
    idempotency_key: str
    member_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RefundResult:
    points_refunded: int
    value: Money  # the money off the order that the points had paid
    wallet: Wallet


async def refund_points_payment(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: RefundPayment
) -> RefundResult:
    """Staff (within the member's scan window) and admins reverse an order's points payment:
    the points come back with the expiry they had. Audited; once per order."""
    require_role(principal, Role.STAFF, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    key = validate_key(command.idempotency_key, KEY_FIELD)
    order_id = validate_key(command.order_id, ORDER_FIELD)
    payment = await uow.payments.get(program.id, order_id)
    if payment is None or (command.member_id not in (None, payment.member_id)):
        raise NotFound("No points payment of this member for this order.", ORDER_FIELD)
    member = await member_for(
        uow, principal, program, payment.member_id, ("input", "memberId"), now
    )
    request = {"order": order_id, "member": str(command.member_id or "")}
    previous = await claim(uow, program, REFUND_SCOPE, key, request, now, KEY_FIELD)
    value = Money(payment.amount_minor, payment.currency)
    if previous is not None:
        wallet = await wallet_of(uow, program, member.id)
        return RefundResult(int(previous["points"]), value, wallet)
    wallet = await locked_wallet(uow, program, member.id)
    if not await uow.payments.mark_refunded(program.id, payment.id, now):
        raise _refunded(order_id)
    portions = await uow.payments.takes(program.id, payment.id) or [(payment.points, None)]
    posting = ledger.credit_portions(
        wallet,
        portions,
        kind=EntryKind.REDEEM,
        now=now,
        description=f"Points payment refunded: order {order_id}",
        reference=f"order:{order_id}:points:refund",
        actor=principal.actor,
    )
    await uow.ledger.post(posting, previous_version=wallet.version)
    # Audited for every role (admins too): money off an order was taken back.
    await uow.instore.add_audit(
        audit.event(
            principal,
            program.id,
            member.id,
            "refund-points-payment",
            audit.OK,
            now,
            f"order {order_id}: {payment.points} points",
        )
    )
    await uow.idempotency.complete(program.id, REFUND_SCOPE, key, {"points": payment.points})
    await uow.commit()
    return RefundResult(payment.points, value, posting.wallet)
