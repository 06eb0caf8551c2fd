"""Who may see and do what. Every read and use case asks here, so no path can skip it."""

from __future__ import annotations

from datetime import datetime

from domain.errors import AccessDenied, DomainError
from domain.model import Member, Principal, Role
from domain.ports import UnitOfWork
from domain.rewards import Redemption, RedemptionStatus


def require_role(principal: Principal, *roles: Role) -> None:
    """FORBIDDEN unless the caller has one of `roles`."""
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise AccessDenied(f"This needs one of the roles: {allowed}.")


async def may_reach_member(
    uow: UnitOfWork, principal: Principal, member: Member, now: datetime, *, order: bool = False
) -> bool:
    """The one rule for reaching a member's data, whatever the path: `member(id)`, `node(id)`
    of the member, their ledger entries and redemptions, `previewEarn`, and every use case
    that acts for them.

    The member themself and admins always; staff only within a window their store opened
    by scanning the card (or an allowed lookup); partners never (they see of members only
    what a voucher needs, through their own fields). The web shop acts for any member of
    its program, but only in the order calls (`order`: recordPurchase, refundPurchase,
    previewEarn, and recordAction for reviews and the like), server to server as admins
    do, with the member id the app handed it at checkout; it reads nothing of members
    otherwise. The program boundary is kept by every
    repository call being scoped to the caller's program: a member of another program is
    never even loaded.
    """
    if principal.role is Role.SHOP:
        return order
    if principal.role is Role.MEMBER:
        return member.subject == principal.subject
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.STAFF and principal.store:
        expires = await uow.instore.window_expires(member.program_id, principal.store, member.id)
        return expires is not None and expires > now
    return False


async def ensure_may_reach_member(
    uow: UnitOfWork,
    principal: Principal,
    member: Member,
    now: datetime,
    hidden: DomainError,
    *,
    order: bool = False,
) -> None:
    """Raise unless `may_reach_member`. Staff get FORBIDDEN (scanning the card is what they
    can do about it); everyone else gets `hidden`, the very answer for an ID that names
    nothing, so another member's IDs cannot be told from unknown ones."""
    if await may_reach_member(uow, principal, member, now, order=order):
        return
    if principal.role is Role.STAFF:
        raise AccessDenied("Scan the member's card first.")
    raise hidden


def can_read_personal_data(principal: Principal, member: Member) -> bool:
    """Email, phone and birthday: the member themself and admins, never staff or partners."""
    if principal.role is Role.MEMBER:
        return member.subject == principal.subject
    return principal.role is Role.ADMIN


def can_read_wallet_history(principal: Principal) -> bool:
    """A wallet's entries are the member's data: everyone who gets a wallet reached the
    member, except the web shop, which sees the wallet's figures after its own call."""
    return principal.role is not Role.SHOP


def can_see_reward(
    principal: Principal, partner_id: object, reward_partner_id: object, archived: bool
) -> bool:
    """Partners see their own rewards; members and the web shop the live catalog; staff
    and admins all."""
    if principal.role is Role.PARTNER:
        return partner_id is not None and reward_partner_id == partner_id
    if principal.role in (Role.MEMBER, Role.SHOP):
        return not archived
    return True


async def may_see_redemption(
    uow: UnitOfWork,
    principal: Principal,
    member: Member,
    partner_id: object,
    reward_partner_id: object,
    now: datetime,
) -> bool:
    """A redemption is its reward partner's (whose code shows only once used), else the
    member's data under `may_reach_member`."""
    if principal.role is Role.PARTNER:
        return partner_id is not None and reward_partner_id == partner_id
    return await may_reach_member(uow, principal, member, now)


def can_see_voucher_code(principal: Principal, redemption: Redemption, now: datetime) -> bool:
    """A voucher's code is a bearer token worth the partner's payout: partners see it only
    once used (accepting one needs the member's card as well, `use_voucher`). Everyone who
    may see the redemption at all sees it otherwise."""
    if principal.role is Role.PARTNER:
        return redemption.status_at(now) is RedemptionStatus.USED
    return True


def can_read_card(principal: Principal, member: Member) -> bool:
    """The card and its secret are the member's alone: not staff, partners or admins."""
    return principal.role is Role.MEMBER and member.subject == principal.subject
