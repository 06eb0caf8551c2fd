"""Points payments at the till and the lots they drew on."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.payments import PaymentTake, PointsPayment
from persistence.tables import PointsPaymentRow, PointsPaymentTakeRow

payments_t = PointsPaymentRow.__table__  # type: ignore[attr-defined]
payment_takes_t = PointsPaymentTakeRow.__table__  # type: ignore[attr-defined]


class SqlPaymentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, payment: PointsPayment, takes: Sequence[PaymentTake]) -> None:
        await self.conn.execute(
            insert(payments_t).values(
                id=payment.id,
                program_id=payment.program_id,
                member_id=payment.member_id,
                order_id=payment.order_id,
                points=payment.points,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                paid_at=payment.paid_at,
                refunded_at=payment.refunded_at,
            )
        )
        if takes:
            await self.conn.execute(
                insert(payment_takes_t),
                [
                    {
                        "payment_id": payment.id,
                        "lot_id": take.lot_id,
                        "program_id": payment.program_id,
                        "points": take.points,
                        "expires_at": take.expires_at,
                    }
                    for take in takes
                ],
            )

    async def get(self, program_id: uuid.UUID, order_id: str) -> PointsPayment | None:
        row = (
            await self.conn.execute(
                select(payments_t).where(
                    payments_t.c.program_id == program_id, payments_t.c.order_id == order_id
                )
            )
        ).first()
        if row is None:
            return None
        return PointsPayment(
            id=row.id,
            program_id=row.program_id,
            member_id=row.member_id,
            order_id=row.order_id,
            points=int(row.points),
            amount_minor=int(row.amount_minor),
            currency=row.currency,
            paid_at=row.paid_at,
            refunded_at=row.refunded_at,
        )

    async def takes(
        self, program_id: uuid.UUID, payment_id: uuid.UUID
    ) -> list[tuple[int, datetime | None]]:
        result = await self.conn.execute(
            select(payment_takes_t.c.points, payment_takes_t.c.expires_at)
            .where(
                payment_takes_t.c.program_id == program_id,
                payment_takes_t.c.payment_id == payment_id,
            )
            .order_by(payment_takes_t.c.expires_at, payment_takes_t.c.lot_id)
        )
        return [(int(points), expires_at) for points, expires_at in result]

    async def mark_refunded(
        self, program_id: uuid.UUID, payment_id: uuid.UUID, now: datetime
    ) -> bool:
        result = await self.conn.execute(
            update(payments_t)
            .where(
                payments_t.c.program_id == program_id,
                payments_t.c.id == payment_id,
                payments_t.c.refunded_at.is_(None),
            )
            .values(refunded_at=now)
        )
        return result.rowcount == 1
