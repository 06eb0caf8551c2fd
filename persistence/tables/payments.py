"""Points payments at the till, and the lots each drew on (so a refund restores expiries)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from persistence.tables.core import utc_column


class PointsPaymentRow(SQLModel, table=True):
    """Points paid towards one order; `refunded_at` once the points went back."""

    __tablename__ = "points_payment"
    __table_args__ = (UniqueConstraint("program_id", "order_id"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    member_id: uuid.UUID = Field(foreign_key="member.id", index=True)
    order_id: str = Field(max_length=200)
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    paid_at: datetime = Field(sa_column=utc_column())
    refunded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class PointsPaymentTakeRow(SQLModel, table=True):
    """The lots a points payment drew on, with the expiry the points had there."""

    __tablename__ = "points_payment_take"

    payment_id: uuid.UUID = Field(primary_key=True, foreign_key="points_payment.id")
    lot_id: uuid.UUID = Field(primary_key=True, foreign_key="lot.id")
    program_id: uuid.UUID = Field(foreign_key="program.id")
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
