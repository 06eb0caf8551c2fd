"""Referrals: the program's settings, one record per referee, milestones paid, and the
device and payment signals that flag suspicious referrals."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from persistence.tables.core import utc_column


class ReferralSettingsRow(SQLModel, table=True):
    __tablename__ = "referral_settings"

    program_id: uuid.UUID = Field(primary_key=True, foreign_key="program.id")
    welcome_points: int = Field(default=0)
    welcome_reward_id: uuid.UUID | None = Field(default=None, foreign_key="reward.id")
    referrer_points: int = Field(default=0)
    min_purchase_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    monthly_cap: int | None = Field(default=None)
    # [[count, points, reward id or null], ...], lowest count first
    milestones: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    normalised_domains: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    link_template: str | None = Field(default=None, sa_column=Column(String(300), nullable=True))
    updated_at: datetime = Field(sa_column=utc_column())


class ReferralRow(SQLModel, table=True):
    """One per referee; the status moves only by conditional updates (race-safe)."""

    __tablename__ = "referral"
    __table_args__ = (
        UniqueConstraint("program_id", "referee_id"),
        Index("ix_referral_referrer", "program_id", "referrer_id", "created_at"),
        Index("ix_referral_status", "program_id", "status", "created_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    referrer_id: uuid.UUID = Field(foreign_key="member.id")
    referee_id: uuid.UUID = Field(foreign_key="member.id")
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=30)
    created_at: datetime = Field(sa_column=utc_column())
    qualified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    referrer_points: int = Field(default=0)
    welcome_paid: bool = Field(default=False)
    order_id: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)


class ReferralMilestoneRow(SQLModel, table=True):
    """A milestone paid to a referrer: the unique key makes it once, however many race."""

    __tablename__ = "referral_milestone"
    __table_args__ = (UniqueConstraint("program_id", "referrer_id", "count"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    referrer_id: uuid.UUID = Field(foreign_key="member.id")
    count: int
    paid_at: datetime = Field(sa_column=utc_column())


class MemberSignalRow(SQLModel, table=True):
    """A digest of a device id or payment fingerprint a member was seen with."""

    __tablename__ = "member_signal"
    __table_args__ = (UniqueConstraint("program_id", "member_id", "kind", "digest"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    member_id: uuid.UUID = Field(foreign_key="member.id")
    kind: str = Field(max_length=10)
    digest: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=utc_column())
