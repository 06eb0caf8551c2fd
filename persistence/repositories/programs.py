"""Programs and their tiers on SQLAlchemy Core.

A program is its own scope: its statements filter on its id (or its slug, which is
unique); every tier statement filters on `program_id`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Program, Tier
from persistence.dialect import insert_ignoring_conflicts
from persistence.fastpath import Prepared
from persistence.rows import (
    program_from_row,
    program_settings_values,
    programs_t,
    tier_from_row,
    tier_values,
    tiers_t,
)

_PROGRAM_WITH_TIERS = (
    select(programs_t, *[c.label(f"tier_{c.name}") for c in tiers_t.c])
    .join(tiers_t, tiers_t.c.program_id == programs_t.c.id)
    .order_by(tiers_t.c.rank)
)
_PROGRAM_WITH_TIERS_BY_SLUG = Prepared(
    _PROGRAM_WITH_TIERS.where(programs_t.c.slug == bindparam("slug"))
)
_PROGRAM_WITH_TIERS_BY_ID = Prepared(_PROGRAM_WITH_TIERS.where(programs_t.c.id == bindparam("id")))


def _program_with_tiers(rows: Sequence[Any]) -> tuple[Program, list[Tier]] | None:
    if not rows:
        return None
    return program_from_row(rows[0]), [tier_from_row(row, prefix="tier_") for row in rows]


class SqlProgramRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get_by_slug(self, slug: str) -> Program | None:
        result = await self.conn.execute(select(programs_t).where(programs_t.c.slug == slug))
        row = result.first()
        return program_from_row(row) if row else None

    async def add(self, program: Program) -> bool:
        stmt = insert_ignoring_conflicts(self.conn, programs_t).values(
            id=program.id,
            slug=program.slug,
            name=program.name,
            points_name=program.points_name,
            currency=program.currency,
            earn_points=program.earn_rate.points,
            earn_per_amount_minor=program.earn_rate.per_amount_minor,
            created_at=program.created_at,
            **program_settings_values(program),
        )
        result = await self.conn.execute(stmt.returning(programs_t.c.id))
        return result.first() is not None

    async def get_with_tiers(self, slug: str) -> tuple[Program, list[Tier]] | None:
        """The program and its tiers (lowest rank first) in one statement."""
        rows = await _PROGRAM_WITH_TIERS_BY_SLUG.rows(self.conn, {"slug": slug})
        return _program_with_tiers(rows)

    async def get_with_tiers_by_id(
        self, program_id: uuid.UUID
    ) -> tuple[Program, list[Tier]] | None:
        return _program_with_tiers(
            await _PROGRAM_WITH_TIERS_BY_ID.rows(self.conn, {"id": program_id})
        )

    async def update(self, program: Program) -> None:
        await self.conn.execute(
            update(programs_t)
            .where(programs_t.c.id == program.id)
            .values(
                name=program.name,
                points_name=program.points_name,
                earn_points=program.earn_rate.points,
                earn_per_amount_minor=program.earn_rate.per_amount_minor,
                **program_settings_values(program),
            )
        )


class SqlTierRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def all(self, program_id: uuid.UUID) -> list[Tier]:
        result = await self.conn.execute(
            select(tiers_t).where(tiers_t.c.program_id == program_id).order_by(tiers_t.c.rank)
        )
        return [tier_from_row(row) for row in result]

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Tier]:
        if not ids:
            return []
        result = await self.conn.execute(
            select(tiers_t).where(tiers_t.c.program_id == program_id, tiers_t.c.id.in_(set(ids)))
        )
        return [tier_from_row(row) for row in result]

    async def add(self, tier: Tier) -> bool:
        stmt = insert_ignoring_conflicts(self.conn, tiers_t).values(
            id=tier.id,
            program_id=tier.program_id,
            name=tier.name,
            rank=tier.rank,
            threshold=tier.threshold,
            **tier_values(tier),
        )
        result = await self.conn.execute(stmt.returning(tiers_t.c.id))
        return result.first() is not None

    async def remove(self, program_id: uuid.UUID, tier_id: uuid.UUID) -> None:
        await self.conn.execute(
            delete(tiers_t).where(tiers_t.c.program_id == program_id, tiers_t.c.id == tier_id)
        )

    async def set_rank(self, program_id: uuid.UUID, tier_id: uuid.UUID, rank: int) -> None:
        await self.conn.execute(
            update(tiers_t)
            .where(tiers_t.c.program_id == program_id, tiers_t.c.id == tier_id)
            .values(rank=rank)
        )

    async def update(self, tier: Tier) -> None:
        await self.conn.execute(
            update(tiers_t)
            .where(tiers_t.c.program_id == tier.program_id, tiers_t.c.id == tier.id)
            .values(name=tier.name, threshold=tier.threshold, **tier_values(tier))
        )
