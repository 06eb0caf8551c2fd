"""Purchases (what each order earned, for refunds) and earning campaigns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.earning import Campaign
from domain.purchases import PurchaseRecord
from persistence.tables import CampaignRow, PurchaseRow

purchases_t = PurchaseRow.__table__  # type: ignore[attr-defined]
campaigns_t = CampaignRow.__table__  # type: ignore[attr-defined]


def _campaign(row: Row[Any]) -> Campaign:
    return Campaign(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        multiplier_permille=row.multiplier_permille,
        min_tier_id=row.min_tier_id,
        categories=tuple(row.categories or ()),
    )


_INSERT_PURCHASE = insert(purchases_t)  # built once: see persistence.repositories.core
_RUNNING_CAMPAIGNS = select(campaigns_t).where(
    campaigns_t.c.program_id == bindparam("program_id"),
    campaigns_t.c.starts_at <= bindparam("at"),
    campaigns_t.c.ends_at > bindparam("at"),
)


class SqlPurchaseRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        order_id: str,
        amount_minor: int,
        currency: str,
        points: int,
        entry_ids: list[uuid.UUID],
        occurred_at: datetime,
    ) -> None:
        await self.conn.execute(
            _INSERT_PURCHASE,
            dict(
                id=uuid.uuid4(),
                program_id=program_id,
                member_id=member_id,
                order_id=order_id,
                amount_minor=amount_minor,
                currency=currency,
                points=points,
                refunded_minor=0,
                reversed_points=0,
                entry_ids=[e.hex for e in entry_ids],
                occurred_at=occurred_at,
            ),
        )

    async def get(self, program_id: uuid.UUID, order_id: str) -> PurchaseRecord | None:
        row = (
            await self.conn.execute(
                select(purchases_t).where(
                    purchases_t.c.program_id == program_id, purchases_t.c.order_id == order_id
                )
            )
        ).first()
        if row is None:
            return None
        return PurchaseRecord(
            id=row.id,
            member_id=row.member_id,
            order_id=row.order_id,
            amount_minor=row.amount_minor,
            currency=row.currency,
            points=row.points,
            refunded_minor=row.refunded_minor,
            reversed_points=row.reversed_points,
            entry_ids=tuple(uuid.UUID(hex=e) for e in row.entry_ids or ()),
        )

    async def add_refund(
        self, program_id: uuid.UUID, purchase_id: uuid.UUID, refunded_minor: int, points: int
    ) -> None:
        await self.conn.execute(
            update(purchases_t)
            .where(purchases_t.c.program_id == program_id, purchases_t.c.id == purchase_id)
            .values(
                refunded_minor=purchases_t.c.refunded_minor + refunded_minor,
                reversed_points=purchases_t.c.reversed_points + points,
            )
        )

    async def campaigns(self, program_id: uuid.UUID, at: datetime) -> list[Campaign]:
        """Campaigns running at `at`."""
        result = await self.conn.execute(_RUNNING_CAMPAIGNS, {"program_id": program_id, "at": at})
        return [_campaign(row) for row in result]

    async def all_campaigns(self, program_id: uuid.UUID) -> list[Campaign]:
        result = await self.conn.execute(
            select(campaigns_t)
            .where(campaigns_t.c.program_id == program_id)
            .order_by(campaigns_t.c.starts_at)
        )
        return [_campaign(row) for row in result]
