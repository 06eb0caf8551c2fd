"""Partner terms, settlement entries, closed statements and the partner's views."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import EarnRate
from domain.partners import (
    PartnerRedemptionRow,
    PartnerTerms,
    RewardStats,
    SettlementEntry,
    Statement,
)
from persistence.dialect import insert_ignoring_conflicts, upsert
from persistence.repositories.rewards import redemptions_t, rewards_t
from persistence.rows import members_t, redemption_from_row
from persistence.tables import ClosedStatementRow, PartnerTermsRow, SettlementEntryRow

terms_t = PartnerTermsRow.__table__  # type: ignore[attr-defined]
settlement_t = SettlementEntryRow.__table__  # type: ignore[attr-defined]
closed_t = ClosedStatementRow.__table__  # type: ignore[attr-defined]


class SqlPartnerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def terms(self, program_id: uuid.UUID, partner_id: uuid.UUID) -> PartnerTerms:
        row = (
            await self.conn.execute(
                select(terms_t).where(
                    terms_t.c.program_id == program_id, terms_t.c.partner_id == partner_id
                )
            )
        ).first()
        if row is None:
            return PartnerTerms()
        return PartnerTerms(
            earn_rate=EarnRate(row.earn_points, row.earn_per_amount_minor),
            price_per_100_points_minor=row.price_per_100_points_minor,
            payout_per_redemption_minor=row.payout_per_redemption_minor,
            may_edit_rewards=row.may_edit_rewards,
        )

    async def set_terms(
        self, program_id: uuid.UUID, partner_id: uuid.UUID, terms: PartnerTerms
    ) -> None:
        values = {
            "earn_points": terms.earn_rate.points,
            "earn_per_amount_minor": terms.earn_rate.per_amount_minor,
            "price_per_100_points_minor": terms.price_per_100_points_minor,
            "payout_per_redemption_minor": terms.payout_per_redemption_minor,
            "may_edit_rewards": terms.may_edit_rewards,
        }
        await self.conn.execute(
            upsert(
                self.conn,
                terms_t,
                {"program_id": program_id, "partner_id": partner_id, **values},
                keys=["partner_id"],
                changes=values,
                where=terms_t.c.program_id == program_id,
            )
        )

    async def add_settlement(self, entry: SettlementEntry) -> None:
        await self.conn.execute(
            insert(settlement_t).values(
                id=entry.id,
                program_id=entry.program_id,
                partner_id=entry.partner_id,
                kind=entry.kind,
                points=entry.points,
                amount_hundredths=entry.amount_hundredths,
                reference=entry.reference,
                occurred_at=entry.occurred_at,
            )
        )

    async def settlement(
        self, program_id: uuid.UUID, partner_id: uuid.UUID, start: datetime, end: datetime
    ) -> list[SettlementEntry]:
        result = await self.conn.execute(
            select(settlement_t).where(
                settlement_t.c.program_id == program_id,
                settlement_t.c.partner_id == partner_id,
                settlement_t.c.occurred_at >= start,
                settlement_t.c.occurred_at < end,
            )
        )
        return [
            SettlementEntry(
                id=row.id,
                program_id=row.program_id,
                partner_id=row.partner_id,
                kind=row.kind,
                points=row.points,
                amount_hundredths=row.amount_hundredths,
                reference=row.reference,
                occurred_at=row.occurred_at,
            )
            for row in result
        ]

    async def closed(
        self, program_id: uuid.UUID, partner_id: uuid.UUID, period: str
    ) -> Statement | None:
        row = (
            await self.conn.execute(
                select(closed_t).where(
                    closed_t.c.program_id == program_id,
                    closed_t.c.partner_id == partner_id,
                    closed_t.c.period == period,
                )
            )
        ).first()
        if row is None:
            return None
        return Statement(
            partner_id=partner_id,
            period=period,
            points_issued=row.points_issued,
            owed_by_partner_minor=row.owed_by_partner_minor,
            redemptions=row.redemptions,
            owed_to_partner_minor=row.owed_to_partner_minor,
            closed=True,
        )

    async def close(
        self, program_id: uuid.UUID, statement: Statement, at: datetime, by: str
    ) -> bool:
        """Freeze a period; False when it was closed already."""
        stmt = insert_ignoring_conflicts(self.conn, closed_t).values(
            id=uuid.uuid4(),
            program_id=program_id,
            partner_id=statement.partner_id,
            period=statement.period,
            points_issued=statement.points_issued,
            owed_by_partner_minor=statement.owed_by_partner_minor,
            redemptions=statement.redemptions,
            owed_to_partner_minor=statement.owed_to_partner_minor,
            closed_at=at,
            closed_by=by,
        )
        return (await self.conn.execute(stmt.returning(closed_t.c.id))).first() is not None

    async def redemptions(
        self,
        program_id: uuid.UUID,
        partner_id: uuid.UUID,
        *,
        statuses: list[str] | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[PartnerRedemptionRow]:
        """Redemptions of the partner's rewards, newest first, with card number and name."""
        stmt = (
            select(redemptions_t, members_t.c.card_number, members_t.c.display_name)
            .join(rewards_t, rewards_t.c.id == redemptions_t.c.reward_id)
            .join(members_t, members_t.c.id == redemptions_t.c.member_id)
            .where(redemptions_t.c.program_id == program_id, rewards_t.c.partner_id == partner_id)
        )
        if statuses:
            stmt = stmt.where(redemptions_t.c.status.in_(statuses))
        if since is not None:
            stmt = stmt.where(redemptions_t.c.created_at >= since)
        if until is not None:
            stmt = stmt.where(redemptions_t.c.created_at < until)
        if before is not None:
            at, last = before
            stmt = stmt.where(
                or_(
                    redemptions_t.c.created_at < at,
                    and_(redemptions_t.c.created_at == at, redemptions_t.c.id < last),
                )
            )
        stmt = stmt.order_by(redemptions_t.c.created_at.desc(), redemptions_t.c.id.desc())
        return [
            PartnerRedemptionRow(redemption_from_row(row), row.card_number, row.display_name)
            for row in await self.conn.execute(stmt.limit(limit))
        ]

    async def reward_stats(
        self, program_id: uuid.UUID, partner_id: uuid.UUID, limit: int
    ) -> list[RewardStats]:
        live = redemptions_t.c.status.in_(("ISSUED", "USED"))
        result = await self.conn.execute(
            select(
                rewards_t.c.id,
                func.count(redemptions_t.c.id).filter(live),
                func.coalesce(func.sum(redemptions_t.c.points_spent).filter(live), 0),
                func.count(redemptions_t.c.id).filter(redemptions_t.c.status == "USED"),
                func.count(redemptions_t.c.id).filter(redemptions_t.c.status == "ISSUED"),
            )
            .select_from(
                rewards_t.outerjoin(redemptions_t, redemptions_t.c.reward_id == rewards_t.c.id)
            )
            .where(rewards_t.c.program_id == program_id, rewards_t.c.partner_id == partner_id)
            .group_by(rewards_t.c.id)
            .order_by(rewards_t.c.id)
            .limit(limit)
        )
        return [RewardStats(row[0], row[1], int(row[2]), row[3], row[4]) for row in result]
