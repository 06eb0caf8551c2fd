"""Card state, staff windows and the audit log on SQLAlchemy Core."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.audit import AuditEvent
from persistence.dialect import hold_advisory_lock, upsert
from persistence.rows import members_t
from persistence.tables import AuditEventRow, StaffWindowRow

windows_t = StaffWindowRow.__table__  # type: ignore[attr-defined]
audit_t = AuditEventRow.__table__  # type: ignore[attr-defined]


class SqlInStoreRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def accept_step(
        self, program_id: uuid.UUID, member_id: uuid.UUID, generation: int, step: int
    ) -> bool:
        """Spend the card's codes up to `step`; False if this or a later code was accepted,
        or the secret of `generation` was replaced meanwhile.

        One conditional UPDATE: of two tills scanning the same code at once, exactly one
        changes the row; the other finds the condition false.
        """
        result = await self.conn.execute(
            update(members_t)
            .where(
                members_t.c.program_id == program_id,
                members_t.c.id == member_id,
                members_t.c.card_generation == generation,
                members_t.c.card_last_step < step,
            )
            .values(card_last_step=step)
        )
        return result.rowcount == 1

    async def next_card_generation(self, program_id: uuid.UUID, member_id: uuid.UUID) -> int:
        """Retire the card secret: bump the generation and return the new one. The new
        secret starts a fresh replay window (its codes were never scanned); the old secret's
        codes no longer verify at all."""
        await self.conn.execute(
            update(members_t)
            .where(members_t.c.program_id == program_id, members_t.c.id == member_id)
            .values(card_generation=members_t.c.card_generation + 1, card_last_step=0)
        )
        row = await self.conn.execute(
            select(members_t.c.card_generation).where(
                members_t.c.program_id == program_id, members_t.c.id == member_id
            )
        )
        return int(row.scalar_one())

    async def open_window(
        self,
        program_id: uuid.UUID,
        store: str,
        member_id: uuid.UUID,
        opened_by: str,
        expires_at: datetime,
    ) -> None:
        changes = {"opened_by": opened_by, "expires_at": expires_at}
        keys = {"program_id": program_id, "store": store, "member_id": member_id}
        await self.conn.execute(
            upsert(
                self.conn,
                windows_t,
                {**keys, **changes},
                keys=["program_id", "store", "member_id"],
                changes=changes,
            )
        )

    async def window_expires(
        self, program_id: uuid.UUID, store: str, member_id: uuid.UUID
    ) -> datetime | None:
        row = await self.conn.execute(
            select(windows_t.c.expires_at).where(
                windows_t.c.program_id == program_id,
                windows_t.c.store == store,
                windows_t.c.member_id == member_id,
            )
        )
        return row.scalar_one_or_none()

    async def add_audit(self, event: AuditEvent) -> None:
        await self.conn.execute(
            insert(audit_t).values(
                id=event.id,
                program_id=event.program_id,
                actor=event.actor,
                role=event.role,
                store=event.store,
                member_id=event.member_id,
                action=event.action,
                outcome=event.outcome,
                detail=event.detail,
                occurred_at=event.occurred_at,
            )
        )

    async def hold_attempts(self, program_id: uuid.UUID, actor: str, action: str) -> None:
        """Serialise one actor's attempts until this transaction ends, so concurrent failures
        are counted exactly (PostgreSQL advisory lock; SQLite has a single writer already)."""
        await hold_advisory_lock(self.conn, f"attempts:{program_id.hex}:{actor}:{action}")

    async def failures_since(
        self, program_id: uuid.UUID, actor: str, action: str, since: datetime
    ) -> int:
        row = await self.conn.execute(
            select(func.count()).where(
                audit_t.c.program_id == program_id,
                audit_t.c.actor == actor,
                audit_t.c.action == action,
                audit_t.c.outcome != "OK",
                audit_t.c.occurred_at >= since,
            )
        )
        return int(row.scalar_one())

    async def audit_page(
        self,
        program_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[AuditEvent]:
        stmt = select(audit_t).where(audit_t.c.program_id == program_id)
        if member_id is not None:
            stmt = stmt.where(audit_t.c.member_id == member_id)
        if before is not None:
            at, last = before
            stmt = stmt.where(
                or_(
                    audit_t.c.occurred_at < at,
                    and_(audit_t.c.occurred_at == at, audit_t.c.id < last),
                )
            )
        stmt = stmt.order_by(audit_t.c.occurred_at.desc(), audit_t.c.id.desc()).limit(limit)
        return [
            AuditEvent(
                id=row.id,
                program_id=row.program_id,
                actor=row.actor,
                role=row.role,
                store=row.store,
                member_id=row.member_id,
                action=row.action,
                outcome=row.outcome,
                detail=row.detail,
                occurred_at=row.occurred_at,
            )
            for row in await self.conn.execute(stmt)
        ]
