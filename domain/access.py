"""Who may see and do what. Every read and use case asks here, so no path can skip it."""

from __future__ import annotations

from domain.errors import AccessDenied
from domain.model import Member, Principal, Role


def require_role(principal: Principal, *roles: Role) -> None:
    """FORBIDDEN unless the caller has one of `roles`."""
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise AccessDenied(f"This needs one of the roles: {allowed}.")


def can_read_member(principal: Principal, member: Member) -> bool:
    """Members read themselves; staff and admins read members of their program.

    The program boundary is enforced by every repository call being scoped to the
    caller's program, so a member of another program is never even loaded.
    """
    if principal.role is Role.MEMBER:
        return member.subject == principal.subject
    return principal.role in (Role.STAFF, Role.ADMIN)


def ensure_can_read_member(principal: Principal, member: Member) -> None:
    """FORBIDDEN unless `can_read_member`."""
    if not can_read_member(principal, member):
        raise AccessDenied("You may not access this member.")


def can_read_personal_data(principal: Principal, member: Member) -> bool:
    """Email, phone and birthday: the member themself and admins, never staff or partners."""
    if principal.role is Role.MEMBER:
        return member.subject == principal.subject
    return principal.role is Role.ADMIN


def ensure_may_act_for(principal: Principal, member: Member) -> None:
    """Whether the caller may spend or change this member's points on their behalf.

    Members act for themselves; staff and admins for any member of their program
    (the in-store flow narrows staff to members whose card they scanned).
    """
    if principal.role is Role.MEMBER and member.subject == principal.subject:
        return
    if principal.role in (Role.STAFF, Role.ADMIN):
        return
    raise AccessDenied("You may not act for this member.")


def can_see_reward(
    principal: Principal, partner_id: object, reward_partner_id: object, archived: bool
) -> bool:
    """Partners see their own rewards; members the live catalog; staff and admins all."""
    if principal.role is Role.PARTNER:
        return partner_id is not None and reward_partner_id == partner_id
    if principal.role is Role.MEMBER:
        return not archived
    return True


def can_see_redemption(
    principal: Principal, member: Member, partner_id: object, reward_partner_id: object
) -> bool:
    """A redemption is the member's, the program staff's, and its reward partner's."""
    if principal.role is Role.PARTNER:
        return partner_id is not None and reward_partner_id == partner_id
    return can_read_member(principal, member)


def can_read_card(principal: Principal, member: Member) -> bool:
    """The card and its secret are the member's alone: not staff, partners or admins."""
    return principal.role is Role.MEMBER and member.subject == principal.subject
