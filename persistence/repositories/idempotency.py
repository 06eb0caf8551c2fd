"""Idempotency keys on SQLAlchemy Core: a key is claimed once per program and scope."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.idempotency import IdempotencyRecord
from domain.model import new_id
from persistence.dialect import PerDialect
from persistence.rows import idempotency_t

_CLAIM_KEY = PerDialect(
    lambda insert, _postgresql: (
        insert(idempotency_t).on_conflict_do_nothing().returning(idempotency_t.c.id)
    )
)
_IDEMPOTENCY_RECORD = select(idempotency_t).where(
    idempotency_t.c.program_id == bindparam("program_id"),
    idempotency_t.c.scope == bindparam("scope"),
    idempotency_t.c.key == bindparam("key"),
)
_COMPLETE_KEY = (
    update(idempotency_t)
    .where(
        idempotency_t.c.program_id == bindparam("p_program_id"),
        idempotency_t.c.scope == bindparam("p_scope"),
        idempotency_t.c.key == bindparam("p_key"),
    )
    .values(response=bindparam("p_response"))
)


class SqlIdempotencyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def claim(
        self, program_id: uuid.UUID, scope: str, key: str, fingerprint: str, now: datetime
    ) -> IdempotencyRecord | None:
        # On PostgreSQL a concurrent insert of the same key waits here until the
        # other transaction ends, then either conflicts (it committed) or goes on.
        claimed = await self.conn.execute(
            _CLAIM_KEY.of(self.conn),
            {
                "id": new_id(),
                "program_id": program_id,
                "scope": scope,
                "key": key,
                "fingerprint": fingerprint,
                "response": {},
                "created_at": now,
            },
        )
        if claimed.first() is not None:
            return None
        params = {"program_id": program_id, "scope": scope, "key": key}
        row = (await self.conn.execute(_IDEMPOTENCY_RECORD, params)).one()
        return IdempotencyRecord(
            scope=scope, key=key, fingerprint=row.fingerprint, response=row.response
        )

    async def release(self, program_id: uuid.UUID, scope: str, key: str) -> None:
        await self.conn.execute(
            delete(idempotency_t).where(
                idempotency_t.c.program_id == program_id,
                idempotency_t.c.scope == scope,
                idempotency_t.c.key == key,
            )
        )

    async def complete(
        self, program_id: uuid.UUID, scope: str, key: str, response: Mapping[str, Any]
    ) -> None:
        await self.conn.execute(
            _COMPLETE_KEY,
            {
                "p_program_id": program_id,
                "p_scope": scope,
                "p_key": key,
                "p_response": dict(response),
            },
        )
