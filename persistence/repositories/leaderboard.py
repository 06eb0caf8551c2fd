"""The monthly leaderboard: settings, opt-ins, the month's ranking in one statement, payouts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import leaderboard as rules
from domain.leaderboard import LeaderboardSettings, Standing
from persistence.dialect import insert_ignoring_conflicts
from persistence.rows import entries_t, members_t
from persistence.tables import (
    LeaderboardOptInRow,
    LeaderboardPayoutRow,
    LeaderboardRoundRow,
    LeaderboardSettingsRow,
)

settings_t = LeaderboardSettingsRow.__table__  # type: ignore[attr-defined]
opt_ins_t = LeaderboardOptInRow.__table__  # type: ignore[attr-defined]
rounds_t = LeaderboardRoundRow.__table__  # type: ignore[attr-defined]
payouts_t = LeaderboardPayoutRow.__table__  # type: ignore[attr-defined]

_COUNTED = sorted(kind.value for kind in rules.COUNTED_KINDS)


def _ranking(program_id: uuid.UUID, start: datetime, end: datetime) -> Any:
    """The month's opted-in, unblocked members with points earned, each with their rank
    (ties share it) and position on the board (ties by display name, then id)."""
    e, m, o = entries_t, members_t, opt_ins_t
    points = func.sum(e.c.points)
    totals = (
        select(e.c.program_id, e.c.member_id, m.c.display_name, points.label("points"))
        .select_from(e.join(o, o.c.member_id == e.c.member_id).join(m, m.c.id == e.c.member_id))
        .where(
            e.c.program_id == program_id,
            e.c.occurred_at >= start,
            e.c.occurred_at < end,
            e.c.kind.in_(_COUNTED),
            not_(e.c.reference.startswith(rules.REFERENCE_PREFIX)),
            o.c.program_id == program_id,
            m.c.program_id == program_id,
            m.c.blocked.is_(False),
        )
        .group_by(e.c.program_id, e.c.member_id, m.c.display_name)
        .having(points > 0)
        .cte("totals")
    )
    order = (totals.c.points.desc(), func.coalesce(totals.c.display_name, ""), totals.c.member_id)
    return select(
        totals.c.program_id,
        totals.c.member_id,
        totals.c.display_name,
        totals.c.points,
        func.rank().over(order_by=totals.c.points.desc()).label("rank"),
        func.row_number().over(order_by=order).label("position"),
    ).cte("ranked")


class SqlLeaderboardRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def settings(self, program_id: uuid.UUID) -> LeaderboardSettings:
        row = (
            await self.conn.execute(select(settings_t).where(settings_t.c.program_id == program_id))
        ).first()
        if row is None:
            return LeaderboardSettings()
        return LeaderboardSettings(
            enabled=bool(row.enabled),
            top_n=int(row.top_n),
            bonus_points=tuple(int(p) for p in row.bonus_points),
            enabled_at=row.enabled_at,
        )

    async def save_settings(
        self, program_id: uuid.UUID, settings: LeaderboardSettings, now: datetime
    ) -> None:
        values = {
            "enabled": settings.enabled,
            "top_n": settings.top_n,
            "bonus_points": list(settings.bonus_points),
            "enabled_at": settings.enabled_at,
            "updated_at": now,
        }
        inserted = await self.conn.execute(
            insert_ignoring_conflicts(self.conn, settings_t)
            .values(program_id=program_id, **values)
            .returning(settings_t.c.program_id)
        )
        if inserted.first() is None:  # set before: last write wins, as for updateProgram
            await self.conn.execute(
                update(settings_t).where(settings_t.c.program_id == program_id).values(**values)
            )

    async def opted_in(self, program_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        row = (
            await self.conn.execute(
                select(opt_ins_t.c.member_id).where(
                    opt_ins_t.c.program_id == program_id, opt_ins_t.c.member_id == member_id
                )
            )
        ).first()
        return row is not None

    async def set_opt_in(
        self, program_id: uuid.UUID, member_id: uuid.UUID, opt_in: bool, now: datetime
    ) -> None:
        if opt_in:
            await self.conn.execute(
                insert_ignoring_conflicts(self.conn, opt_ins_t).values(
                    member_id=member_id, program_id=program_id, opted_in_at=now
                )
            )
        else:
            await self.conn.execute(
                delete(opt_ins_t).where(
                    opt_ins_t.c.program_id == program_id, opt_ins_t.c.member_id == member_id
                )
            )

    async def standings(
        self,
        program_id: uuid.UUID,
        start: datetime,
        end: datetime,
        *,
        first: int | None = None,
        me: uuid.UUID | None = None,
        max_rank: int | None = None,
    ) -> list[Standing]:
        ranked = _ranking(program_id, start, end)
        wanted = []
        if first is not None:
            wanted.append(ranked.c.position <= first)
        if me is not None:
            wanted.append(ranked.c.member_id == me)
        if max_rank is not None:
            wanted.append(ranked.c.rank <= max_rank)
        if not wanted:
            return []
        # the program's rows only, already: every WHERE names the program all the same
        result = await self.conn.execute(
            select(ranked)
            .where(ranked.c.program_id == program_id, or_(*wanted))
            .order_by(ranked.c.position)
        )
        return [
            Standing(
                member_id=row.member_id,
                display_name=row.display_name,
                points=int(row.points),
                rank=int(row.rank),
                position=int(row.position),
            )
            for row in result
        ]

    async def round_paid(self, program_id: uuid.UUID, month: str) -> bool:
        found = await self.conn.execute(
            select(rounds_t.c.id).where(
                rounds_t.c.program_id == program_id, rounds_t.c.month == month
            )
        )
        return found.first() is not None

    async def claim_round(self, program_id: uuid.UUID, month: str, now: datetime) -> bool:
        # On PostgreSQL a second claim of the month waits on the unique key until the
        # first transaction ends, then inserts nothing (or takes it, had the first rolled
        # back); SQLite has one writer at a time.
        stmt = insert_ignoring_conflicts(self.conn, rounds_t).values(
            id=uuid.uuid4(), program_id=program_id, month=month, paid_at=now
        )
        return (await self.conn.execute(stmt.returning(rounds_t.c.id))).first() is not None

    async def add_payout(
        self,
        program_id: uuid.UUID,
        month: str,
        standing: Standing,
        points: int,
        entry_id: uuid.UUID,
        now: datetime,
    ) -> None:
        await self.conn.execute(
            insert(payouts_t).values(
                id=uuid.uuid4(),
                program_id=program_id,
                month=month,
                member_id=standing.member_id,
                rank=standing.rank,
                month_points=standing.points,
                points=points,
                entry_id=entry_id,
                paid_at=now,
            )
        )
