"""The till: scanning member cards, looking members up; the app: issuing a card secret."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.context import Info
from api.errors import UserError
from api.mutations.base import attempt
from api.permissions import MemberOnly, StaffOrAdmin
from api.types.instore import CardSecret
from api.types.member import Member
from domain.services import instore


@strawberry.input(description="What the till's scanner read from the member's app.")
class ScanMemberCardInput:
    payload: str = strawberry.field(
        description=(
            "The QR text exactly as scanned, e.g. L1:9123456789012345:48213377 "
            "(`MemberCard.qrPayload`)."
        )
    )


@strawberry.type(
    description="The member a till identified; `member` carries name, tier, wallet, "
    "`usableVouchers` and `affordableRewards` for the till's screen."
)
class ScanMemberCardPayload:
    member: Member | None = strawberry.field(description="The member; null on error.")
    window_expires_at: datetime | None = strawberry.field(
        description="Until when this store may act for the member; null for admins."
    )
    errors: list[UserError] = strawberry.field(
        description="CARD_INVALID, CARD_EXPIRED, CARD_ALREADY_USED, MEMBER_BLOCKED, RATE_LIMITED."
    )


@strawberry.input(description="Find a member without their phone: exactly one of the two.")
class LookupMemberInput:
    card_number: str | None = strawberry.field(
        default=None,
        description=(
            "The member's card number as printed (digits; spaces ignored); leave "
            "out when giving `phone`."
        ),
    )
    phone: str | None = strawberry.field(
        default=None,
        description=(
            "The member's phone in international format, e.g. +4915123456789; leave"
            " out when giving `cardNumber`."
        ),
    )


@strawberry.type(description="Result of `issueCardSecret`.")
class IssueCardSecretPayload:
    card_secret: CardSecret | None = strawberry.field(description="The new secret.")
    errors: list[UserError] = strawberry.field(description="Empty on success.")


def _identified_payload(
    found: instore.Identified | None, errors: list[UserError]
) -> ScanMemberCardPayload:
    if found is None:
        return ScanMemberCardPayload(member=None, window_expires_at=None, errors=errors)
    return ScanMemberCardPayload(
        member=Member.from_domain(found.member),
        window_expires_at=found.window_expires_at,
        errors=[],
    )


@strawberry.type(description="In store.")
class InStoreMutations:
    @strawberry.mutation(
        description="Staff: identify a member from the QR code shown in the app. Opens a "
        "window (10 minutes by default) in which this store may act for the member.",
        permission_classes=[StaffOrAdmin],
    )
    async def scan_member_card(
        self,
        info: Info,
        input: Annotated[
            ScanMemberCardInput,
            strawberry.argument(
                description="The QR text the till's scanner read from the member's app."
            ),
        ],
    ) -> ScanMemberCardPayload:
        context = info.context
        key = context.runtime.settings.card_key_bytes
        found, errors = await attempt(
            context,
            lambda uow: instore.scan_card(
                uow, context.runtime.clock, context.caller(), key, input.payload
            ),
        )
        return _identified_payload(found, errors)

    @strawberry.mutation(
        description="Staff: find a member by card number or phone where the program allows "
        "it; opens a window like a scan.",
        permission_classes=[StaffOrAdmin],
    )
    async def lookup_member(
        self,
        info: Info,
        input: Annotated[
            LookupMemberInput,
            strawberry.argument(
                description=(
                    "Exactly one of cardNumber or phone, where the program allows that lookup."
                )
            ),
        ],
    ) -> ScanMemberCardPayload:
        context = info.context
        found, errors = await attempt(
            context,
            lambda uow: instore.lookup_member(
                uow,
                context.runtime.clock,
                context.caller(),
                card_number=input.card_number,
                phone=input.phone,
            ),
        )
        return _identified_payload(found, errors)

    @strawberry.mutation(
        description="Members: get a new card secret to show codes offline (earlier secrets, "
        "and codes made from them, stop working).",
        permission_classes=[MemberOnly],
    )
    async def issue_card_secret(self, info: Info) -> IssueCardSecretPayload:
        context = info.context
        key = context.runtime.settings.card_key_bytes
        secret, errors = await attempt(
            context, lambda uow: instore.issue_card_secret(uow, context.caller(), key)
        )
        issuer = (await context.program()).slug
        return IssueCardSecretPayload(
            card_secret=CardSecret.from_domain(secret, issuer) if secret else None, errors=errors
        )
