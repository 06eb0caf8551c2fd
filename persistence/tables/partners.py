"""Partner terms, the partner settlement ledger and closed statements."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from persistence.tables.core import utc_column


class PartnerTermsRow(SQLModel, table=True):
    __tablename__ = "partner_terms"

    partner_id: uuid.UUID = Field(primary_key=True, foreign_key="partner.id")
    program_id: uuid.UUID = Field(foreign_key="program.id")
    earn_points: int = Field(default=10)
    earn_per_amount_minor: int = Field(default=100)
    price_per_100_points_minor: int = Field(default=0)
    payout_per_redemption_minor: int = Field(default=0)
    may_edit_rewards: bool = Field(default=False)


class SettlementEntryRow(SQLModel, table=True):
    """Append-only: what a partner deal produced, valued at the terms of the day."""

    __tablename__ = "partner_settlement"
    __table_args__ = (
        Index("ix_settlement_partner_time", "program_id", "partner_id", "occurred_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    partner_id: uuid.UUID = Field(foreign_key="partner.id")
    kind: str = Field(max_length=20)
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Exact, in hundredths of a minor unit; statements round a period's total once.
    amount_hundredths: int = Field(sa_column=Column(BigInteger, nullable=False))
    reference: str = Field(max_length=240)
    occurred_at: datetime = Field(sa_column=utc_column())


class ClosedStatementRow(SQLModel, table=True):
    """A period closed by an admin: its totals are frozen."""

    __tablename__ = "partner_statement"
    __table_args__ = (UniqueConstraint("program_id", "partner_id", "period"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    partner_id: uuid.UUID = Field(foreign_key="partner.id")
    period: str = Field(max_length=7)
    points_issued: int = Field(sa_column=Column(BigInteger, nullable=False))
    owed_by_partner_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    redemptions: int
    owed_to_partner_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    closed_at: datetime = Field(sa_column=utc_column())
    closed_by: str = Field(max_length=240)
