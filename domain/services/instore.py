"""The in-store flow: the member's QR card, the scan at the till, lookups, staff windows.

A successful scan (or an allowed lookup) opens a window in which the scanning store
may act for the member; staff outside a window are refused. Every scan and lookup
is audited; failed scans are audited in a transaction of their own (the failure is
the fact worth keeping) and rate-limited per actor: a staff member at a store, or a
partner's user (partners identify members by card too, see services/partners.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import audit, cards
from domain.access import require_role
from domain.contact import normalise_phone
from domain.errors import (
    AccessDenied,
    CardAlreadyUsed,
    CardInvalid,
    DomainError,
    InvalidInput,
    MemberBlocked,
    NotEnrolled,
    NotFound,
)
from domain.model import Member, Principal, Program, Role, Wallet
from domain.ports import Clock, UnitOfWork
from domain.services.usecase import ensure_not_flooding, program_of, refuse

SCAN = "scan"
LOOKUP = "lookup"


@dataclass(frozen=True)
class MemberCardView:
    card_number: str
    payload: str
    expires_at: datetime


@dataclass(frozen=True)
class CardSecret:
    secret_base32: str
    digits: int
    period: int
    algorithm: str
    card_number: str


async def _own_member(uow: UnitOfWork, principal: Principal, program: Program) -> Member:
    if principal.role is not Role.MEMBER:
        raise AccessDenied("Only the member themself may see their card.")
    member = await uow.members.get_by_subject(program.id, principal.subject)
    if member is None:
        raise NotEnrolled("Enroll first.")
    return member


async def member_card(
    uow: UnitOfWork, clock: Clock, principal: Principal, card_key: bytes
) -> MemberCardView:
    """The calling member's card with a fresh code to show at the counter."""
    program = await program_of(uow, principal)
    member = await _own_member(uow, principal, program)
    secret = cards.card_secret(card_key, program.id, member.id, member.card_generation)
    payload, expires_at = cards.card_payload(member.card_number, secret, clock.now())
    return MemberCardView(member.card_number, payload, expires_at)


async def issue_card_secret(uow: UnitOfWork, principal: Principal, card_key: bytes) -> CardSecret:
    """A new card secret for the app to show codes offline; earlier secrets stop working."""
    program = await program_of(uow, principal)
    member = await _own_member(uow, principal, program)
    generation = await uow.instore.next_card_generation(program.id, member.id)
    await uow.commit()
    secret = cards.card_secret(card_key, program.id, member.id, generation)
    return CardSecret(
        secret_base32=cards.secret_base32(secret),
        digits=cards.TOTP_DIGITS,
        period=cards.TOTP_STEP_SECONDS,
        algorithm=cards.TOTP_ALGORITHM,
        card_number=member.card_number,
    )


@dataclass(frozen=True)
class Identified:
    """The member a till identified, and until when the store may act for them."""

    member: Member
    wallet: Wallet
    window_expires_at: datetime | None


async def _open_window(
    uow: UnitOfWork, principal: Principal, program: Program, member: Member, now: datetime
) -> datetime | None:
    if principal.role is not Role.STAFF or principal.store is None:
        return None  # admins are not bound to windows
    expires = now + timedelta(minutes=program.in_store.window_minutes)
    await uow.instore.open_window(program.id, principal.store, member.id, principal.actor, expires)
    return expires


async def _identified(
    uow: UnitOfWork,
    principal: Principal,
    program: Program,
    member: Member,
    action: str,
    now: datetime,
) -> Identified:
    expires = await _open_window(uow, principal, program, member, now)
    await uow.instore.add_audit(
        audit.event(principal, program.id, member.id, action, audit.OK, now)
    )
    wallet = await uow.ledger.wallet(program.id, member.id)
    if wallet is None:
        raise NotFound("The member has no wallet.")
    await uow.commit()
    return Identified(member, wallet, expires)


