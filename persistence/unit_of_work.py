"""One transaction per use case: commit once at the end, roll back on anything else."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import Event
from persistence.db import Database
from persistence.events import EventBus
from persistence.repositories.core import (
    SqlIdempotencyRepository,
    SqlLedgerRepository,
    SqlMemberRepository,
    SqlProgramRepository,
    SqlTierRepository,
)
from persistence.repositories.instore import SqlInStoreRepository
from persistence.repositories.partners import SqlPartnerRepository
from persistence.repositories.purchases import SqlPurchaseRepository
from persistence.repositories.rewards import SqlRewardRepository


class SqlUnitOfWork:
    """`async with SqlUnitOfWork(db, write=True) as uow: ... await uow.commit()`.

    Events recorded during the transaction reach the bus only through `commit`:
    a rolled-back change is never announced.
    """

    def __init__(self, db: Database, *, write: bool = True, bus: EventBus | None = None) -> None:
        self._db = db
        self._write = write
        self._bus = bus
        self._cm = db.connect(write=write)
        self.committed = False
        self.events: list[Event] = []

    def record(self, event: Event) -> None:
        """Announce `event` if and when this transaction commits."""
        self.events.append(event)

    async def __aenter__(self) -> SqlUnitOfWork:
        self.conn: AsyncConnection = await self._cm.__aenter__()
        await self.conn.begin()
        self.programs = SqlProgramRepository(self.conn)
        self.tiers = SqlTierRepository(self.conn)
        self.members = SqlMemberRepository(self.conn)
        self.ledger = SqlLedgerRepository(self.conn, self.record)
        self.idempotency = SqlIdempotencyRepository(self.conn)
        self.rewards = SqlRewardRepository(self.conn)
        self.instore = SqlInStoreRepository(self.conn)
        self.purchases = SqlPurchaseRepository(self.conn)
        self.partners = SqlPartnerRepository(self.conn)
        return self

    async def commit(self) -> None:
        if not self._write:
            raise RuntimeError("read-only unit of work")
        events, self.events = self.events, []
        if self._bus is not None and events:
            await self._bus.before_commit(self.conn, events)
        await self.conn.commit()
        self.committed = True
        if self._bus is not None and events:
            self._bus.after_commit(events)

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
