"""Reading earning campaigns: the `campaigns` connection and `Campaign` by global ID."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from api.context import Info
from api.pagination import After, Edge, First, decode_cursor, encode_cursor, page_info, page_size
from api.permissions import AdminOnly
from api.types.campaigns import Campaign, CampaignConnection
from domain.model import Role
from domain.services import campaigns

CURSOR = "cp"


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    position = decode_cursor(cursor, CURSOR, datetime, uuid.UUID)
    return (position[0], position[1]) if position is not None else None


@strawberry.type(description="Reading campaigns.")
class CampaignQueries:
    @strawberry.field(
        description="Admins: the program's earning campaigns, latest start first (ended ones "
        "included).",
        permission_classes=[AdminOnly],
    )
    async def campaigns(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        active: Annotated[
            bool | None,
            strawberry.argument(
                description="True: only campaigns running now; false: only those scheduled "
                "or ended; left out: all."
            ),
        ] = None,
    ) -> CampaignConnection:
        context = info.context
        size = page_size(first)
        position = _after(after)
        async with context.reader() as uow:
            page = await campaigns.list_campaigns(
                uow,
                context.runtime.clock,
                context.caller(),
                limit=size,
                after=position,
                active=active,
            )
        edges = [
            Edge(
                cursor=encode_cursor(CURSOR, c.starts_at, c.id),
                node=Campaign.from_domain(c),
            )
            for c in page.campaigns
        ]

        async def count() -> int:
            async with context.reader() as uow:
                return await campaigns.count_campaigns(uow, page, active)

        return CampaignConnection(
            edges=edges, page_info=page_info(edges, page.has_next, after), counter=count
        )


async def resolve_campaign(info: Info, campaign_id: uuid.UUID) -> Campaign | None:
    """A campaign by global ID: admins only; null for everyone else."""
    if info.context.caller().role is not Role.ADMIN:
        return None
    program = await info.context.program()
    async with info.context.reader() as uow:
        found = await uow.campaigns.get(program.id, campaign_id)
    return Campaign.from_domain(found) if found else None
