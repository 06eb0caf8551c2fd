"""Partners, rewards and redemptions on SQLAlchemy Core. Stock and voucher state change
only through conditional UPDATEs, so concurrent requests cannot oversell or double-use."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import LotTake
from domain.rewards import (
    Partner,
    Redemption,
    RedemptionCounts,
    RedemptionStatus,
    Reward,
)
from persistence.dialect import insert_ignoring_conflicts
from persistence.rows import (
    lots_t,
    partner_from_row,
    redemption_from_row,
    reward_from_row,
    reward_values,
)
from persistence.tables import PartnerRow, RedemptionRow, RedemptionTakeRow, RewardRow

partners_t = PartnerRow.__table__  # type: ignore[attr-defined]
rewards_t = RewardRow.__table__  # type: ignore[attr-defined]
redemptions_t = RedemptionRow.__table__  # type: ignore[attr-defined]
takes_t = RedemptionTakeRow.__table__  # type: ignore[attr-defined]

LIVE = (RedemptionStatus.ISSUED.value, RedemptionStatus.USED.value)


class SqlRewardRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # Partners

    async def add_partner(self, partner: Partner) -> bool:
        stmt = insert_ignoring_conflicts(self.conn, partners_t).values(
            id=partner.id,
            program_id=partner.program_id,
            slug=partner.slug,
            name=partner.name,
            created_at=partner.created_at,
        )
        return (await self.conn.execute(stmt.returning(partners_t.c.id))).first() is not None

    async def partners(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Partner]:
        if not ids:
            return []
        result = await self.conn.execute(
            select(partners_t).where(
                partners_t.c.program_id == program_id, partners_t.c.id.in_(set(ids))
            )
        )
        return [partner_from_row(row) for row in result]

    async def partner_by_slug(self, program_id: uuid.UUID, slug: str) -> Partner | None:
        row = (
            await self.conn.execute(
                select(partners_t).where(
                    partners_t.c.program_id == program_id, partners_t.c.slug == slug
                )
            )
        ).first()
        return partner_from_row(row) if row else None

    # Rewards

    async def add(self, reward: Reward) -> None:
        await self.conn.execute(
            insert(rewards_t).values(
                id=reward.id,
                program_id=reward.program_id,
                kind=reward.kind.value,
                created_at=reward.created_at,
                **reward_values(reward),
            )
        )

    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        for column in (rewards_t.c.min_tier_id, rewards_t.c.early_access_tier_id):
            await self.conn.execute(
                update(rewards_t)
                .where(rewards_t.c.program_id == program_id, column == from_tier_id)
                .values({column.name: to_tier_id})
            )

    async def update(self, reward: Reward) -> None:
        await self.conn.execute(
            update(rewards_t)
            .where(rewards_t.c.program_id == reward.program_id, rewards_t.c.id == reward.id)
            .values(**reward_values(reward))
        )

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Reward]:
        if not ids:
            return []
        result = await self.conn.execute(
            select(rewards_t).where(
                rewards_t.c.program_id == program_id, rewards_t.c.id.in_(set(ids))
            )
        )
        return [reward_from_row(row) for row in result]

    async def get(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> Reward | None:
        found = await self.get_many(program_id, [reward_id])
        return found[0] if found else None

    async def catalog(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[int, uuid.UUID] | None,
        partner_id: uuid.UUID | None,
        include_archived: bool,
        open_after: datetime | None,
    ) -> list[Reward]:
        """Rewards cheapest first (keyset on cost, id); `open_after` hides ended ones."""
        stmt = select(rewards_t).where(
            *_catalog_filter(program_id, partner_id, include_archived, open_after)
        )
        if after is not None:
            cost, last_id = after
            stmt = stmt.where(
                or_(
                    rewards_t.c.points_cost > cost,
                    and_(rewards_t.c.points_cost == cost, rewards_t.c.id > last_id),
                )
            )
        stmt = stmt.order_by(rewards_t.c.points_cost, rewards_t.c.id).limit(limit)
        return [reward_from_row(row) for row in await self.conn.execute(stmt)]

    async def catalog_count(
        self,
        program_id: uuid.UUID,
        *,
        partner_id: uuid.UUID | None,
        include_archived: bool,
        open_after: datetime | None,
    ) -> int:
        stmt = (
            select(func.count())
            .select_from(rewards_t)
            .where(*_catalog_filter(program_id, partner_id, include_archived, open_after))
        )
        return int((await self.conn.execute(stmt)).scalar_one())

    async def take_stock(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> bool:
        """One unit of a limited reward, if any is left (unlimited rewards always succeed)."""
        result = await self.conn.execute(
            update(rewards_t)
            .where(
                rewards_t.c.program_id == program_id,
                rewards_t.c.id == reward_id,
                rewards_t.c.stock > 0,
            )
            .values(stock=rewards_t.c.stock - 1)
        )
        return result.rowcount == 1

    async def return_stock(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> None:
        await self.conn.execute(
            update(rewards_t)
            .where(
                rewards_t.c.program_id == program_id,
                rewards_t.c.id == reward_id,
                rewards_t.c.stock.is_not(None),
            )
            .values(stock=rewards_t.c.stock + 1)
        )

    # Redemptions

    async def counts(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        reward_ids: Sequence[uuid.UUID],
        period_starts: dict[uuid.UUID, datetime],
    ) -> dict[uuid.UUID, RedemptionCounts]:
        """Live redemptions per reward by this member: ever, and since each reward's period."""
        if not reward_ids:
            return {}
        result = await self.conn.execute(
            select(redemptions_t.c.reward_id, redemptions_t.c.created_at).where(
                redemptions_t.c.program_id == program_id,
                redemptions_t.c.member_id == member_id,
                redemptions_t.c.reward_id.in_(set(reward_ids)),
                redemptions_t.c.status.in_(LIVE),
            )
        )
        totals: dict[uuid.UUID, list[int]] = {}
        for reward_id, created_at in result:
            counted = totals.setdefault(reward_id, [0, 0])
            counted[0] += 1
            if created_at >= period_starts.get(reward_id, created_at):
                counted[1] += 1
        return {key: RedemptionCounts(total, period) for key, (total, period) in totals.items()}

    async def add_redemption(self, redemption: Redemption, takes: Sequence[LotTake]) -> None:
        await self.conn.execute(
            insert(redemptions_t).values(
                id=redemption.id,
                program_id=redemption.program_id,
                member_id=redemption.member_id,
                reward_id=redemption.reward_id,
                status=redemption.status.value,
                points_spent=redemption.points_spent,
                voucher_code=redemption.voucher_code,
                created_at=redemption.created_at,
                expires_at=redemption.expires_at,
            )
        )
        if takes:
            expiries: dict[uuid.UUID, datetime | None] = dict(
                (
                    await self.conn.execute(
                        select(lots_t.c.id, lots_t.c.expires_at).where(
                            lots_t.c.program_id == redemption.program_id,
                            lots_t.c.id.in_([t.lot_id for t in takes]),
                        )
                    )
                ).all()
            )
            await self.conn.execute(
                insert(takes_t),
                [
                    {
                        "redemption_id": redemption.id,
                        "lot_id": take.lot_id,
                        "program_id": redemption.program_id,
                        "points": take.points,
                        "expires_at": expiries.get(take.lot_id),
                    }
                    for take in takes
                ],
            )

    async def redemptions(
        self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> list[Redemption]:
        if not ids:
            return []
        result = await self.conn.execute(
            select(redemptions_t).where(
                redemptions_t.c.program_id == program_id, redemptions_t.c.id.in_(set(ids))
            )
        )
        return [redemption_from_row(row) for row in result]

    async def redemption(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID
    ) -> Redemption | None:
        found = await self.redemptions(program_id, [redemption_id])
        return found[0] if found else None

    async def redemption_by_code(self, program_id: uuid.UUID, code: str) -> Redemption | None:
        row = (
            await self.conn.execute(
                select(redemptions_t).where(
                    redemptions_t.c.program_id == program_id, redemptions_t.c.voucher_code == code
                )
            )
        ).first()
        return redemption_from_row(row) if row else None

    async def mark_used(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID, now: datetime, actor: str
    ) -> bool:
        """ISSUED and unexpired -> USED; False if another request got there first."""
        result = await self.conn.execute(
            update(redemptions_t)
            .where(
                redemptions_t.c.program_id == program_id,
                redemptions_t.c.id == redemption_id,
                redemptions_t.c.status == RedemptionStatus.ISSUED.value,
                or_(redemptions_t.c.expires_at.is_(None), redemptions_t.c.expires_at > now),
            )
            .values(status=RedemptionStatus.USED.value, used_at=now, used_by=actor)
        )
        return result.rowcount == 1

    async def mark_cancelled(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID, now: datetime
    ) -> bool:
        """ISSUED -> CANCELLED; False if it was used or cancelled meanwhile."""
        result = await self.conn.execute(
            update(redemptions_t)
            .where(
                redemptions_t.c.program_id == program_id,
                redemptions_t.c.id == redemption_id,
                redemptions_t.c.status == RedemptionStatus.ISSUED.value,
            )
            .values(status=RedemptionStatus.CANCELLED.value, cancelled_at=now)
        )
        return result.rowcount == 1

    async def takes(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID
    ) -> list[tuple[int, datetime | None]]:
        result = await self.conn.execute(
            select(takes_t.c.points, takes_t.c.expires_at).where(
                takes_t.c.program_id == program_id, takes_t.c.redemption_id == redemption_id
            )
        )
        return [(int(points), expires_at) for points, expires_at in result]

    async def member_redemptions(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        statuses: Sequence[RedemptionStatus] | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Redemption]:
        """Newest first (keyset on created_at, id)."""
        stmt = select(redemptions_t).where(*_member_filter(program_id, member_id, statuses))
        if before is not None:
            at, last_id = before
            stmt = stmt.where(
                or_(
                    redemptions_t.c.created_at < at,
                    and_(redemptions_t.c.created_at == at, redemptions_t.c.id < last_id),
                )
            )
        stmt = stmt.order_by(redemptions_t.c.created_at.desc(), redemptions_t.c.id.desc())
        return [redemption_from_row(row) for row in await self.conn.execute(stmt.limit(limit))]

    async def member_redemptions_count(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        statuses: Sequence[RedemptionStatus] | None,
    ) -> int:
        stmt = (
            select(func.count())
            .select_from(redemptions_t)
            .where(*_member_filter(program_id, member_id, statuses))
        )
        return int((await self.conn.execute(stmt)).scalar_one())

    async def donated_points(
        self, program_id: uuid.UUID, reward_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        if not reward_ids:
            return {}
        result = await self.conn.execute(
            select(redemptions_t.c.reward_id, func.sum(redemptions_t.c.points_spent))
            .where(
                redemptions_t.c.program_id == program_id,
                redemptions_t.c.reward_id.in_(set(reward_ids)),
                redemptions_t.c.status.in_(LIVE),
            )
            .group_by(redemptions_t.c.reward_id)
        )
        return {reward_id: int(total or 0) for reward_id, total in result}


def _catalog_filter(
    program_id: uuid.UUID,
    partner_id: uuid.UUID | None,
    include_archived: bool,
    open_after: datetime | None,
) -> list[ColumnElement[bool]]:
    """The rewards a catalog lists and counts (ix_reward_catalog leads with program_id)."""
    where = [rewards_t.c.program_id == program_id]
    if partner_id is not None:
        where.append(rewards_t.c.partner_id == partner_id)
    if not include_archived:
        where.append(rewards_t.c.archived.is_(False))
    if open_after is not None:
        where.append(
            or_(rewards_t.c.available_until.is_(None), rewards_t.c.available_until > open_after)
        )
    return where


def _member_filter(
    program_id: uuid.UUID, member_id: uuid.UUID, statuses: Sequence[RedemptionStatus] | None
) -> list[ColumnElement[bool]]:
    """A member's redemptions, listed and counted (ix_redemption_member_created)."""
    where = [redemptions_t.c.program_id == program_id, redemptions_t.c.member_id == member_id]
    if statuses:
        where.append(redemptions_t.c.status.in_([s.value for s in statuses]))
    return where
