"""The tables. Every one carries `program_id`, and every query filters on it.

SQLModel classes define the schema; repositories use their `__table__` with
SQLAlchemy Core, which keeps hot paths free of ORM bookkeeping.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from persistence.types import UTCDateTime


def utc_column(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


class ProgramRow(SQLModel, table=True):
    __tablename__ = "program"

    id: uuid.UUID = Field(primary_key=True)
    slug: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    name: str = Field(max_length=80)
    points_name: str = Field(max_length=40)
    currency: str = Field(max_length=3)
    earn_points: int
    earn_per_amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())
    # Paying with points at the till: point_value_points buy point_value_minor.
    point_value_points: int = Field(default=100)
    point_value_minor: int = Field(default=100)
    pay_min_points: int = Field(default=100)
    pay_max_points: int | None = Field(default=None)
    # In-store: which lookups staff may use and how long a scan opens a window.
    allow_card_lookup: bool = Field(default=True)
    allow_phone_lookup: bool = Field(default=False)
    staff_window_minutes: int = Field(default=10)
    # Points policy and earning rules.
    hold_days: int = Field(default=0)
    expiry_policy: str = Field(default="NONE", max_length=20)
    expiry_months: int = Field(default=12)
    expiry_month_end: bool = Field(default=False)
    qualifying_period: str = Field(default="CALENDAR_YEAR", max_length=20)
    category_multipliers: dict = Field(  # type: ignore[type-arg]
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    bonus_threshold_minor: int | None = Field(default=None)
    bonus_points: int = Field(default=0)
    time_zone: str = Field(
        default="UTC", sa_column=Column(String(64), nullable=False, server_default="UTC")
    )


class TierRow(SQLModel, table=True):
    __tablename__ = "tier"
    __table_args__ = (
        UniqueConstraint("program_id", "rank"),
        UniqueConstraint("program_id", "name"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    name: str = Field(max_length=80)
    rank: int
    threshold: int = Field(sa_column=Column(BigInteger, nullable=False))
    multiplier_permille: int
    benefits: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    paid_fee_minor: int | None = None
    reduced_fee_minor: int | None = None
    reduced_from_points: int | None = None


class MemberRow(SQLModel, table=True):
    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("program_id", "subject"),
        UniqueConstraint("program_id", "card_number"),
        UniqueConstraint("program_id", "referral_code"),
        Index("ix_member_program_phone", "program_id", "phone"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    subject: str = Field(max_length=200)
    card_number: str = Field(max_length=19)
    referral_code: str = Field(max_length=16)
    display_name: str | None = Field(default=None, max_length=80)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    birthday: date | None = None
    # When the birthday was given: a birthday given too shortly before it pays nothing
    # that year (domain/actions.py BIRTHDAY_NOTICE_DAYS). Null: given before this was kept.
    birthday_set_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    joined_at: datetime = Field(sa_column=utc_column())
    tier_id: uuid.UUID = Field(foreign_key="tier.id")
    referred_by: uuid.UUID | None = Field(default=None, foreign_key="member.id")
    blocked: bool = False
    # The card secret is derived from the server key and this generation, never stored.
    card_generation: int = Field(default=0)
    # Highest TOTP step accepted at a till: that code and older ones are spent.
    card_last_step: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    tier_valid_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    paid_tier_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class WalletRow(SQLModel, table=True):
    __tablename__ = "wallet"

    member_id: uuid.UUID = Field(primary_key=True, foreign_key="member.id")
    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    balance: int = Field(sa_column=Column(BigInteger, nullable=False))
    pending: int = Field(sa_column=Column(BigInteger, nullable=False))
    lifetime_earned: int = Field(sa_column=Column(BigInteger, nullable=False))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())
    # Last earn or spend, for the "expire after N months without activity" policy.
    last_activity_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class LedgerEntryRow(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # One entry per wallet version: two writers can never both post version N.
        UniqueConstraint("member_id", "version"),
        CheckConstraint("points <> 0", name="ck_ledger_entry_points_nonzero"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    member_id: uuid.UUID = Field(foreign_key="member.id")
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(max_length=16)
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    description: str = Field(max_length=600)
    reference: str = Field(max_length=240)
    actor: str = Field(max_length=240)
    occurred_at: datetime = Field(sa_column=utc_column())


class LotRow(SQLModel, table=True):
    __tablename__ = "lot"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="ck_lot_remaining"),
        Index("ix_lot_member_open", "member_id", "expires_at"),
        Index("ix_lot_expires", "program_id", "expires_at"),
        Index("ix_lot_held", "program_id", "held", "available_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    member_id: uuid.UUID = Field(foreign_key="member.id")
    entry_id: uuid.UUID = Field(foreign_key="ledger_entry.id")
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    remaining: int = Field(sa_column=Column(BigInteger, nullable=False))
    available_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    held: bool = Field(default=False)
    released_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class IdempotencyKeyRow(SQLModel, table=True):
    """A used key and the answer to replay; written in the same transaction as the effect."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("program_id", "scope", "key"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    scope: str = Field(max_length=40)
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    response: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    created_at: datetime = Field(sa_column=utc_column())


metadata = SQLModel.metadata
