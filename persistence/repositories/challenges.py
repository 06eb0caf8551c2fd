"""Challenges, members' progress and badges (rules: domain/challenges.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.challenges import (
    Badge,
    Challenge,
    EarnedBadge,
    Goal,
    GoalKind,
    Progress,
)
from domain.times import Period
from persistence.tables.challenges import (
    BadgeRow,
    ChallengeProgressRow,
    ChallengeRow,
    MemberBadgeRow,
)

challenges_t = ChallengeRow.__table__  # type: ignore[attr-defined]
progress_t = ChallengeProgressRow.__table__  # type: ignore[attr-defined]
badges_t = BadgeRow.__table__  # type: ignore[attr-defined]
member_badges_t = MemberBadgeRow.__table__  # type: ignore[attr-defined]


def _challenge(row: Row[Any]) -> Challenge:
    return Challenge(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        description=row.description,
        goal=Goal(
            kind=GoalKind(row.goal_kind),
            target=int(row.target),
            category=row.category,
            action_kind=row.action_kind,
        ),
        starts_at=row.starts_at,
        created_at=row.created_at,
        ends_at=row.ends_at,
        period=Period(row.period) if row.period else None,
        tier_ids=tuple(uuid.UUID(t) for t in row.tier_ids),
        hidden=row.hidden,
        reward_points=row.reward_points,
        reward_id=row.reward_id,
        badge_id=row.badge_id,
        archived_at=row.archived_at,
    )


def _values(challenge: Challenge) -> dict[str, Any]:
    return dict(
        name=challenge.name,
        description=challenge.description,
        goal_kind=challenge.goal.kind.value,
        target=challenge.goal.target,
        category=challenge.goal.category,
        action_kind=challenge.goal.action_kind,
        starts_at=challenge.starts_at,
        ends_at=challenge.ends_at,
        period=challenge.period.value if challenge.period else None,
        tier_ids=[str(t) for t in challenge.tier_ids],
        hidden=challenge.hidden,
        reward_points=challenge.reward_points,
        reward_id=challenge.reward_id,
        badge_id=challenge.badge_id,
        archived_at=challenge.archived_at,
    )


def _progress(row: Row[Any]) -> Progress:
    return Progress(
        challenge_id=row.challenge_id,
        member_id=row.member_id,
        period_key=row.period_key,
        progress=int(row.progress),
        started_at=row.started_at,
        completed_at=row.completed_at,
    )


def _badge(row: Row[Any]) -> Badge:
    return Badge(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        description=row.description,
        image_url=row.image_url,
        created_at=row.created_at,
    )


class SqlChallengeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    def _dialect(self) -> Any:
        return postgresql if self.conn.dialect.name == "postgresql" else sqlite

    async def add(self, challenge: Challenge) -> None:
        await self.conn.execute(
            insert(challenges_t).values(
                id=challenge.id,
                program_id=challenge.program_id,
                created_at=challenge.created_at,
                **_values(challenge),
            )
        )

    async def update(self, challenge: Challenge) -> None:
        c = challenges_t.c
        await self.conn.execute(
            update(challenges_t)
            .where(c.program_id == challenge.program_id, c.id == challenge.id)
            .values(**_values(challenge))
        )

    async def get(
        self, program_id: uuid.UUID, challenge_id: uuid.UUID, *, lock: bool = False
    ) -> Challenge | None:
        c = challenges_t.c
        stmt = select(challenges_t).where(c.program_id == program_id, c.id == challenge_id)
        if lock and self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # SQLite write transactions are serialised already
        row = (await self.conn.execute(stmt)).first()
        return _challenge(row) if row is not None else None

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        archived: bool | None,
    ) -> list[Challenge]:
        c = challenges_t.c
        stmt = select(challenges_t).where(c.program_id == program_id)
        if archived is not None:
            stmt = stmt.where(c.archived_at.is_not(None) if archived else c.archived_at.is_(None))
        if after is not None:
            at, last = after
            stmt = stmt.where(or_(c.starts_at < at, and_(c.starts_at == at, c.id < last)))
        stmt = stmt.order_by(c.starts_at.desc(), c.id.desc()).limit(limit)
        return [_challenge(row) for row in await self.conn.execute(stmt)]

    async def open_at(self, program_id: uuid.UUID, at: datetime) -> list[Challenge]:
        c = challenges_t.c
        stmt = (
            select(challenges_t)
            .where(
                c.program_id == program_id,
                c.archived_at.is_(None),
                c.starts_at <= at,
                or_(c.ends_at.is_(None), c.ends_at > at),
            )
            .order_by(c.starts_at, c.name, c.id)
        )
        return [_challenge(row) for row in await self.conn.execute(stmt)]

    async def advance(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        steps: Sequence[tuple[uuid.UUID, str, int]],
        now: datetime,
    ) -> list[Progress]:
        if not steps:
            return []
        rows = [
            dict(
                challenge_id=challenge_id,
                member_id=member_id,
                period_key=key,
                program_id=program_id,
                progress=step,
                started_at=now,
            )
            for challenge_id, key, step in steps
        ]
        stmt = self._dialect().insert(progress_t).values(rows)
        # One statement: concurrent purchases of the member add up instead of overwriting.
        stmt = stmt.on_conflict_do_update(
            index_elements=["challenge_id", "member_id", "period_key"],
            set_={"progress": progress_t.c.progress + stmt.excluded.progress},
        ).returning(*progress_t.c)
        return [_progress(row) for row in await self.conn.execute(stmt)]

    async def complete(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        challenge_id: uuid.UUID,
        period_key: str,
        target: int,
        now: datetime,
    ) -> bool:
        p = progress_t.c
        result = await self.conn.execute(
            update(progress_t)
            .where(
                p.program_id == program_id,
                p.challenge_id == challenge_id,
                p.member_id == member_id,
                p.period_key == period_key,
                p.completed_at.is_(None),
                p.progress >= target,
            )
            .values(completed_at=now)
        )
        return bool(result.rowcount == 1)

    async def progress_of(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        keys: Sequence[tuple[uuid.UUID, str]],
    ) -> list[Progress]:
        if not keys:
            return []
        p = progress_t.c
        stmt = select(progress_t).where(
            p.program_id == program_id,
            p.member_id == member_id,
            p.challenge_id.in_({c for c, _ in keys}),
            p.period_key.in_({k for _, k in keys}),
        )
        wanted = set(keys)
        found = [_progress(row) for row in await self.conn.execute(stmt)]
        return [f for f in found if (f.challenge_id, f.period_key) in wanted]

    async def add_badge(self, badge: Badge) -> None:
        await self.conn.execute(
            insert(badges_t).values(
                id=badge.id,
                program_id=badge.program_id,
                name=badge.name,
                description=badge.description,
                image_url=badge.image_url,
                created_at=badge.created_at,
            )
        )

    async def update_badge(self, badge: Badge) -> None:
        b = badges_t.c
        await self.conn.execute(
            update(badges_t)
            .where(b.program_id == badge.program_id, b.id == badge.id)
            .values(name=badge.name, description=badge.description, image_url=badge.image_url)
        )

    async def badges(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Badge]:
        if not ids:
            return []
        b = badges_t.c
        stmt = select(badges_t).where(b.program_id == program_id, b.id.in_(set(ids)))
        return [_badge(row) for row in await self.conn.execute(stmt)]

    async def all_badges(self, program_id: uuid.UUID, limit: int) -> list[Badge]:
        b = badges_t.c
        stmt = (
            select(badges_t)
            .where(b.program_id == program_id)
            .order_by(b.created_at, b.id)
            .limit(limit)
        )
        return [_badge(row) for row in await self.conn.execute(stmt)]

    async def award_badge(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        badge_id: uuid.UUID,
        challenge_id: uuid.UUID | None,
        now: datetime,
    ) -> bool:
        stmt = (
            self._dialect()
            .insert(member_badges_t)
            .values(
                member_id=member_id,
                badge_id=badge_id,
                program_id=program_id,
                challenge_id=challenge_id,
                awarded_at=now,
            )
            .on_conflict_do_nothing()
        )
        result = await self.conn.execute(stmt)
        return bool(result.rowcount == 1)

    async def member_badges(
        self, program_id: uuid.UUID, member_id: uuid.UUID, limit: int
    ) -> list[EarnedBadge]:
        m = member_badges_t.c
        stmt = (
            select(badges_t, m.awarded_at)
            .join(member_badges_t, m.badge_id == badges_t.c.id)
            .where(m.program_id == program_id, m.member_id == member_id)
            .order_by(m.awarded_at.desc(), badges_t.c.id)
            .limit(limit)
        )
        return [EarnedBadge(_badge(row), row.awarded_at) for row in await self.conn.execute(stmt)]