async def scan_card(
    uow: UnitOfWork, clock: Clock, principal: Principal, card_key: bytes, payload: str
) -> Identified:
    """Staff identify a member from the QR code in their app; each code works once."""
    require_role(principal, Role.STAFF, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    await ensure_not_flooding(uow, principal, program, SCAN, now)
    member = None
    field = ("input", "payload")
    try:
        member, code = await _card_holder(uow, program, payload, field)
        step = _verified_step(card_key, program, member, code, now)
        if member.blocked:
            raise MemberBlocked("This member is blocked.")
        await _spend(uow, program, member, step, field)
    except DomainError as error:
        raise await refuse(uow, principal, program, SCAN, error, now, member) from None
    return await _identified(uow, principal, program, member, SCAN, now)


async def presented_card(
    uow: UnitOfWork,
    program: Program,
    card_key: bytes,
    payload: str,
    now: datetime,
    field: tuple[str, ...],
) -> Member:
    """The member whose app shows `payload` now, for partners: proof that the member is at
    the partner's counter. The code must be current (one step of drift) and is spent: the
    same code, or an older one, is refused afterwards (CARD_ALREADY_USED). (The staff's
    `scan_card` checks the same, with a block check and an audit naming the member.)
    """
    try:
        member, code = await _card_holder(uow, program, payload, field)
        step = _verified_step(card_key, program, member, code, now)
    except DomainError as error:
        error.field = field  # the card rules name the staff's input; say which one it was
        raise
    await _spend(uow, program, member, step, field)
    return member


async def _card_holder(
    uow: UnitOfWork, program: Program, payload: str, field: tuple[str, ...]
) -> tuple[Member, str]:
    """The member whose card number the scanned payload carries, and its code."""
    scanned = cards.parse_payload(payload)
    member = await uow.members.get_by_card_number(program.id, scanned.card_number)
    if member is None:
        raise CardInvalid("No member has this card.", field)
    return member, scanned.code


def _verified_step(
    card_key: bytes, program: Program, member: Member, code: str, now: datetime
) -> int:
    """The time step the code belongs to, if it verifies against the card's secret now."""
    secret = cards.card_secret(card_key, program.id, member.id, member.card_generation)
    return cards.verify_code(secret, code, now)


async def _spend(
    uow: UnitOfWork, program: Program, member: Member, step: int, field: tuple[str, ...]
) -> None:
    """Each code works once, and no older code after a newer one (per card generation)."""
    if not await uow.instore.accept_step(program.id, member.id, member.card_generation, step):
        raise CardAlreadyUsed("This code was already scanned; ask for a fresh one.", field)


async def lookup_member(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    *,
    card_number: str | None,
    phone: str | None,
) -> Identified:
    """Staff find a member without their phone at hand, where the program allows it."""
    require_role(principal, Role.STAFF, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    rules = program.in_store
    if (card_number is None) == (phone is None):
        raise InvalidInput("Give either a card number or a phone number.", ("input",))
    await ensure_not_flooding(uow, principal, program, LOOKUP, now)
    try:
        if card_number is not None:
            if not rules.card_number_lookup and principal.role is Role.STAFF:
                raise AccessDenied("This program does not allow lookups by card number.")
            member = await uow.members.get_by_card_number(program.id, card_number.strip())
        else:
            if not rules.phone_lookup and principal.role is Role.STAFF:
                raise AccessDenied("This program does not allow lookups by phone.")
            normalised = normalise_phone(phone, ("input", "phone")) or ""
            # Phones are not verified, so anyone may enroll with anyone's number. Refusing
            # an ambiguous match let a second account switch lookup off for the owner, and
            # making phones unique would let the first claimant lock the owner out of
            # enrolling with their own number (and tell any app user which numbers are
            # enrolled). The first to claim a number keeps it: a later claim changes
            # nothing for the earlier member, and the till shows whom it found.
            member = await uow.members.get_by_phone(program.id, normalised)
        if member is None:
            raise NotFound("No member matches.", ("input",))
        if member.blocked:
            raise MemberBlocked("This member is blocked.")
    except DomainError as error:
        raise await refuse(uow, principal, program, LOOKUP, error, now) from None
    return await _identified(uow, principal, program, member, LOOKUP, now)
