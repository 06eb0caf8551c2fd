"""Query cost buckets in PostgreSQL, so every server process charges the same budget.

One statement per request: an upsert that refills the caller's bucket for the time
since its last charge, takes the cost when it fits and returns what is left, atomically
(the row is locked for the statement). It runs in autocommit on a pooled connection that
goes back to the pool before the operation executes: one round trip. Measured with a
loop of 2,000 charges against the local server on the (busy, load 8 on 2 cores)
development machine: 2.2 to 2.9 ms a charge, as long as a bare `SELECT 1` through the
same pool (3.0 ms); 3.7 to 4.9 ms before the table was UNLOGGED (each charge waited
for a WAL flush). In-process buckets (SQLite) take 6 to 9 µs.

Every `CLEANUP_EVERY` charges a process also deletes buckets idle long enough to be
full again (a missing row means a full bucket), so the table holds about the callers
of the last minute or two.
"""

from __future__ import annotations

from sqlalchemy import Float, bindparam, text

from persistence.db import Database

CLEANUP_EVERY = 10_000

# The bucket's level now: what it held, refilled for the time since (never beyond full).
_TAKE = text(
    """
    INSERT INTO cost_bucket AS b (caller, tokens, updated_at, charged)
    VALUES (:caller, CASE WHEN :cost <= :capacity THEN :capacity - :cost ELSE :capacity END,
            :now, :cost <= :capacity)
    ON CONFLICT (caller) DO UPDATE SET
        tokens = CASE
            WHEN LEAST(:capacity, b.tokens + GREATEST(0, :now - b.updated_at) * :refill) >= :cost
            THEN LEAST(:capacity, b.tokens + GREATEST(0, :now - b.updated_at) * :refill) - :cost
            ELSE LEAST(:capacity, b.tokens + GREATEST(0, :now - b.updated_at) * :refill)
        END,
        charged =
            LEAST(:capacity, b.tokens + GREATEST(0, :now - b.updated_at) * :refill) >= :cost,
        updated_at = GREATEST(b.updated_at, :now)
    RETURNING tokens, charged
    """
).bindparams(*(bindparam(name, type_=Float) for name in ("cost", "capacity", "now", "refill")))
_FORGET = text("DELETE FROM cost_bucket WHERE updated_at < :before").bindparams(
    bindparam("before", type_=Float)
)


class SqlBuckets:
    """Token buckets in the `cost_bucket` table (PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._charges = 0

    async def take(
        self, caller: str, cost: float, now: float, capacity: float, refill: float
    ) -> tuple[bool, float]:
        """Refill, then take `cost` if it fits: (charged, points left)."""
        self._charges += 1
        async with self.db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (
                await conn.execute(
                    _TAKE,
                    {
                        "caller": caller,
                        "cost": cost,
                        "now": now,
                        "capacity": capacity,
                        "refill": refill,
                    },
                )
            ).one()
            if self._charges % CLEANUP_EVERY == 0:
                await conn.execute(_FORGET, {"before": now - capacity / refill - 60})
        return bool(row.charged), float(row.tokens)
