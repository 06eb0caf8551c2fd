"""Earning actions and the records of members earning them (domain/actions.py)."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, and_, case, extract, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.actions import (
    MAX_LIVE_ACTIONS,
    ActionKind,
    ActionLimits,
    ActionRecord,
    ActionTally,
    EarningAction,
    Reporter,
)
from domain.times import Period
from persistence.dialect import insert_ignoring_conflicts
from persistence.rows import members_t, wallets_t
from persistence.tables import ActionRecordRow, EarningActionRow

actions_t = EarningActionRow.__table__  # type: ignore[attr-defined]
records_t = ActionRecordRow.__table__  # type: ignore[attr-defined]


def action_from_row(row: Row[Any]) -> EarningAction:
    return EarningAction(
        id=row.id,
        program_id=row.program_id,
        key=row.key,
        kind=ActionKind(row.kind),
        name=row.name,
        description=row.description,
        created_at=row.created_at,
        points=row.points,
        reward_id=row.reward_id,
        limits=ActionLimits(
            lifetime=row.lifetime_limit,
            period=Period(row.limit_period) if row.limit_period else None,
            per_period=row.period_limit,
        ),
        reported_by=Reporter(row.reported_by),
        network=row.network,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        archived_at=row.archived_at,
    )


def _values(action: EarningAction) -> dict[str, Any]:
    return dict(
        name=action.name,
        description=action.description,
        points=action.points,
        reward_id=action.reward_id,
        lifetime_limit=action.limits.lifetime,
        limit_period=action.limits.period.value if action.limits.period else None,
        period_limit=action.limits.per_period,
        reported_by=action.reported_by.value,
        network=action.network,
        starts_at=action.starts_at,
        ends_at=action.ends_at,
        archived_at=action.archived_at,
        slot=action.slot,
    )


def record_from_row(row: Row[Any]) -> ActionRecord:
    return ActionRecord(
        id=row.id,
        program_id=row.program_id,
        member_id=row.member_id,
        action_id=row.action_id,
        points=row.points,
        occurred_at=row.occurred_at,
        actor=row.actor,
        event_id=row.event_id,
        grant_key=row.grant_key,
        entry_id=row.entry_id,
        redemption_id=row.redemption_id,
    )


class SqlActionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, action: EarningAction) -> bool:
        stmt = insert_ignoring_conflicts(self.conn, actions_t).values(
            id=action.id,
            program_id=action.program_id,
            key=action.key,
            kind=action.kind.value,
            created_at=action.created_at,
            **_values(action),
        )
        return (await self.conn.execute(stmt.returning(actions_t.c.id))).first() is not None

    async def update(self, action: EarningAction) -> bool:
        # Only the slot is unique among what changes: a clash means another live action
        # holds it (checked first, as an UPDATE cannot ignore conflicts portably).
        slot = action.slot
        if slot is not None:
            taken = await self.conn.execute(
                select(actions_t.c.id).where(
                    actions_t.c.program_id == action.program_id,
                    actions_t.c.slot == slot,
                    actions_t.c.id != action.id,
                )
            )
            if taken.first() is not None:
                return False
        await self.conn.execute(
            update(actions_t)
            .where(actions_t.c.program_id == action.program_id, actions_t.c.id == action.id)
            .values(**_values(action))
        )
        return True

    async def get(
        self, program_id: uuid.UUID, action_id: uuid.UUID, *, lock: bool = False
    ) -> EarningAction | None:
        stmt = select(actions_t).where(
            actions_t.c.program_id == program_id, actions_t.c.id == action_id
        )
        if lock and self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # SQLite write transactions are serialised already
        row = (await self.conn.execute(stmt)).first()
        return action_from_row(row) if row is not None else None

    async def by_key(self, program_id: uuid.UUID, key: str) -> EarningAction | None:
        stmt = select(actions_t).where(actions_t.c.program_id == program_id, actions_t.c.key == key)
        row = (await self.conn.execute(stmt)).first()
        return action_from_row(row) if row is not None else None

    async def by_slot(self, program_id: uuid.UUID, slot: str) -> EarningAction | None:
        stmt = select(actions_t).where(
            actions_t.c.program_id == program_id, actions_t.c.slot == slot
        )
        row = (await self.conn.execute(stmt)).first()
        return action_from_row(row) if row is not None else None

    async def live(self, program_id: uuid.UUID, now: datetime) -> list[EarningAction]:
        """Actions not archived and within their window at `now`, oldest first."""
        c = actions_t.c
        stmt = (
            select(actions_t)
            .where(
                c.program_id == program_id,
                c.archived_at.is_(None),
                or_(c.starts_at.is_(None), c.starts_at <= now),
                or_(c.ends_at.is_(None), c.ends_at > now),
            )
            .order_by(c.created_at, c.id)
            .limit(MAX_LIVE_ACTIONS)
        )
        return [action_from_row(row) for row in await self.conn.execute(stmt)]

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        archived: bool,
    ) -> list[EarningAction]:
        c = actions_t.c
        stmt = select(actions_t).where(*self._listed(program_id, archived))
        if after is not None:
            at, last = after
            stmt = stmt.where(or_(c.created_at > at, and_(c.created_at == at, c.id > last)))
        stmt = stmt.order_by(c.created_at, c.id).limit(limit)
        return [action_from_row(row) for row in await self.conn.execute(stmt)]

    async def count(self, program_id: uuid.UUID, *, archived: bool) -> int:
        stmt = (
            select(func.count()).select_from(actions_t).where(*self._listed(program_id, archived))
        )
        return int((await self.conn.execute(stmt)).scalar_one())

    @staticmethod
    def _listed(program_id: uuid.UUID, archived: bool) -> list[Any]:
        where = [actions_t.c.program_id == program_id]
        if not archived:
            where.append(actions_t.c.archived_at.is_(None))
        return where

    async def tallies(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        action_ids: Sequence[uuid.UUID],
        windows: Mapping[Period, tuple[datetime, datetime]],
    ) -> dict[uuid.UUID, ActionTally]:
        """The member's records per action: ever and in each window (one statement)."""
        if not action_ids:
            return {}
        c = records_t.c
        periods = list(windows)
        columns = [
            func.sum(case((and_(c.occurred_at >= start, c.occurred_at < end), 1), else_=0))
            for start, end in windows.values()
        ]
        stmt = (
            select(c.action_id, func.count(), *columns)
            .where(
                c.program_id == program_id,
                c.member_id == member_id,
                c.action_id.in_(list(action_ids)),
            )
            .group_by(c.action_id)
        )
        found: dict[uuid.UUID, ActionTally] = {}
        for row in await self.conn.execute(stmt):
            by_period = tuple((period, int(row[i + 2] or 0)) for i, period in enumerate(periods))
            found[row[0]] = ActionTally(lifetime=int(row[1]), by_period=by_period)
        return found

    async def add_record(self, record: ActionRecord) -> bool:
        """Insert; False when an automatic grant with this key exists already."""
        stmt = insert_ignoring_conflicts(self.conn, records_t).values(
            id=record.id,
            program_id=record.program_id,
            member_id=record.member_id,
            action_id=record.action_id,
            points=record.points,
            event_id=record.event_id,
            grant_key=record.grant_key,
            entry_id=record.entry_id,
            redemption_id=record.redemption_id,
            actor=record.actor,
            occurred_at=record.occurred_at,
        )
        return (await self.conn.execute(stmt.returning(records_t.c.id))).first() is not None

    async def record(self, program_id: uuid.UUID, record_id: uuid.UUID) -> ActionRecord | None:
        stmt = select(records_t).where(
            records_t.c.program_id == program_id, records_t.c.id == record_id
        )
        row = (await self.conn.execute(stmt)).first()
        return record_from_row(row) if row is not None else None


def birthday_due(program_id: uuid.UUID, action_id: uuid.UUID, today: date, grant_key: str) -> Any:
    """A condition on the wallet row: its member is not blocked, has a birthday on `today`
    (29 February counts on 28 February in other years) and no grant of `grant_key` yet."""
    m = members_t.c
    month = extract("month", m.birthday)
    day = extract("day", m.birthday)
    on_day = and_(month == today.month, day == today.day)
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        on_day = or_(on_day, and_(month == 2, day == 29))
    granted = (
        select(records_t.c.id)
        .where(
            records_t.c.program_id == program_id,
            records_t.c.member_id == m.id,
            records_t.c.action_id == action_id,
            records_t.c.grant_key == grant_key,
        )
        .exists()
    )
    members = select(m.id).where(
        m.program_id == program_id,
        m.birthday.is_not(None),
        m.blocked.is_(False),
        on_day,
        ~granted,
    )
    return wallets_t.c.member_id.in_(members)
