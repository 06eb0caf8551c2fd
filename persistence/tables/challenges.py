"""Challenges, each member's progress per period, badges and the badges members earned."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from persistence.tables.core import utc_column


class BadgeRow(SQLModel, table=True):
    __tablename__ = "badge"

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    name: str = Field(max_length=120)
    description: str = Field(max_length=2000)
    image_url: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=utc_column())


class ChallengeRow(SQLModel, table=True):
    __tablename__ = "challenge"
    __table_args__ = (Index("ix_challenge_program_starts", "program_id", "starts_at", "id"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    name: str = Field(max_length=120)
    description: str = Field(max_length=2000)
    goal_kind: str = Field(max_length=30)
    target: int = Field(sa_column=Column(BigInteger, nullable=False))
    category: str | None = Field(default=None, max_length=80)
    action_kind: str | None = Field(default=None, max_length=40)
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    period: str | None = Field(default=None, max_length=10)
    tier_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hidden: bool = Field(default=False)
    reward_points: int = Field(default=0)
    reward_id: uuid.UUID | None = Field(default=None, foreign_key="reward.id")
    badge_id: uuid.UUID | None = Field(default=None, foreign_key="badge.id")
    archived_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())


class ChallengeProgressRow(SQLModel, table=True):
    """One member's progress in one period of a challenge (period "" for a fixed window).
    The key makes completion once per member, challenge and period."""

    __tablename__ = "challenge_progress"
    __table_args__ = (Index("ix_challenge_progress_member", "program_id", "member_id"),)

    challenge_id: uuid.UUID = Field(foreign_key="challenge.id", primary_key=True)
    member_id: uuid.UUID = Field(foreign_key="member.id", primary_key=True)
    period_key: str = Field(max_length=20, primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    progress: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    started_at: datetime = Field(sa_column=utc_column())
    completed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class MemberBadgeRow(SQLModel, table=True):
    """A badge a member earned: once each (the key)."""

    __tablename__ = "member_badge"
    __table_args__ = (Index("ix_member_badge_program", "program_id", "member_id"),)

    member_id: uuid.UUID = Field(foreign_key="member.id", primary_key=True)
    badge_id: uuid.UUID = Field(foreign_key="badge.id", primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    challenge_id: uuid.UUID | None = Field(default=None, foreign_key="challenge.id")
    awarded_at: datetime = Field(sa_column=utc_column())
