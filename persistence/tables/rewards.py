"""Partners, the reward catalog, redemptions and which lots each redemption drew on."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from persistence.tables.core import utc_column


class PartnerRow(SQLModel, table=True):
    __tablename__ = "partner"
    __table_args__ = (UniqueConstraint("program_id", "slug"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    slug: str = Field(sa_column=Column(String(40), nullable=False))
    name: str = Field(max_length=80)
    created_at: datetime = Field(sa_column=utc_column())


class RewardRow(SQLModel, table=True):
    __tablename__ = "reward"
    __table_args__ = (
        # Stock can never be oversold: the database refuses a negative remainder.
        CheckConstraint("stock IS NULL OR stock >= 0", name="ck_reward_stock_nonnegative"),
        CheckConstraint("points_cost > 0", name="ck_reward_cost_positive"),
        Index("ix_reward_catalog", "program_id", "points_cost", "id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    name: str = Field(max_length=120)
    description: str = Field(max_length=2000)
    kind: str = Field(max_length=20)
    points_cost: int
    stock: int | None = None
    value_minor: int | None = None
    percent_off: int | None = None
    sku: str | None = Field(default=None, max_length=80)
    cause: str | None = Field(default=None, max_length=120)
    category: str | None = Field(default=None, max_length=80)
    # A voucher applies only to orders of at least this total (minor units).
    min_order_minor: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    image_url: str | None = Field(default=None, max_length=500)
    min_tier_id: uuid.UUID | None = Field(default=None, foreign_key="tier.id")
    partner_id: uuid.UUID | None = Field(default=None, foreign_key="partner.id", index=True)
    available_from: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    available_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    early_access_tier_id: uuid.UUID | None = Field(default=None, foreign_key="tier.id")
    early_access_from: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    per_member_limit: int | None = None
    period_limit: int | None = None
    limit_period: str | None = Field(default=None, max_length=10)
    voucher_valid_days: int | None = None
    archived: bool = False
    created_at: datetime = Field(sa_column=utc_column())


class RedemptionRow(SQLModel, table=True):
    __tablename__ = "redemption"
    __table_args__ = (
        UniqueConstraint("program_id", "voucher_code"),
        Index("ix_redemption_member_created", "member_id", "created_at", "id"),
        Index("ix_redemption_reward_member", "reward_id", "member_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    member_id: uuid.UUID = Field(foreign_key="member.id")
    reward_id: uuid.UUID = Field(foreign_key="reward.id")
    status: str = Field(max_length=12)
    points_spent: int
    voucher_code: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    used_by: str | None = Field(default=None, max_length=240)


class RedemptionTakeRow(SQLModel, table=True):
    """The lots a redemption drew on, so a cancellation returns points with their expiry."""

    __tablename__ = "redemption_take"

    redemption_id: uuid.UUID = Field(primary_key=True, foreign_key="redemption.id")
    lot_id: uuid.UUID = Field(primary_key=True, foreign_key="lot.id")
    program_id: uuid.UUID = Field(foreign_key="program.id")
    points: int
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
