"""In-store: the windows a scan opens for a store, and the audit log of staff actions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from persistence.tables.core import utc_column


class StaffWindowRow(SQLModel, table=True):
    """A store may act for a member until `expires_at` (one row per store and member)."""

    __tablename__ = "staff_window"

    program_id: uuid.UUID = Field(primary_key=True, foreign_key="program.id")
    store: str = Field(primary_key=True, sa_column_kwargs={}, max_length=200)
    member_id: uuid.UUID = Field(primary_key=True, foreign_key="member.id")
    opened_by: str = Field(max_length=240)
    expires_at: datetime = Field(sa_column=utc_column())


class AuditEventRow(SQLModel, table=True):
    """Who did what to which member, from which store, with what outcome. Append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_program_time", "program_id", "occurred_at", "id"),
        Index("ix_audit_actor_outcome_time", "program_id", "actor", "outcome", "occurred_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    actor: str = Field(sa_column=Column(String(240), nullable=False))
    role: str = Field(max_length=10)
    store: str | None = Field(default=None, max_length=200)
    member_id: uuid.UUID | None = Field(default=None, foreign_key="member.id", index=True)
    action: str = Field(max_length=40)
    outcome: str = Field(max_length=40)
    detail: str = Field(default="", max_length=500)
    occurred_at: datetime = Field(sa_column=utc_column())
