"""Set-based statements of the expiry job: a whole batch of claimed wallets at once.

The domain decides what expires (`domain.ledger.expired_lots`, `expiring_points`, `expire`);
these statements apply its answer to many wallets in a few round trips instead of a
posting per wallet. The caller holds the wallets' row locks (claimed before their lots, the
lock order of every writer), so nothing below can change between the statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import EntryKind, ExpiryPolicy, PointsPolicy, Posting
from persistence.dialect import not_for_index
from persistence.repositories.ledger import ConcurrentUpdateError
from persistence.rows import entries_t, entry_values, lots_t, wallets_t


def expired_lot_conditions(policy: PointsPolicy, now: datetime) -> list[Any]:
    """`domain.ledger.expired_lots` as SQL: the spendable lots that expire now (all of them
    under INACTIVITY, for the idle wallets the job asks about)."""
    conditions = [lots_t.c.remaining > 0, lots_t.c.held.is_(False)]
    if policy.expiry is ExpiryPolicy.AFTER_EARNING:
        conditions += [lots_t.c.expires_at.is_not(None), lots_t.c.expires_at <= now]
    elif policy.expiry is not ExpiryPolicy.INACTIVITY:
        raise ValueError(f"nothing expires under {policy.expiry}")
    return conditions


class SqlExpiryRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    def _lots_of(self, program_id: uuid.UUID, member_ids: Sequence[uuid.UUID]) -> list[Any]:
        """The lots of these members (of wallets claimed in the program), through
        ix_lot_member_open on either database (see `persistence.dialect.not_for_index`)."""
        program = not_for_index(self.conn, lots_t.c.program_id)
        return [program == program_id, lots_t.c.member_id.in_(member_ids)]

    async def due(
        self,
        program_id: uuid.UUID,
        member_ids: Sequence[uuid.UUID],
        policy: PointsPolicy,
        now: datetime,
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """Per member: points left in expired lots and how many such lots (one statement)."""
        if not member_ids:
            return {}
        result = await self.conn.execute(
            select(lots_t.c.member_id, func.sum(lots_t.c.remaining), func.count())
            .where(*self._lots_of(program_id, member_ids), *expired_lot_conditions(policy, now))
            .group_by(lots_t.c.member_id)
        )
        return {row[0]: (int(row[1]), int(row[2])) for row in result}

    async def empty_expired_lots(
        self,
        program_id: uuid.UUID,
        member_ids: Sequence[uuid.UUID],
        policy: PointsPolicy,
        now: datetime,
        expected: int,
    ) -> None:
        """Every expired lot of these members to zero: one UPDATE for the batch."""
        if not member_ids:
            return
        result = await self.conn.execute(
            update(lots_t)
            .where(*self._lots_of(program_id, member_ids), *expired_lot_conditions(policy, now))
            .values(remaining=0)
        )
        if result.rowcount != expected:
            raise ConcurrentUpdateError(
                f"{result.rowcount} expired lots emptied, {expected} expected: lots changed "
                "under claimed wallets"
            )

    async def post_expiries(self, program_id: uuid.UUID, postings: Sequence[Posting]) -> None:
        """The EXPIRE entries of many wallets (one INSERT), then each wallet moved to its
        entry's version and balance (one UPDATE ... FROM the new entries, only where the
        wallet is still at the version before). Lots are the caller's: the postings carry
        no takes."""
        if not postings:
            return
        rows = []
        for posting in postings:
            entry = posting.entry
            if entry.kind is not EntryKind.EXPIRE or posting.takes or posting.new_lots:
                raise ValueError("only EXPIRE postings without lot changes are posted in bulk")
            rows.append({**entry_values(entry), "program_id": program_id})
        await self.conn.execute(insert(entries_t), rows)
        entry = entries_t.alias("e")
        result = await self.conn.execute(
            update(wallets_t)
            .where(
                wallets_t.c.program_id == program_id,
                entry.c.id.in_([row["id"] for row in rows]),
                wallets_t.c.member_id == entry.c.member_id,
                wallets_t.c.version == entry.c.version - 1,
            )
            .values(
                balance=entry.c.balance_after,
                version=entry.c.version,
                updated_at=entry.c.occurred_at,
                last_activity_at=entry.c.occurred_at,
            )
        )
        if result.rowcount != len(rows):
            raise ConcurrentUpdateError(
                f"{result.rowcount} of {len(rows)} wallets moved: a wallet changed under its claim"
            )
