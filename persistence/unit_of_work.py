"""One transaction per use case: commit once at the end, roll back on anything else."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, cast

from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from domain.events import Event
from domain.ports import UnitOfWork
from persistence.db import Database
from persistence.events import EventBus
from persistence.repositories.actions import SqlActionRepository
from persistence.repositories.campaigns import SqlCampaignRepository
from persistence.repositories.challenges import SqlChallengeRepository
from persistence.repositories.idempotency import SqlIdempotencyRepository
from persistence.repositories.instore import SqlInStoreRepository
from persistence.repositories.leaderboard import SqlLeaderboardRepository
from persistence.repositories.ledger import SqlLedgerRepository
from persistence.repositories.members import SqlMemberRepository
from persistence.repositories.partners import SqlPartnerRepository
from persistence.repositories.payments import SqlPaymentRepository
from persistence.repositories.programs import SqlProgramRepository, SqlTierRepository
from persistence.repositories.purchases import SqlPurchaseRepository
from persistence.repositories.referrals import SqlReferralRepository
from persistence.repositories.rewards import SqlRewardRepository


class SqlUnitOfWork:
    """`async with SqlUnitOfWork(db, write=True) as uow: ... await uow.commit()`.

    Events recorded during the transaction reach the bus only through `commit`:
    a rolled-back change is never announced.
    """

    def __init__(
        self,
        db: Database,
        *,
        write: bool = True,
        bus: EventBus | None = None,
        shared: SharedReads | None = None,
    ) -> None:
        self._db = db
        self._write = write
        self._bus = bus
        self._shared = shared if not write else None
        self._cm = db.connect(write=write) if self._shared is None else None
        self.events: list[Event] = []

    def record(self, event: Event) -> None:
        """Announce `event` if and when this transaction commits."""
        self.events.append(event)

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._shared is not None:
            # A stand-in: repositories only `execute` on it and read its `dialect`.
            self.conn: AsyncConnection = cast(AsyncConnection, await self._shared.acquire())
        else:
            assert self._cm is not None
            self.conn = await self._cm.__aenter__()
            await self.conn.begin()
        self.programs = SqlProgramRepository(self.conn)
        self.tiers = SqlTierRepository(self.conn)
        self.members = SqlMemberRepository(self.conn)
        self.ledger = SqlLedgerRepository(self.conn, self.record)
        self.idempotency = SqlIdempotencyRepository(self.conn)
        self.rewards = SqlRewardRepository(self.conn)
        self.instore = SqlInStoreRepository(self.conn)
        self.purchases = SqlPurchaseRepository(self.conn)
        self.campaigns = SqlCampaignRepository(self.conn)
        self.payments = SqlPaymentRepository(self.conn)
        self.partners = SqlPartnerRepository(self.conn)
        self.challenges = SqlChallengeRepository(self.conn)
        self.actions = SqlActionRepository(self.conn)
        self.referrals = SqlReferralRepository(self.conn)
        self.leaderboard = SqlLeaderboardRepository(self.conn)
        return self

    async def commit(self) -> None:
        if not self._write:
            raise RuntimeError("read-only unit of work")
        events, self.events = self.events, []
        if self._bus is not None and events:
            await self._bus.before_commit(self.conn, events)
        await self.conn.commit()
        if self._bus is not None and events:
            self._bus.after_commit(events)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._shared is not None:
            await self._shared.release()
            return
        try:
            if self.conn.in_transaction():
                await self.conn.rollback()
        finally:
            assert self._cm is not None  # set whenever the connection is not shared
            await self._cm.__aexit__(exc_type, exc, tb)


class SharedReads:
    """Read blocks of one HTTP request that overlap in time share one pooled connection.

    A request's resolvers and loaders read concurrently; with a connection per read block,
    32 requests in flight would want about 100 connections and the pool would churn
    through new ones. Here the first block to start takes a connection, blocks that start
    while it is out join it (their statements take turns, as they would on the wire
    anyway), and the last one to end gives it back: a request never holds a connection
    between its reads, so it never holds one while waiting for another (no pool
    deadlock with its writes). Reads on PostgreSQL run in autocommit, so a read after the
    request's own write sees it. SQLite keeps a connection per read block: it has no
    round trips to save, and its read blocks are transactions of their own.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cm: AbstractAsyncContextManager[AsyncConnection] | None = None
        self._conn: _TakingTurns | None = None
        self._users = 0
        self._lock = asyncio.Lock()
        self._turn = asyncio.Lock()

    def reader(self) -> SqlUnitOfWork:
        if self._db.is_sqlite:
            return SqlUnitOfWork(self._db, write=False)
        return SqlUnitOfWork(self._db, write=False, shared=self)

    async def acquire(self) -> _TakingTurns:
        async with self._lock:
            if self._conn is None:
                cm = self._db.connect(write=False)
                conn = await cm.__aenter__()
                self._cm, self._conn = cm, _TakingTurns(conn, self._turn)
            self._users += 1
            return self._conn

    async def release(self) -> None:
        async with self._lock:
            # never below zero: a block still running after `close` (a field task the
            # executor left to settle) must not leave a later block's connection out
            self._users = max(self._users - 1, 0)
            if self._users == 0:
                await self._give_back()

    async def close(self) -> None:
        """At the end of the request: give the connection back if a block left it out.
        A block still holding it then fails on the closed connection rather than
        reading on one the pool has handed to another request."""
        async with self._lock:
            self._users = 0
            await self._give_back()

    async def _give_back(self) -> None:
        cm, self._cm, self._conn = self._cm, None, None
        if cm is not None:
            await cm.__aexit__(None, None, None)


class _TakingTurns:
    """A connection whose statements run one at a time (repositories only `execute`)."""

    def __init__(self, conn: AsyncConnection, turn: asyncio.Lock) -> None:
        self.inner = conn
        self.turn = turn  # persistence.fastpath takes it too
        self.dialect = conn.dialect

    async def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> CursorResult[Any]:
        async with self.turn:
            return await self.inner.execute(statement, parameters)

    def in_transaction(self) -> bool:
        return False


def _implements_the_port(uow: SqlUnitOfWork) -> UnitOfWork:
    """mypy checks here that the SQL unit of work offers every repository the UnitOfWork
    port names, each Sql*Repository with its port's methods and signatures."""
    return uow
