"""Enrollment and reading members."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from domain import audit
from domain.access import require_role
from domain.cards import new_card_number, new_referral_code
from domain.contact import (
    MAX_DISPLAY_NAME,
    clean_text,
    normalise_email,
    normalise_phone,
    validate_birthday,
)
from domain.errors import AlreadyEnrolled
from domain.model import Member, Principal, Program, Role, Wallet, new_id
from domain.ports import Clock, UnitOfWork
from domain.services import referrals
from domain.services.actions import grant_signup
from domain.services.usecase import member_for, program_of
from domain.times import local_date

# Collisions of random card numbers and codes are astronomically rare; a few
# attempts turn "rare" into "never" without a loop that could spin.
ENROLL_ATTEMPTS = 5


@dataclass(frozen=True)
class Enrollment:
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: date | None = None
    referral_code: str | None = None
    device_id: str | None = None  # the app's, to spot a friend referring themself


async def enroll(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: Enrollment
) -> Member:
    """The token's subject joins its program, starting in the entry tier with an empty wallet.

    Enrolling is idempotent by subject: a retry with the same input (the app lost the first
    answer) returns the member that enrollment made; a different input is ALREADY_ENROLLED.
    """
    require_role(principal, Role.MEMBER)
    program = await program_of(uow, principal)
    now = clock.now()
    display_name = clean_text(
        command.display_name, ("input", "displayName"), max_length=MAX_DISPLAY_NAME
    )
    email = normalise_email(command.email, ("input", "email"))
    phone = normalise_phone(command.phone, ("input", "phone"))
    birthday = validate_birthday(
        command.birthday, local_date(now, program.time_zone), ("input", "birthday")
    )
    referral_code = clean_text(command.referral_code, ("input", "referralCode"), max_length=32)
    device_id = referrals.device_of(command.device_id)
    asked = (display_name, email, phone, birthday)
    existing = await uow.members.get_by_subject(program.id, principal.subject)
    if existing is not None:
        return await _retried(uow, program, existing, asked, referral_code)
    referrer = await referrals.referrer_for(uow, program, referral_code, email, phone)
    referred_by = referrer.id if referrer is not None else None
    entry_tier = (await uow.tiers.all(program.id))[0]
    for _ in range(ENROLL_ATTEMPTS):
        member = Member(
            id=new_id(),
            program_id=program.id,
            subject=principal.subject,
            card_number=new_card_number(),
            referral_code=new_referral_code(),
            joined_at=now,
            tier_id=entry_tier.id,
            display_name=display_name,
            email=email,
            phone=phone,
            birthday=birthday,
            birthday_set_at=now if birthday is not None else None,
            referred_by=referred_by,
        )
        if await uow.members.add(member, Wallet(program_id=program.id, member_id=member.id)):
            await grant_signup(uow, program, member, now)
            await referrals.on_enrolled(uow, program, member, referrer, device_id, now)
            await uow.commit()
            return member
        # A concurrent enrollment of the same subject won (or a card number clashed).
        existing = await uow.members.get_by_subject(program.id, principal.subject)
        if existing is not None:
            return await _retried(uow, program, existing, asked, referral_code)
    raise RuntimeError("could not allocate a unique card number")


async def _retried(
    uow: UnitOfWork,
    program: Program,
    member: Member,
    asked: tuple[str | None, str | None, str | None, date | None],
    referral_code: str | None,
) -> Member:
    """The existing member when the enrollment asked for exactly what made it, else
    ALREADY_ENROLLED (nothing is changed either way)."""
    same = asked == (member.display_name, member.email, member.phone, member.birthday)
    if same and referral_code is not None:
        referrer = await uow.members.get_by_referral_code(program.id, referral_code.upper())
        same = referrer is not None and referrer.id == member.referred_by
    elif same:
        same = member.referred_by is None
    if not same:
        raise AlreadyEnrolled("You are already a member of this program.")
    return member


async def set_blocked(
    uow: UnitOfWork,
    clock: Clock,
    principal: Principal,
    member_id: uuid.UUID,
    blocked: bool,
    reason: str,
) -> Member:
    """Admins block a member (no earning, spending or scanning) or lift the block; audited."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    text = clean_text(reason, ("input", "reason"), max_length=500, required=True) or ""
    now = clock.now()
    member = await member_for(uow, principal, program, member_id, ("input", "memberId"), now)
    await uow.members.set_blocked(program.id, member.id, blocked)
    action = "block" if blocked else "unblock"
    await uow.instore.add_audit(
        audit.event(principal, program.id, member.id, action, audit.OK, now, text)
    )
    await uow.commit()
    member.blocked = blocked
    return member
