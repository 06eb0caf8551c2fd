"""Reading the catalog and redemptions: the `rewards` root field, `Member.redemptions`,
and resolving rewards, partners and redemptions by global ID."""

from __future__ import annotations

import uuid
from datetime import datetime

from api import ids
from api.context import Info
from api.pagination import (
    NO_ITEMS,
    Connection,
    Edge,
    connection,
    decode_cursor,
    encode_cursor,
    page_info,
    page_size,
)
from api.types.instore import AuditEvent
from api.types.node import Node
from api.types.rewards import (
    Partner,
    Redemption,
    RedemptionConnection,
    RedemptionStatus,
    Reward,
    RewardConnection,
)
from domain import access
from domain.rewards import RedemptionStatus as DomainStatus
from domain.services import catalog


async def rewards_page(info: Info, first: int | None, after: str | None) -> RewardConnection:
    size = page_size(first)
    keyset = decode_cursor(after, "rw", int, uuid.UUID)
    context = info.context
    currency = (await context.program()).currency
    async with context.reader() as uow:
        page = await catalog.browse(
            uow, context.runtime.clock, context.caller(), limit=size, after=keyset
        )
    edges = [
        Edge(
            cursor=encode_cursor("rw", e.reward.points_cost, e.reward.id),
            node=Reward.from_domain(e.reward, currency, (e.unavailable, e.affordable)),
        )
        for e in page.entries
    ]

    async def count() -> int:
        async with context.reader() as uow:
            return await catalog.count_catalog(uow, page.scope)

    return RewardConnection(
        edges=edges,
        page_info=page_info(edges, page.has_next, after),
        counter=count if page.scope is not None else NO_ITEMS,
    )


async def redemptions_page(
    info: Info,
    member_id: uuid.UUID,
    first: int | None,
    after: str | None,
    status: list[RedemptionStatus] | None,
) -> RedemptionConnection:
    size = page_size(first)
    before = decode_cursor(after, "rd", datetime, uuid.UUID)
    statuses = [DomainStatus[s.name] for s in status] if status else None
    program = await info.context.program()
    async with info.context.reader() as uow:
        found = await uow.rewards.member_redemptions(
            program.id, member_id, statuses=statuses, limit=size + 1, before=before
        )
    edges = [
        Edge(
            cursor=encode_cursor("rd", r.created_at, r.id),
            node=Redemption.from_domain(r),
        )
        for r in found[:size]
    ]

    async def count() -> int:
        async with info.context.reader() as uow:
            return await uow.rewards.member_redemptions_count(
                program.id, member_id, statuses=statuses
            )

    return RedemptionConnection(
        edges=edges, page_info=page_info(edges, len(found) > size, after), counter=count
    )


async def audit_page(
    info: Info, first: int | None, after: str | None, member_id: str | None
) -> Connection[AuditEvent]:
    size = page_size(first)
    before = decode_cursor(after, "au", datetime, uuid.UUID)
    member = ids.decode(member_id, "Member", ("memberId",)) if member_id else None
    program = await info.context.program()
    async with info.context.reader() as uow:
        events = await uow.instore.audit_page(
            program.id, member_id=member, limit=size + 1, before=before
        )
    edges = [
        Edge(
            cursor=encode_cursor("au", e.occurred_at, e.id),
            node=AuditEvent.from_domain(e),
        )
        for e in events[:size]
    ]
    return connection(edges, len(events) > size, after)


async def resolve_catalog_node(info: Info, type_name: str, value: uuid.UUID) -> Node | None:
    """Reward, Partner or Redemption by ID, if the caller may see it; else None."""
    context = info.context
    principal = context.caller()
    loaders = await context.loaders()
    partner_id = await loaders.partner_id()
    if type_name == "Reward":
        reward = await loaders.rewards.load(value)
        if reward is None or not access.can_see_reward(
            principal, partner_id, reward.partner_id, reward.archived
        ):
            return None
        return Reward.from_domain(reward, (await context.program()).currency)
    if type_name == "Partner":
        partner = await loaders.partners.load(value)
        if partner is None or (principal.role.value == "partner" and partner.id != partner_id):
            return None
        return Partner.from_domain(partner)
    if type_name == "Redemption":
        redemption = await loaders.redemptions.load(value)
        if redemption is None:
            return None
        reward = await loaders.rewards.load(redemption.reward_id)
        now = context.runtime.clock.now()
        async with context.reader() as uow:
            member = await uow.members.get(redemption.program_id, redemption.member_id)
            if member is None or not await access.may_see_redemption(
                uow, principal, member, partner_id, reward.partner_id if reward else None, now
            ):
                return None
        return Redemption.from_domain(redemption)
    return None
