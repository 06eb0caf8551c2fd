"""The monthly leaderboard: settings per program, who opted in, and the bonuses paid."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from persistence.tables.core import LedgerEntryRow, utc_column

_entries = LedgerEntryRow.__table__  # type: ignore[attr-defined]

# The board sums a program's entries of one month: without this, every request would read
# the program's whole ledger.
Index("ix_ledger_entry_program_time", _entries.c.program_id, _entries.c.occurred_at)


class LeaderboardSettingsRow(SQLModel, table=True):
    """A program's leaderboard; no row: the defaults (off)."""

    __tablename__ = "leaderboard_settings"

    program_id: uuid.UUID = Field(primary_key=True, foreign_key="program.id")
    enabled: bool = Field(default=False)
    top_n: int = Field(default=3)
    bonus_points: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    enabled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(sa_column=utc_column())


class LeaderboardOptInRow(SQLModel, table=True):
    """A member who chose to appear on the leaderboard; opting out removes the row."""

    __tablename__ = "leaderboard_opt_in"

    member_id: uuid.UUID = Field(primary_key=True, foreign_key="member.id")
    program_id: uuid.UUID = Field(foreign_key="program.id")
    opted_in_at: datetime = Field(sa_column=utc_column())


class LeaderboardRoundRow(SQLModel, table=True):
    """A month whose bonuses were paid: taken once, in the transaction that pays them."""

    __tablename__ = "leaderboard_round"
    __table_args__ = (UniqueConstraint("program_id", "month"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    month: str = Field(sa_column=Column(String(7), nullable=False))
    paid_at: datetime = Field(sa_column=utc_column())


class LeaderboardPayoutRow(SQLModel, table=True):
    """One member's bonus for one month, and the ledger entry that paid it."""

    __tablename__ = "leaderboard_payout"
    __table_args__ = (UniqueConstraint("program_id", "month", "member_id"),)

    id: uuid.UUID = Field(primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id")
    month: str = Field(sa_column=Column(String(7), nullable=False))
    member_id: uuid.UUID = Field(foreign_key="member.id")
    rank: int
    month_points: int = Field(sa_column=Column(BigInteger, nullable=False))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    entry_id: uuid.UUID = Field(foreign_key="ledger_entry.id")
    paid_at: datetime = Field(sa_column=utc_column())
