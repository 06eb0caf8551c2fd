"""Purchases (what each order earned, for refunds) and earning campaigns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.earning import Campaign, EarnBreakdown, LineEarning
from domain.model import EarnRate
from domain.purchases import PurchaseRecord
from persistence.rows import campaign_from_row
from persistence.tables import CampaignRow, PurchaseRow

purchases_t = PurchaseRow.__table__  # type: ignore[attr-defined]
campaigns_t = CampaignRow.__table__  # type: ignore[attr-defined]


def _earning_json(breakdown: EarnBreakdown) -> dict[str, Any]:
    return {
        "basePoints": breakdown.base_points,
        "points": breakdown.points,
        "bonusPoints": breakdown.bonus_points,
        "reasons": list(breakdown.reasons),
        "rate": [breakdown.rate.points, breakdown.rate.per_amount_minor],
        "tierPermille": breakdown.tier_permille,
        "bonusThresholdMinor": breakdown.bonus_threshold_minor,
        "lines": [
            {
                "sku": line.sku,
                "category": line.category,
                "quantity": line.quantity,
                "unitPriceMinor": line.unit_price_minor,
                "amountMinor": line.amount_minor,
                "categoryPermille": line.category_permille,
                "campaign": line.campaign,
                "campaignPermille": line.campaign_permille,
                "points": line.points,
                "reasons": list(line.reasons),
            }
            for line in breakdown.lines
        ],
    }


def _earning(data: dict[str, Any]) -> EarnBreakdown:
    return EarnBreakdown(
        base_points=data["basePoints"],
        points=data["points"],
        bonus_points=data["bonusPoints"],
        reasons=tuple(data["reasons"]),
        rate=EarnRate(*data["rate"]),
        tier_permille=data["tierPermille"],
        bonus_threshold_minor=data["bonusThresholdMinor"],
        lines=tuple(
            LineEarning(
                sku=line["sku"],
                category=line["category"],
                quantity=line["quantity"],
                unit_price_minor=line["unitPriceMinor"],
                amount_minor=line["amountMinor"],
                category_permille=line["categoryPermille"],
                campaign=line["campaign"],
                campaign_permille=line["campaignPermille"],
                points=line["points"],
                reasons=tuple(line["reasons"]),
            )
            for line in data["lines"]
        ),
    )


_INSERT_PURCHASE = insert(purchases_t)  # built once: see persistence/repositories/ledger.py
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
        earning: EarnBreakdown | None = None,
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
                earning=_earning_json(earning) if earning else None,
                refunded_quantities=[0] * len(earning.lines) if earning else None,
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
            earning=_earning(row.earning) if row.earning else None,
            refunded_quantities=tuple(row.refunded_quantities or ()),
        )

    async def add_refund(
        self,
        program_id: uuid.UUID,
        purchase_id: uuid.UUID,
        refunded_minor: int,
        points: int,
        refunded_quantities: tuple[int, ...] | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "refunded_minor": purchases_t.c.refunded_minor + refunded_minor,
            "reversed_points": purchases_t.c.reversed_points + points,
        }
        if refunded_quantities is not None:  # the caller holds the wallet lock: no lost update
            values["refunded_quantities"] = list(refunded_quantities)
        await self.conn.execute(
            update(purchases_t)
            .where(purchases_t.c.program_id == program_id, purchases_t.c.id == purchase_id)
            .values(**values)
        )

    async def campaigns(self, program_id: uuid.UUID, at: datetime) -> list[Campaign]:
        """Campaigns running at `at`."""
        result = await self.conn.execute(_RUNNING_CAMPAIGNS, {"program_id": program_id, "at": at})
        return [campaign_from_row(row) for row in result]
