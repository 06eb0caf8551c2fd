"""Query cost budgets shared by every server process (PostgreSQL only; SQLite keeps them
in the process)."""

from __future__ import annotations

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class CostBucketRow(SQLModel, table=True):
    """One caller's token bucket. A row idle long enough to be full again means the same
    as no row, so such rows may be deleted at any time."""

    __tablename__ = "cost_bucket"

    caller: str = Field(sa_column=Column(Text, primary_key=True))
    tokens: float = Field(description="Points left at `updated_at`.")
    updated_at: float = Field(description="Seconds since the epoch, the servers' clock.")
    charged: bool = Field(description="Whether the last charge fit (read back by the caller).")
