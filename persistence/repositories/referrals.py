"""Referrals: settings, records, milestones paid and fraud signals. Every statement
filters by program."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import new_id
from domain.referrals import (
    Milestone,
    Referral,
    ReferralReason,
    ReferralSettings,
    ReferralStatus,
    SignalKind,
)
from persistence.dialect import insert_ignoring_conflicts, locks_rows
from persistence.repositories.purchases import purchases_t
from persistence.rows import members_t
from persistence.tables.referrals import (
    MemberSignalRow,
    ReferralMilestoneRow,
    ReferralRow,
    ReferralSettingsRow,
)

settings_t = ReferralSettingsRow.__table__  # type: ignore[attr-defined]
referrals_t = ReferralRow.__table__  # type: ignore[attr-defined]
milestones_t = ReferralMilestoneRow.__table__  # type: ignore[attr-defined]
signals_t = MemberSignalRow.__table__  # type: ignore[attr-defined]

# Counted towards a referrer's monthly cap: every referral that was not refused.
_COUNTED = (
    ReferralStatus.PENDING.value,
    ReferralStatus.QUALIFIED.value,
    ReferralStatus.HELD_FOR_REVIEW.value,
)


def _settings(row: Row[Any]) -> ReferralSettings:
    return ReferralSettings(
        welcome_points=row.welcome_points,
        welcome_reward_id=row.welcome_reward_id,
        referrer_points=row.referrer_points,
        min_purchase_minor=row.min_purchase_minor,
        monthly_cap=row.monthly_cap,
        milestones=tuple(
            Milestone(count=c, points=p, reward_id=uuid.UUID(r) if r else None)
            for c, p, r in row.milestones
        ),
        normalised_domains=tuple(row.normalised_domains),
        link_template=row.link_template,
    )


def _referral(row: Row[Any]) -> Referral:
    return Referral(
        id=row.id,
        program_id=row.program_id,
        referrer_id=row.referrer_id,
        referee_id=row.referee_id,
        status=ReferralStatus(row.status),
        reason=ReferralReason(row.reason) if row.reason else None,
        created_at=row.created_at,
        qualified_at=row.qualified_at,
        referrer_points=row.referrer_points,
        welcome_paid=row.welcome_paid,
        order_id=row.order_id,
        note=row.note,
    )


def _values(referral: Referral) -> dict[str, Any]:
    return dict(
        status=referral.status.value,
        reason=referral.reason.value if referral.reason else None,
        qualified_at=referral.qualified_at,
        referrer_points=referral.referrer_points,
        welcome_paid=referral.welcome_paid,
        order_id=referral.order_id,
        note=referral.note,
    )


class SqlReferralRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def settings(self, program_id: uuid.UUID) -> ReferralSettings:
        row = (
            await self.conn.execute(select(settings_t).where(settings_t.c.program_id == program_id))
        ).first()
        return _settings(row) if row is not None else ReferralSettings()

    async def save_settings(
        self, program_id: uuid.UUID, settings: ReferralSettings, now: datetime
    ) -> None:
        values = dict(
            welcome_points=settings.welcome_points,
            welcome_reward_id=settings.welcome_reward_id,
            referrer_points=settings.referrer_points,
            min_purchase_minor=settings.min_purchase_minor,
            monthly_cap=settings.monthly_cap,
            milestones=[
                [m.count, m.points, str(m.reward_id) if m.reward_id else None]
                for m in settings.milestones
            ],
            normalised_domains=list(settings.normalised_domains),
            link_template=settings.link_template,
            updated_at=now,
        )
        changed = await self.conn.execute(
            update(settings_t).where(settings_t.c.program_id == program_id).values(**values)
        )
        if changed.rowcount == 0:
            await self.conn.execute(insert(settings_t).values(program_id=program_id, **values))

    async def add(self, referral: Referral) -> None:
        await self.conn.execute(
            insert(referrals_t).values(
                id=referral.id,
                program_id=referral.program_id,
                referrer_id=referral.referrer_id,
                referee_id=referral.referee_id,
                created_at=referral.created_at,
                **_values(referral),
            )
        )

    async def _one(self, *where: Any, lock: bool) -> Referral | None:
        stmt = select(referrals_t).where(*where)
        if lock and locks_rows(self.conn):
            stmt = stmt.with_for_update()  # SQLite write transactions are serialised already
        row = (await self.conn.execute(stmt)).first()
        return _referral(row) if row is not None else None

    async def get(
        self, program_id: uuid.UUID, referral_id: uuid.UUID, *, lock: bool = False
    ) -> Referral | None:
        c = referrals_t.c
        return await self._one(c.program_id == program_id, c.id == referral_id, lock=lock)

    async def of_referee(
        self, program_id: uuid.UUID, referee_id: uuid.UUID, *, lock: bool = False
    ) -> Referral | None:
        c = referrals_t.c
        return await self._one(c.program_id == program_id, c.referee_id == referee_id, lock=lock)

    async def update(self, referral: Referral, expected: ReferralStatus) -> bool:
        c = referrals_t.c
        result = await self.conn.execute(
            update(referrals_t)
            .where(
                c.program_id == referral.program_id,
                c.id == referral.id,
                c.status == expected.value,
            )
            .values(**_values(referral))
        )
        return bool(result.rowcount == 1)

    async def counted_since(
        self, program_id: uuid.UUID, referrer_id: uuid.UUID, since: datetime
    ) -> int:
        c = referrals_t.c
        stmt = select(func.count()).where(
            c.program_id == program_id,
            c.referrer_id == referrer_id,
            c.created_at >= since,
            c.status.in_(_COUNTED),
        )
        return int((await self.conn.execute(stmt)).scalar_one())

    async def qualified_count(self, program_id: uuid.UUID, referrer_id: uuid.UUID) -> int:
        return (await self.qualified_counts(program_id, [referrer_id])).get(referrer_id, 0)

    async def qualified_counts(
        self, program_id: uuid.UUID, referrer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        if not referrer_ids:
            return {}
        c = referrals_t.c
        stmt = (
            select(c.referrer_id, func.count())
            .where(
                c.program_id == program_id,
                c.referrer_id.in_(set(referrer_ids)),
                c.status == ReferralStatus.QUALIFIED.value,
            )
            .group_by(c.referrer_id)
        )
        return {row[0]: int(row[1]) for row in await self.conn.execute(stmt)}

    async def of_referrer(
        self,
        program_id: uuid.UUID,
        referrer_id: uuid.UUID,
        *,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[tuple[Referral, str | None]]:
        c = referrals_t.c
        stmt = (
            select(referrals_t, members_t.c.display_name.label("referee_name"))
            .join(members_t, members_t.c.id == c.referee_id)
            .where(c.program_id == program_id, c.referrer_id == referrer_id)
        )
        if before is not None:
            at, last = before
            stmt = stmt.where(or_(c.created_at < at, and_(c.created_at == at, c.id < last)))
        stmt = stmt.order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        return [(_referral(row), row.referee_name) for row in await self.conn.execute(stmt)]

    async def for_review(
        self, program_id: uuid.UUID, *, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[Referral]:
        c = referrals_t.c
        stmt = select(referrals_t).where(
            c.program_id == program_id, c.status == ReferralStatus.HELD_FOR_REVIEW.value
        )
        if after is not None:
            at, last = after
            stmt = stmt.where(or_(c.created_at > at, and_(c.created_at == at, c.id > last)))
        stmt = stmt.order_by(c.created_at, c.id).limit(limit)
        return [_referral(row) for row in await self.conn.execute(stmt)]

    async def milestones_paid(self, program_id: uuid.UUID, referrer_id: uuid.UUID) -> set[int]:
        c = milestones_t.c
        stmt = select(c.count).where(c.program_id == program_id, c.referrer_id == referrer_id)
        return {int(n) for n in (await self.conn.execute(stmt)).scalars()}

    async def add_milestone(
        self, program_id: uuid.UUID, referrer_id: uuid.UUID, count: int, now: datetime
    ) -> bool:
        stmt = insert_ignoring_conflicts(self.conn, milestones_t).values(
            id=new_id(), program_id=program_id, referrer_id=referrer_id, count=count, paid_at=now
        )
        result = await self.conn.execute(stmt.returning(milestones_t.c.id))
        return result.first() is not None

    async def add_signal(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        kind: SignalKind,
        digest: str,
        now: datetime,
    ) -> None:
        await self.conn.execute(
            insert_ignoring_conflicts(self.conn, signals_t).values(
                id=new_id(),
                program_id=program_id,
                member_id=member_id,
                kind=kind.value,
                digest=digest,
                created_at=now,
            )
        )

    async def has_signal(
        self, program_id: uuid.UUID, member_id: uuid.UUID, kind: SignalKind, digest: str
    ) -> bool:
        c = signals_t.c
        stmt = select(
            exists().where(
                c.program_id == program_id,
                c.member_id == member_id,
                c.kind == kind.value,
                c.digest == digest,
            )
        )
        return bool((await self.conn.execute(stmt)).scalar())

    async def qualifying_purchases(
        self, program_id: uuid.UUID, member_id: uuid.UUID, min_minor: int
    ) -> list[tuple[str, tuple[uuid.UUID, ...]]]:
        p = purchases_t.c
        stmt = (
            select(p.order_id, p.entry_ids)
            .where(
                p.program_id == program_id,
                p.member_id == member_id,
                p.amount_minor - p.refunded_minor >= min_minor,
                p.amount_minor > p.refunded_minor,  # a refunded order never qualifies
            )
            .order_by(p.occurred_at, p.id)
        )
        return [
            (row.order_id, tuple(uuid.UUID(e) for e in row.entry_ids))
            for row in await self.conn.execute(stmt)
        ]

    async def due(
        self,
        program_id: uuid.UUID,
        min_minor: int,
        *,
        limit: int,
        after: uuid.UUID | None,
    ) -> list[uuid.UUID]:
        c, p = referrals_t.c, purchases_t.c
        bought = (
            select(p.id)
            .where(
                p.program_id == program_id,
                p.member_id == c.referee_id,
                p.amount_minor - p.refunded_minor >= min_minor,
                p.amount_minor > p.refunded_minor,
            )
            .exists()
        )
        stmt = select(c.referee_id).where(
            c.program_id == program_id, c.status == ReferralStatus.PENDING.value, bought
        )
        if after is not None:
            stmt = stmt.where(c.referee_id > after)
        stmt = stmt.order_by(c.referee_id).limit(limit)
        return list((await self.conn.execute(stmt)).scalars())
