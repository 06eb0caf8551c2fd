"""Purchases (for refunds) and time-bound earning campaigns."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from persistence.tables.core import utc_column


class PurchaseRow(SQLModel, table=True):
    """What an order earned, and how much of it refunds have taken back."""

    __tablename__ = "purchase"
    __table_args__ = (UniqueConstraint("program_id", "order_id"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    member_id: uuid.UUID = Field(foreign_key="member.id", index=True)
    order_id: str = Field(max_length=200)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    points: int  # earned with it (EARN plus BONUS)
    refunded_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reversed_points: int = Field(default=0)
    entry_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_column=utc_column())
    # What each line earned under which rules (null: recorded before lines were kept), and
    # the units of each line refunded so far.
    earning: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # type: ignore[type-arg]
    refunded_quantities: list[int] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaign"

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    name: str = Field(max_length=120)
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=utc_column())
    multiplier_permille: int
    min_tier_id: uuid.UUID | None = Field(default=None, foreign_key="tier.id")
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
