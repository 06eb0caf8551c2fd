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
