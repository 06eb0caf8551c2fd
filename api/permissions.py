"""Field permissions: who may resolve a root field at all. Ownership is checked in use cases."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from domain.access import require_role
from domain.model import Role


class _Roles(BasePermission):
    roles: tuple[Role, ...] = ()
    message = "Not allowed."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.caller()  # UNAUTHENTICATED without a valid token
        if self.roles:
            require_role(principal, *self.roles)  # FORBIDDEN for other roles
        return True


class Authenticated(_Roles):
    """Any valid token of the program."""


class MemberOnly(_Roles):
    roles = (Role.MEMBER,)


class MemberOrAdmin(_Roles):
    """Members for themselves, admins for the whole program (e.g. the leaderboard)."""

    roles = (Role.MEMBER, Role.ADMIN)


class StaffOrAdmin(_Roles):
    roles = (Role.STAFF, Role.ADMIN)


class AdminOnly(_Roles):
    roles = (Role.ADMIN,)


class StaffAdminOrShop(_Roles):
    """Those who credit and refund orders: tills, the back office and the web shop."""

    roles = (Role.STAFF, Role.ADMIN, Role.SHOP)


class MemberStaffAdminOrShop(_Roles):
    """Those who price an order in points: the app, tills, the back office, the web shop."""

    roles = (Role.MEMBER, Role.STAFF, Role.ADMIN, Role.SHOP)


class MemberStaffOrAdmin(_Roles):
    """Members for themselves, staff and admins for members of their program."""

    roles = (Role.MEMBER, Role.STAFF, Role.ADMIN)


class StaffAdminOrPartner(_Roles):
    """Those who accept vouchers: tills, the back office and partners."""

    roles = (Role.STAFF, Role.ADMIN, Role.PARTNER)


class PartnerOnly(_Roles):
    roles = (Role.PARTNER,)


class AdminOrPartner(_Roles):
    roles = (Role.ADMIN, Role.PARTNER)
