"""Earning actions: the program's catalog and the records of members earning them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from persistence.tables.core import utc_column


class EarningActionRow(SQLModel, table=True):
    """An action of the catalog; `slot` is set while live for kinds a program has one of
    (signup, birthday, a follow per network), so the unique constraint keeps it so."""

    __tablename__ = "earning_action"
    __table_args__ = (
        UniqueConstraint("program_id", "key"),
        UniqueConstraint("program_id", "slot"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    key: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=500)
    points: int | None = Field(default=None)
    reward_id: uuid.UUID | None = Field(default=None, foreign_key="reward.id")
    lifetime_limit: int | None = Field(default=None)
    limit_period: str | None = Field(default=None, max_length=8)
    period_limit: int | None = Field(default=None)
    reported_by: str = Field(max_length=16)
    network: str | None = Field(default=None, max_length=32)
    starts_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ends_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    archived_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    slot: str | None = Field(default=None, max_length=64)


class ActionRecordRow(SQLModel, table=True):
    """A member earned an action once. Automatic grants carry a `grant_key` ("signup",
    "birthday:2027") unique per member and action: two job runners pay once."""

    __tablename__ = "action_record"
    __table_args__ = (
        UniqueConstraint("program_id", "member_id", "action_id", "grant_key"),
        Index("ix_action_record_counting", "program_id", "member_id", "action_id", "occurred_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    member_id: uuid.UUID = Field(foreign_key="member.id")
    action_id: uuid.UUID = Field(foreign_key="earning_action.id")
    points: int
    event_id: str | None = Field(default=None, max_length=200)
    grant_key: str | None = Field(default=None, max_length=40)
    entry_id: uuid.UUID | None = Field(default=None)
    redemption_id: uuid.UUID | None = Field(default=None)
    actor: str = Field(max_length=240)
    occurred_at: datetime = Field(sa_column=utc_column())
