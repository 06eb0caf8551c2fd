"""Wallets, ledger entries and lots on SQLAlchemy Core: the one place a posting is
written (persistence/repositories/expiry.py posts a batch of expiries in bulk).

Wallet rows change only through a versioned UPDATE (`_UPDATE_WALLET` here, the batch
form in expiry.py) that succeeds only where the wallet is still at the version the
posting started from; members.py inserts each wallet, empty, with its member.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, Uuid, bindparam, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import Event, posted
from domain.model import EntryKind, LedgerEntry, Lot, Posting, Wallet
from persistence.dialect import one_of
from persistence.fastpath import Prepared
from persistence.rows import (
    entries_t,
    entry_from_row,
    entry_values,
    lot_from_row,
    lot_values,
    lots_t,
    wallet_from_row,
    wallets_t,
)


def _qualifying_statement(*, postgresql: bool = False) -> Any:
    """Built once: the hot read path should not rebuild SQL expressions per request.
    PostgreSQL takes the id and kind lists as array parameters, so the SQL never changes."""

    earned = select(entries_t.c.member_id, entries_t.c.points.label("points")).where(
        entries_t.c.program_id == bindparam("program_id"),
        one_of(entries_t.c.member_id, "member_ids", Uuid(), postgresql=postgresql),
        one_of(entries_t.c.kind, "kinds", String(), postgresql=postgresql),
        entries_t.c.occurred_at >= bindparam("since"),
    )
    held = select(lots_t.c.member_id, (-lots_t.c.remaining).label("points")).where(
        lots_t.c.program_id == bindparam("program_id"),
        one_of(lots_t.c.member_id, "member_ids", Uuid(), postgresql=postgresql),
        lots_t.c.held.is_(True),
        lots_t.c.created_at >= bindparam("since"),
    )
    both = union_all(earned, held).subquery()
    return select(both.c.member_id, func.sum(both.c.points)).group_by(both.c.member_id)


_QUALIFYING = Prepared(_qualifying_statement(), postgresql=_qualifying_statement(postgresql=True))
_HISTORY = Prepared(
    select(entries_t)
    .where(
        entries_t.c.program_id == bindparam("program_id"),
        entries_t.c.member_id == bindparam("member_id"),
        entries_t.c.version < bindparam("before"),
    )
    .order_by(entries_t.c.version.desc())
    .limit(bindparam("limit"))
)

# Statements of the write path, built once: a statement built per call (`.values(...)`,
# `.where(col == value)`) costs SQLAlchemy more than twice the CPU of a prebuilt one
# executed with parameters (about 400 vs 180 microseconds for the entry insert).
_WALLET = select(wallets_t).where(
    wallets_t.c.program_id == bindparam("program_id"),
    wallets_t.c.member_id == bindparam("member_id"),
)
_WALLET_LOCKED = _WALLET.with_for_update()
_INSERT_ENTRY = insert(entries_t)
_INSERT_LOT = insert(lots_t)
_TAKE_FROM_LOT = (
    update(lots_t)
    .where(
        lots_t.c.program_id == bindparam("p_program_id"),
        lots_t.c.id == bindparam("p_lot_id"),
        lots_t.c.remaining >= bindparam("p_points"),
    )
    .values(remaining=lots_t.c.remaining - bindparam("p_points"))
)
_UPDATE_WALLET = (
    update(wallets_t)
    .where(
        wallets_t.c.program_id == bindparam("p_program_id"),
        wallets_t.c.member_id == bindparam("p_member_id"),
        wallets_t.c.version == bindparam("p_previous_version"),
    )
    .values(
        balance=bindparam("p_balance"),
        pending=bindparam("p_pending"),
        lifetime_earned=bindparam("p_lifetime_earned"),
        version=bindparam("p_version"),
        updated_at=bindparam("p_at"),
        last_activity_at=bindparam("p_at"),
    )
)


class ConcurrentUpdateError(RuntimeError):
    """A row changed under a transaction that believed it held it: never expected, always fatal."""


class SqlLedgerRepository:
    def __init__(
        self, conn: AsyncConnection, record: Callable[[Event], None] = lambda _event: None
    ) -> None:
        self.conn = conn
        # Every posting is announced (after commit) as a WalletChanged: none can be missed.
        self._record = record

    async def wallet(
        self, program_id: uuid.UUID, member_id: uuid.UUID, *, lock: bool = False
    ) -> Wallet | None:
        params = {"program_id": program_id, "member_id": member_id}
        row = (await self.conn.execute(_WALLET_LOCKED if lock else _WALLET, params)).first()
        return wallet_from_row(row) if row else None

    async def wallets(self, program_id: uuid.UUID, member_ids: Sequence[uuid.UUID]) -> list[Wallet]:
        if not member_ids:
            return []
        result = await self.conn.execute(
            select(wallets_t).where(
                wallets_t.c.program_id == program_id, wallets_t.c.member_id.in_(set(member_ids))
            )
        )
        return [wallet_from_row(row) for row in result]

    async def open_lots(self, program_id: uuid.UUID, member_id: uuid.UUID) -> list[Lot]:
        result = await self.conn.execute(
            select(lots_t).where(
                lots_t.c.program_id == program_id,
                lots_t.c.member_id == member_id,
                lots_t.c.remaining > 0,
            )
        )
        return [lot_from_row(row) for row in result]

    async def post(self, posting: Posting, previous_version: int) -> None:
        entry, wallet = posting.entry, posting.wallet
        await self.conn.execute(_INSERT_ENTRY, entry_values(entry))
        for lot in posting.new_lots:
            await self.conn.execute(_INSERT_LOT, lot_values(lot, entry.id))
        for take in posting.takes:
            result = await self.conn.execute(
                _TAKE_FROM_LOT,
                {
                    "p_program_id": wallet.program_id,
                    "p_lot_id": take.lot_id,
                    "p_points": take.points,
                },
            )
            if result.rowcount != 1:
                raise ConcurrentUpdateError(f"lot {take.lot_id} changed during the transaction")
        result = await self.conn.execute(
            _UPDATE_WALLET,
            {
                "p_program_id": wallet.program_id,
                "p_member_id": wallet.member_id,
                "p_previous_version": previous_version,
                "p_balance": wallet.balance,
                "p_pending": wallet.pending,
                "p_lifetime_earned": wallet.lifetime_earned,
                "p_version": wallet.version,
                "p_at": entry.occurred_at,
            },
        )
        if result.rowcount != 1:
            raise ConcurrentUpdateError(f"wallet {wallet.member_id} changed during the transaction")
        self._record(posted(posting))

    async def history(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        limit: int,
        before_version: int | None,
    ) -> list[LedgerEntry]:
        params = {
            "program_id": program_id,
            "member_id": member_id,
            # Versions start at 1; "before" the first page is past any version there is.
            "before": before_version if before_version is not None else 2**62,
            "limit": limit,
        }
        return [entry_from_row(row) for row in await _HISTORY.rows(self.conn, params)]

    async def expiring(
        self, program_id: uuid.UUID, member_id: uuid.UUID, now: datetime, limit: int
    ) -> list[tuple[datetime, int]]:
        at = lots_t.c.expires_at
        result = await self.conn.execute(
            select(at, func.sum(lots_t.c.remaining))
            .where(
                lots_t.c.program_id == program_id,
                lots_t.c.member_id == member_id,
                lots_t.c.remaining > 0,
                at.is_not(None),
                at > now,
            )
            .group_by(at)
            .order_by(at)
            .limit(limit)
        )
        return [(row[0], int(row[1])) for row in result]

    async def qualifying_points(
        self,
        program_id: uuid.UUID,
        member_ids: Sequence[uuid.UUID],
        since: datetime,
        kinds: Collection[EntryKind],
    ) -> dict[uuid.UUID, int]:
        """Entries of `kinds` since `since`, less what of it is still held (one statement)."""
        if not member_ids:
            return {}
        result = await _QUALIFYING.rows(
            self.conn,
            {
                "program_id": program_id,
                "member_ids": list(set(member_ids)),
                "since": since,
                "kinds": [kind.value for kind in kinds],
            },
        )
        return {row[0]: max(0, int(row[1] or 0)) for row in result}

    async def lots_of_entries(
        self, program_id: uuid.UUID, entry_ids: Sequence[uuid.UUID]
    ) -> list[Lot]:
        if not entry_ids:
            return []
        result = await self.conn.execute(
            select(lots_t).where(
                lots_t.c.program_id == program_id, lots_t.c.entry_id.in_(set(entry_ids))
            )
        )
        return [lot_from_row(row) for row in result]

    async def entries(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[LedgerEntry]:
        if not ids:
            return []
        result = await self.conn.execute(
            select(entries_t).where(
                entries_t.c.program_id == program_id, entries_t.c.id.in_(set(ids))
            )
        )
        return [entry_from_row(row) for row in result]
