"""Earning campaigns as admins manage them (the earning rules read running ones through
persistence/repositories/purchases.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, insert, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.earning import Campaign
from persistence.dialect import locks_rows
from persistence.repositories.purchases import campaigns_t
from persistence.rows import campaign_from_row, campaign_values


class SqlCampaignRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, campaign: Campaign) -> None:
        await self.conn.execute(
            insert(campaigns_t).values(
                id=campaign.id, program_id=campaign.program_id, **campaign_values(campaign)
            )
        )

    async def get(
        self, program_id: uuid.UUID, campaign_id: uuid.UUID, *, lock: bool = False
    ) -> Campaign | None:
        stmt = select(campaigns_t).where(
            campaigns_t.c.program_id == program_id, campaigns_t.c.id == campaign_id
        )
        if lock and locks_rows(self.conn):
            stmt = stmt.with_for_update()  # SQLite write transactions are serialised already
        row = (await self.conn.execute(stmt)).first()
        return campaign_from_row(row) if row is not None else None

    async def update(self, campaign: Campaign) -> None:
        await self.conn.execute(
            update(campaigns_t)
            .where(
                campaigns_t.c.program_id == campaign.program_id,
                campaigns_t.c.id == campaign.id,
            )
            .values(**campaign_values(campaign))
        )

    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        await self.conn.execute(
            update(campaigns_t)
            .where(
                campaigns_t.c.program_id == program_id, campaigns_t.c.min_tier_id == from_tier_id
            )
            .values(min_tier_id=to_tier_id)
        )

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        active: bool | None,
        now: datetime,
    ) -> list[Campaign]:
        c = campaigns_t.c
        stmt = select(campaigns_t).where(*_listed(program_id, active, now))
        if after is not None:
            at, last = after
            stmt = stmt.where(or_(c.starts_at < at, and_(c.starts_at == at, c.id < last)))
        stmt = stmt.order_by(c.starts_at.desc(), c.id.desc()).limit(limit)
        return [campaign_from_row(row) for row in await self.conn.execute(stmt)]

    async def count(self, program_id: uuid.UUID, *, active: bool | None, now: datetime) -> int:
        stmt = (
            select(func.count()).select_from(campaigns_t).where(*_listed(program_id, active, now))
        )
        return int((await self.conn.execute(stmt)).scalar_one())


def _listed(program_id: uuid.UUID, active: bool | None, now: datetime) -> list[ColumnElement[bool]]:
    """The campaigns a page lists and `count` counts (indexed on program_id)."""
    c = campaigns_t.c
    where: list[ColumnElement[bool]] = [c.program_id == program_id]
    running = and_(c.starts_at <= now, c.ends_at > now)
    if active is not None:
        where.append(running if active else not_(running))
    return where
