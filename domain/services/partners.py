"""Partner deals: terms, purchases at the partner, statements and closing periods."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import ledger
from domain.access import require_role
from domain.earning import base_points, validate_earn_rate
from domain.errors import AccessDenied, DomainError, InvalidInput, NotFound
from domain.idempotency import validate_key
from domain.model import EntryKind, Member, Principal, Program, Role, Wallet, new_id
from domain.money import validate_money
from domain.partners import (
    PartnerTerms,
    SettlementEntry,
    Statement,
    issued_hundredths,
    period_bounds,
    statement,
)
from domain.ports import Clock, UnitOfWork
from domain.rewards import Partner
from domain.services.instore import presented_card
from domain.services.usecase import (
    claim,
    ensure_active,
    ensure_not_flooding,
    locked_wallet,
    program_of,
    purchase_time,
    record,
    refuse,
    upgrade_if_reached,
    wallet_of,
)

PARTNER_PURCHASE = "partner-purchase"  # the audit's action, and the rate limit's


async def partner_of(uow: UnitOfWork, principal: Principal, program: Program) -> Partner:
    """The calling partner (partner tokens only)."""
    require_role(principal, Role.PARTNER)
    partner = await uow.rewards.partner_by_slug(program.id, principal.partner or "")
    if partner is None:
        raise AccessDenied("This partner is not registered in the program.")
    return partner


async def _partner_by_id(uow: UnitOfWork, program: Program, partner_id: uuid.UUID) -> Partner:
    found = await uow.rewards.partners(program.id, [partner_id])
    if not found:
        raise NotFound("No such partner.", ("input", "partnerId"))
    return found[0]


async def update_terms(
    uow: UnitOfWork, principal: Principal, partner_id: uuid.UUID, terms: PartnerTerms
) -> PartnerTerms:
    """Admins set a partner's earn rate, prices and whether it may edit its rewards."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    partner = await _partner_by_id(uow, program, partner_id)
    validate_earn_rate(
        terms.earn_rate.points, terms.earn_rate.per_amount_minor, ("input", "earnRate")
    )
    for value, name in (
        (terms.price_per_100_points_minor, "pricePer100PointsMinor"),
        (terms.payout_per_redemption_minor, "payoutPerRedemptionMinor"),
    ):
        if not 0 <= value <= 100_000_000:
            raise InvalidInput(f"{name} must be 0 to 100,000,000.", ("input", name))
    await uow.partners.set_terms(program.id, partner.id, terms)
    await uow.commit()
    return terms


@dataclass(frozen=True)
class PartnerPurchase:
    order_id: str
    amount_minor: int
    currency: str
    card_number: str | None = None
    card_payload: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class PartnerPurchaseResult:
    points_earned: int
    member: Member
    wallet: Wallet


async def _identify(
    uow: UnitOfWork, program: Program, card_key: bytes, command: PartnerPurchase, now: datetime
) -> Member:
    """The member by a scanned QR code (verified, once) or, failing that, a card number."""
    if command.card_payload is not None:
        field = ("input", "cardPayload")
        return await presented_card(uow, program, card_key, command.card_payload, now, field)
    member = await uow.members.get_by_card_number(program.id, (command.card_number or "").strip())
    if member is None:
        raise NotFound("No member has this card number.", ("input", "cardNumber"))
    return member


