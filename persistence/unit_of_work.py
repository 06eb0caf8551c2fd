"""One transaction per use case: commit once at the end, roll back on anything else."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.db import Database
from persistence.repositories.core import (
    SqlIdempotencyRepository,
    SqlLedgerRepository,
    SqlMemberRepository,
    SqlProgramRepository,
    SqlTierRepository,
)
from persistence.repositories.instore import SqlInStoreRepository
from persistence.repositories.rewards import SqlRewardRepository


class SqlUnitOfWork:
    """`async with SqlUnitOfWork(db, write=True) as uow: ... await uow.commit()`."""

    def __init__(self, db: Database, *, write: bool = True) -> None:
        self._db = db
        self._write = write
        self._cm = db.connect(write=write)
        self.committed = False

    async def __aenter__(self) -> SqlUnitOfWork:
        self.conn: AsyncConnection = await self._cm.__aenter__()
        await self.conn.begin()
        self.programs = SqlProgramRepository(self.conn)
        self.tiers = SqlTierRepository(self.conn)
        self.members = SqlMemberRepository(self.conn)
        self.ledger = SqlLedgerRepository(self.conn)
        self.idempotency = SqlIdempotencyRepository(self.conn)
        self.rewards = SqlRewardRepository(self.conn)
        self.instore = SqlInStoreRepository(self.conn)
        return self

    async def commit(self) -> None:
        if not self._write:
            raise RuntimeError("read-only unit of work")
        await self.conn.commit()
        self.committed = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.conn.in_transaction():
                await self.conn.rollback()
        finally:
            await self._cm.__aexit__(exc_type, exc, tb)
