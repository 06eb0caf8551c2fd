"""Root query fields."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api import ids
from api.campaign_queries import CampaignQueries, resolve_campaign
from api.catalog_queries import audit_page, resolve_catalog_node, rewards_page
from api.context import Info
from api.mutations.leaderboard import LeaderboardQueries
from api.pagination import After, Connection, First
from api.partner_queries import PartnerQueries
from api.permissions import AdminOnly, Authenticated, MemberOnly, StaffOrAdmin
from api.types.actions import ActionQueries, resolve_earning_action
from api.types.challenges import ChallengeQueries, resolve_challenge_node
from api.types.instore import AuditEvent
from api.types.member import Member
from api.types.node import Node
from api.types.program import Program, Tier
from api.types.referrals import ReferralQueries, resolve_referral
from api.types.rewards import RewardConnection
from api.types.wallet import LedgerEntry
from domain import access
from domain.errors import NotFound

# What member(id) answers for a member the caller may not know of: the same null as for
# an ID that names nobody.
_HIDDEN = NotFound("No such member.")


async def _member(
    info: Info, member_id: strawberry.ID, *, refuse_outside_window: bool = False
) -> Member | None:
    """A member of the caller's program that the caller may reach (`access.may_reach_member`),
    else None. Staff outside a window their store opened by scanning the card: `member(id)`
    says so (FORBIDDEN), `node(id)` answers null."""
    parsed = ids.parse(member_id)
    if parsed is None or parsed[0] != "Member":
        return None
    program = await info.context.program()
    principal = info.context.caller()
    now = info.context.runtime.clock.now()
    async with info.context.reader() as uow:
        member = await uow.members.get(program.id, parsed[1])
        if member is None:
            return None
        if refuse_outside_window:
            try:
                await access.ensure_may_reach_member(uow, principal, member, now, _HIDDEN)
            except NotFound:
                return None
        elif not await access.may_reach_member(uow, principal, member, now):
            return None
    return Member.from_domain(member)


async def resolve_node(info: Info, global_id: strawberry.ID) -> Node | None:
    """Any object by global ID, through the same access rules as every other path."""
    parsed = ids.parse(global_id)
    if parsed is None:
        return None
    type_name, value = parsed
    program = await info.context.program()
    if type_name == "Program":
        return Program.from_domain(program) if value == program.id else None
    if type_name == "Tier":
        found = [t for t in await info.context.tiers() if t.id == value]
        return Tier.from_domain(found[0]) if found else None
    if type_name == "Member":
        return await _member(info, global_id)
    if type_name in ("Reward", "Partner", "Redemption"):
        return await resolve_catalog_node(info, type_name, value)
    if type_name == "Campaign":
        return await resolve_campaign(info, value)
    if type_name in ("Challenge", "Badge"):
        return await resolve_challenge_node(info, type_name, value)
    if type_name == "EarningAction":
        return await resolve_earning_action(info, value)
    if type_name == "Referral":
        return await resolve_referral(info, value)
    if type_name == "LedgerEntry":
        now = info.context.runtime.clock.now()
        async with info.context.reader() as uow:
            entries = await uow.ledger.entries(program.id, [value])
            owner = await uow.members.get(program.id, entries[0].member_id) if entries else None
            if owner is None or not await access.may_reach_member(
                uow, info.context.caller(), owner, now
            ):
                return None
        return LedgerEntry.from_domain(entries[0])
    return None


@strawberry.type(description="Reading the program, the caller and members.")
class Query(
    PartnerQueries,
    CampaignQueries,
    ReferralQueries,
    LeaderboardQueries,
    ChallengeQueries,
    ActionQueries,
):
    @strawberry.field(
        description="Any object by its global ID; null when unknown or not visible to the caller.",
        permission_classes=[Authenticated],
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A global ID as returned in any `id` field."),
        ],
    ) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(
        description="The program of the caller's token.", permission_classes=[Authenticated]
    )
    async def program(self, info: Info) -> Program:
        return Program.from_domain(await info.context.program())

    @strawberry.field(
        description="The calling member; null when the token's subject has not enrolled.",
        permission_classes=[MemberOnly],
    )
    async def me(self, info: Info) -> Member | None:
        program = await info.context.program()
        async with info.context.reader() as uow:
            found = await uow.members.get_with_wallet_by_subject(
                program.id, info.context.caller().subject
            )
        if found is None:
            return None
        member, wallet = found
        (await info.context.loaders()).wallets.prime(member.id, wallet)
        return Member.from_domain(member)

    @strawberry.field(
        description="Rewards the caller may see, cheapest first: a member sees the catalog, a "
        "partner its own co-branded rewards, staff the catalog, admins every reward.",
        permission_classes=[Authenticated],
    )
    async def rewards(
        self,
        info: Info,
        first: First = None,
        after: After = None,
    ) -> RewardConnection:
        return await rewards_page(info, first, after)

    @strawberry.field(
        description="Staff and admins: a member of their program by ID; null if there is none.",
        permission_classes=[StaffOrAdmin],
    )
    async def member(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Global ID of the member (`Member.id`)."),
        ],
    ) -> Member | None:
        return await _member(info, id, refuse_outside_window=True)

    @strawberry.field(
        description="Admins: scans, lookups and staff, partner and web shop actions, newest "
        "first. No `totalCount`: the log grows with every scan without bound; page with "
        "`pageInfo.hasNextPage`.",
        permission_classes=[AdminOnly],
    )
    async def audit_log(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        member_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description=(
                    "Global ID of a member (`Member.id`): only events about them; left out:"
                    " all events."
                )
            ),
        ] = None,
    ) -> Connection[AuditEvent]:
        return await audit_page(info, first, after, member_id)