async def record_partner_purchase(
    uow: UnitOfWork, clock: Clock, principal: Principal, card_key: bytes, command: PartnerPurchase
) -> PartnerPurchaseResult:
    """A partner credits a purchase at its own earn rate; the order id makes it idempotent.
    The points issued go on the partner's settlement at the agreed price.

    Like the staff's scans and lookups, every purchase and every failed attempt to identify
    the member is audited, and failures are rate-limited per partner user: a typed card
    number answers the member's display name, so it must not be guessed at will.
    """
    program = await program_of(uow, principal)
    partner = await partner_of(uow, principal, program)
    now = clock.now()
    order_id = validate_key(command.order_id, ("input", "orderId"))
    money = validate_money(
        command.amount_minor, command.currency, program.currency, ("input", "total")
    )
    purchase_time(command.occurred_at, now)
    if (command.card_number is None) == (command.card_payload is None):
        raise InvalidInput("Give either cardPayload (a scan) or cardNumber.", ("input",))
    await ensure_not_flooding(uow, principal, program, PARTNER_PURCHASE, now)
    scope = f"pp:{partner.id.hex}"
    request = {
        "amount": money.amount_minor,
        "card": command.card_number or (command.card_payload or "").split(":")[1:2],
    }
    previous = await claim(uow, program, scope, order_id, request, now, ("input", "orderId"))
    if previous is not None:
        member = await uow.members.get(program.id, uuid.UUID(previous["member"]))
        assert member is not None
        return PartnerPurchaseResult(
            int(previous["points"]), member, await wallet_of(uow, program, member.id)
        )
    try:
        member = await _identify(uow, program, card_key, command, now)
        ensure_active(member)
    except DomainError as error:
        await uow.idempotency.release(program.id, scope, order_id)  # the order may come again
        raise await refuse(uow, principal, program, PARTNER_PURCHASE, error, now) from None
    terms = await uow.partners.terms(program.id, partner.id)
    points = base_points(money.amount_minor, terms.earn_rate)
    wallet = await locked_wallet(uow, program, member.id)
    if points > 0:
        hold = program.policy.hold_days
        posting = ledger.credit(
            wallet,
            points,
            kind=EntryKind.EARN,
            now=now,
            description=f"Purchase at {partner.name}, order {order_id}",
            reference=f"partner:{partner.slug}:{order_id}",
            actor=principal.actor,
            expires_at=ledger.lot_expiry(program.policy, now, program.time_zone),
            available_at=now + timedelta(days=hold) if hold else None,
        )
        await uow.ledger.post(posting, previous_version=wallet.version)
        wallet = posting.wallet
        await uow.partners.add_settlement(
            SettlementEntry(
                id=new_id(),
                program_id=program.id,
                partner_id=partner.id,
                kind="POINTS_ISSUED",
                points=points,
                amount_hundredths=issued_hundredths(points, terms),
                reference=f"order:{order_id}",
                occurred_at=now,
            )
        )
        await upgrade_if_reached(uow, program, member, await uow.tiers.all(program.id), now)
    await record(uow, principal, program, member, PARTNER_PURCHASE, now, f"order {order_id}")
    await uow.idempotency.complete(
        program.id, scope, order_id, {"points": points, "member": str(member.id)}
    )
    await uow.commit()
    return PartnerPurchaseResult(points, member, wallet)


async def partner_statement(
    uow: UnitOfWork, principal: Principal, partner_id: uuid.UUID | None, period: str
) -> Statement:
    """What each side owes for a month: partners see their own, admins any partner's."""
    program = await program_of(uow, principal)
    if principal.role is Role.PARTNER:
        partner = await partner_of(uow, principal, program)
        if partner_id is not None and partner_id != partner.id:
            raise AccessDenied("Partners see only their own statements.")
    else:
        require_role(principal, Role.ADMIN)
        if partner_id is None:
            raise InvalidInput("Say which partner.", ("partnerId",))
        partner = await _partner_by_id(uow, program, partner_id)
    start, end = period_bounds(period, program.time_zone)
    frozen = await uow.partners.closed(program.id, partner.id, period)
    if frozen is not None:
        return frozen
    entries = await uow.partners.settlement(program.id, partner.id, start, end)
    return statement(partner.id, period, entries, closed=False)


async def close_period(
    uow: UnitOfWork, clock: Clock, principal: Principal, partner_id: uuid.UUID, period: str
) -> Statement:
    """Admins freeze a finished month's statement; it never changes after."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    partner = await _partner_by_id(uow, program, partner_id)
    start, end = period_bounds(period, program.time_zone, ("input", "period"))
    now = clock.now()
    if end > now:
        raise InvalidInput("Only a finished period can be closed.", ("input", "period"))
    entries = await uow.partners.settlement(program.id, partner.id, start, end)
    result = statement(partner.id, period, entries, closed=True)
    if not await uow.partners.close(program.id, result, now, principal.actor):
        raise InvalidInput("This period is closed already.", ("input", "period"))
    await uow.commit()
    return result


async def settle_redemption(
    uow: UnitOfWork,
    program_id: uuid.UUID,
    partner_id: uuid.UUID,
    redemption_id: uuid.UUID,
    now: datetime,
) -> None:
    """A voucher of a partner's reward was used: the brand owes the partner its payout."""
    terms = await uow.partners.terms(program_id, partner_id)
    await uow.partners.add_settlement(
        SettlementEntry(
            id=new_id(),
            program_id=program_id,
            partner_id=partner_id,
            kind="REDEMPTION",
            points=0,
            amount_hundredths=-terms.payout_per_redemption_minor * 100,
            reference=f"redemption:{redemption_id}",
            occurred_at=now,
        )
    )
