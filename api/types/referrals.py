"""Referrals: the program's referral settings, a member's referrals and milestone progress,
and the admins' review list (`referralsForReview`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from api import ids
from api.context import Info
from api.pagination import (
    After,
    Connection,
    Edge,
    First,
    decode_cursor,
    encode_cursor,
    page_info,
    page_size,
)
from api.permissions import AdminOnly
from api.types.node import Node
from api.types.program import Money
from domain import access, referrals
from domain.errors import AccessDenied
from domain.model import Member as DomainMember
from domain.model import Role
from domain.services import referrals as service

MEMBER_CURSOR = "rf"
REVIEW_CURSOR = "rv"


@strawberry.enum(description="Where a referral stands.")
class ReferralStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="Waiting for the friend's first qualifying purchase."
    )
    QUALIFIED = strawberry.enum_value(
        "QUALIFIED", description="The friend's first qualifying purchase landed; paid."
    )
    REJECTED = strawberry.enum_value("REJECTED", description="Refused by the brand; never pays.")
    VOID = strawberry.enum_value("VOID", description="Recorded but never pays; `reason` says why.")
    HELD_FOR_REVIEW = strawberry.enum_value(
        "HELD_FOR_REVIEW",
        description="Looks like a self-referral (`reason`); the brand approves or rejects it.",
    )


@strawberry.enum(description="Why a referral does not pay, or not yet.")
class ReferralReason(Enum):
    MONTHLY_CAP = strawberry.enum_value(
        "MONTHLY_CAP", description="The referrer reached the program's referrals this month."
    )
    REFERRER_BLOCKED = strawberry.enum_value(
        "REFERRER_BLOCKED", description="The referrer is blocked."
    )
    SAME_DEVICE = strawberry.enum_value(
        "SAME_DEVICE", description="The friend enrolled on a device the referrer used."
    )
    SAME_PAYMENT = strawberry.enum_value(
        "SAME_PAYMENT", description="The friend paid with the referrer's card or account."
    )
    REJECTED_BY_ADMIN = strawberry.enum_value(
        "REJECTED_BY_ADMIN", description="The brand rejected it."
    )


@strawberry.type(description="A step of the referral ladder: paid once when reached.")
class ReferralMilestone:
    count: int = strawberry.field(description="Successful referrals that reach it.")
    points: int = strawberry.field(description="Points paid when reached (0: none).")
    reward_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the reward issued as a voucher when reached; null: none."
    )

    @classmethod
    def from_domain(cls, milestone: referrals.Milestone) -> ReferralMilestone:
        reward = ids.encode("Reward", milestone.reward_id) if milestone.reward_id else None
        return cls(
            count=milestone.count,
            points=milestone.points,
            reward_id=strawberry.ID(reward) if reward else None,
        )


@strawberry.type(description="How the program rewards referrals (`updateReferralProgram`).")
class ReferralProgram:
    welcome_points: int = strawberry.field(
        description="Points the new member gets on enrolling with a friend's code."
    )
    welcome_reward_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the reward the new member gets as a free voucher (e.g. "
        "10 % off the first order); null: none."
    )
    referrer_points: int = strawberry.field(
        description="Points the referrer gets when the friend's first qualifying purchase "
        "lands (after the hold period, not refunded)."
    )
    min_purchase: Money = strawberry.field(
        description="Smallest purchase (after refunds) that qualifies."
    )
    monthly_cap: int | None = strawberry.field(
        description="Referrals per referrer per month (program's time zone) that can pay; "
        "more are recorded VOID (MONTHLY_CAP). Null: no cap."
    )
    milestones: list[ReferralMilestone] = strawberry.field(
        description="The ladder, lowest count first; each step is paid once."
    )
    normalised_domains: list[str] = strawberry.field(
        description="Email domains whose dots and +tags are ignored when telling whether "
        "a friend is the referrer (case is always ignored)."
    )
    link_template: str | None = strawberry.field(
        description="The referral link with `{code}` for the member's code; null: no link."
    )

    @classmethod
    def from_domain(cls, settings: referrals.ReferralSettings, currency: str) -> ReferralProgram:
        welcome = settings.welcome_reward_id
        return cls(
            welcome_points=settings.welcome_points,
            welcome_reward_id=strawberry.ID(ids.encode("Reward", welcome)) if welcome else None,
            referrer_points=settings.referrer_points,
            min_purchase=Money(amount_minor=settings.min_purchase_minor, currency=currency),
            monthly_cap=settings.monthly_cap,
            milestones=[ReferralMilestone.from_domain(m) for m in settings.milestones],
            normalised_domains=list(settings.normalised_domains),
            link_template=settings.link_template,
        )


@strawberry.type(description="A friend a member referred, as the referrer and admins see it.")
class Referral(Node):
    referee_display_name: str | None = strawberry.field(
        description="The friend's display name; null when they gave none."
    )
    status: ReferralStatus = strawberry.field(description="Where the referral stands.")
    reason: ReferralReason | None = strawberry.field(
        description="Why it is void, held or rejected; null otherwise."
    )
    points: int = strawberry.field(description="Points the referrer got for it (0 until paid).")
    created_at: datetime = strawberry.field(description="When the friend enrolled.")
    qualified_at: datetime | None = strawberry.field(
        description="When the friend's first qualifying purchase paid it; null before."
    )
    referral: strawberry.Private[referrals.Referral]

    @classmethod
    def from_domain(cls, referral: referrals.Referral, name: str | None) -> Referral:
        return cls(
            id=strawberry.ID(ids.encode("Referral", referral.id)),
            referee_display_name=name,
            status=ReferralStatus[referral.status.value],
            reason=ReferralReason[referral.reason.value] if referral.reason else None,
            points=referral.referrer_points,
            created_at=referral.created_at,
            qualified_at=referral.qualified_at,
            referral=referral,
        )

    @strawberry.field(
        description="Admins: the referrer's global ID (`Member.id`); null for others."
    )
    def referrer_id(self, info: Info) -> strawberry.ID | None:
        if info.context.caller().role is not Role.ADMIN:
            return None
        return strawberry.ID(ids.encode("Member", self.referral.referrer_id))

    @strawberry.field(description="Admins: the friend's global ID (`Member.id`); null for others.")
    def referee_id(self, info: Info) -> strawberry.ID | None:
        if info.context.caller().role is not Role.ADMIN:
            return None
        return strawberry.ID(ids.encode("Member", self.referral.referee_id))

    @strawberry.field(description="Admins: the note given when rejecting; null for others.")
    def note(self, info: Info) -> str | None:
        return self.referral.note if info.context.caller().role is Role.ADMIN else None


@strawberry.type(
    name="ReferralConnection",
    description="A page of referrals; page with `first` and `after`.",
)
class ReferralConnection(Connection[Referral]):
    pass


@strawberry.type(description="A member's way up the referral ladder.")
class ReferralProgress:
    successful_count: int = strawberry.field(description="Referrals that qualified so far.")
    next_milestone: ReferralMilestone | None = strawberry.field(
        description="The next step of the ladder; null at the top or without a ladder."
    )
    referrals_to_next: int | None = strawberry.field(
        description="Successful referrals still needed for it; null without one."
    )


def _position(cursor: str | None, kind: str) -> tuple[datetime, uuid.UUID] | None:
    found = decode_cursor(cursor, kind, datetime, uuid.UUID)
    return (found[0], found[1]) if found is not None else None


def _ensure_own(info: Info, member: DomainMember) -> None:
    if not access.can_read_personal_data(info.context.caller(), member):
        raise AccessDenied("Only the member themself and admins see their referrals.")


async def member_referrals(
    info: Info, member: DomainMember, first: int | None, after: str | None
) -> ReferralConnection:
    """A member's referrals, newest first: the member themself and admins."""
    _ensure_own(info, member)
    size = page_size(first)
    before = _position(after, MEMBER_CURSOR)
    async with info.context.reader() as uow:
        found = await service.my_referrals(uow, member.program_id, member.id, size + 1, before)
    edges = [
        Edge(
            cursor=encode_cursor(MEMBER_CURSOR, r.created_at, r.id),
            node=Referral.from_domain(r, name),
        )
        for r, name in found[:size]
    ]
    return ReferralConnection(edges=edges, page_info=page_info(edges, len(found) > size, after))


async def referral_link(info: Info, member: DomainMember) -> str | None:
    async with info.context.reader() as uow:
        settings = await uow.referrals.settings(member.program_id)
    return referrals.link(settings.link_template, member.referral_code)


async def referral_progress(info: Info, member: DomainMember) -> ReferralProgress:
    _ensure_own(info, member)
    async with info.context.reader() as uow:
        found = await service.progress(uow, member.program_id, member.id)
    nxt = found.next
    return ReferralProgress(
        successful_count=found.successful,
        next_milestone=ReferralMilestone.from_domain(nxt) if nxt else None,
        referrals_to_next=nxt.count - found.successful if nxt else None,
    )


async def resolve_referral(info: Info, referral_id: uuid.UUID) -> Referral | None:
    """A referral by global ID: admins, and the referrer; null for everyone else."""
    principal = info.context.caller()
    program = await info.context.program()
    async with info.context.reader() as uow:
        found = await uow.referrals.get(program.id, referral_id)
        if found is None:
            return None
        referee = await uow.members.get(program.id, found.referee_id)
        if principal.role is not Role.ADMIN:
            me = await uow.members.get_by_subject(program.id, principal.subject)
            if principal.role is not Role.MEMBER or me is None or me.id != found.referrer_id:
                return None
    return Referral.from_domain(found, referee.display_name if referee else None)


@strawberry.type(description="Reading referrals.")
class ReferralQueries:
    @strawberry.field(
        description="Admins: referrals held for review (same device or payment as the "
        "referrer), oldest first; `approveReferral` or `rejectReferral` each.",
        permission_classes=[AdminOnly],
    )
    async def referrals_for_review(
        self, info: Info, first: First = None, after: After = None
    ) -> ReferralConnection:
        context = info.context
        size = page_size(first)
        position = _position(after, REVIEW_CURSOR)
        program = await context.program()
        async with context.reader() as uow:
            found = await service.for_review(uow, context.caller(), size + 1, position)
            names = {
                m.id: m.display_name
                for m in await uow.members.get_many(program.id, [r.referee_id for r in found])
            }
        edges = [
            Edge(
                cursor=encode_cursor(REVIEW_CURSOR, r.created_at, r.id),
                node=Referral.from_domain(r, names.get(r.referee_id)),
            )
            for r in found[:size]
        ]
        return ReferralConnection(edges=edges, page_info=page_info(edges, len(found) > size, after))
