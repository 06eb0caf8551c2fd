"""The comparison server: bare Starlette routes running the same SQL as the GraphQL API.

GET  /wallet/{subject}  the wallet screen: program+tiers, member+wallet, 20 history
                        entries, qualifying points (the four statements GraphQL runs)
POST /purchase          the recordPurchase transaction: idempotency claim, wallet lock,
                        entry, lot, wallet update, purchase record

Run by bench/run.py: `uvicorn bench.raw_server:app --port P` with BENCH_DSN set.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DSN = os.environ.get("BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/loyalty_bench")
SLUG = "bench"
pool: asyncpg.Pool | None = None


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(DSN, min_size=4, max_size=10)
    yield
    await pool.close()


def _json(data: object) -> Response:
    return Response(json.dumps(data, default=str), media_type="application/json")


async def wallet(request: Request) -> Response:
    assert pool is not None
    subject = request.path_params["subject"]
    async with pool.acquire() as conn:
        tiers = await conn.fetch(
            "SELECT p.id AS pid, p.name AS pname, t.* FROM program p JOIN tier t ON t.program_id = p.id "
            "WHERE p.slug = $1 ORDER BY t.rank",
            SLUG,
        )
        program_id = tiers[0]["pid"]
        member = await conn.fetchrow(
            "SELECT m.*, w.balance, w.pending, w.lifetime_earned, w.version FROM member m "
            "JOIN wallet w ON w.member_id = m.id WHERE m.program_id = $1 AND m.subject = $2",
            program_id,
            subject,
        )
        history = await conn.fetch(
            "SELECT id, kind, points, balance_after, description, occurred_at FROM ledger_entry "
            "WHERE program_id = $1 AND member_id = $2 ORDER BY version DESC LIMIT 21",
            program_id,
            member["id"],
        )
        start = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
        qualifying = await conn.fetchval(
            "SELECT coalesce(sum(points), 0) FROM ledger_entry WHERE program_id = $1 AND "
            "member_id = $2 AND kind IN ('EARN','BONUS','REVERSAL') AND occurred_at >= $3",
            program_id,
            member["id"],
            start,
        )
    tier = next(t for t in tiers if t["id"] == member["tier_id"])
    return _json(
        {
            "me": {
                "displayName": member["display_name"],
                "tier": {"name": tier["name"]},
                "tierProgress": {"qualifyingPoints": qualifying},
                "wallet": {
                    "balance": member["balance"],
                    "pending": member["pending"],
                    "history": [dict(row) for row in history[:20]],
                },
            }
        }
    )


async def purchase(request: Request) -> Response:
    assert pool is not None
    body = await request.json()
    now = datetime.now(UTC)
    points = body["amountMinor"] * 10 // 100
    async with pool.acquire() as conn, conn.transaction():
        program_id = await conn.fetchval("SELECT id FROM program WHERE slug = $1", SLUG)
        member = await conn.fetchrow(
            "SELECT id, tier_id FROM member WHERE program_id = $1 AND subject = $2",
            program_id,
            body["subject"],
        )
        claimed = await conn.fetchval(
            "INSERT INTO idempotency_key (id, program_id, scope, key, fingerprint, response, "
            "created_at) VALUES ($1, $2, 'purchase', $3, 'x', '{}', $4) ON CONFLICT DO NOTHING "
            "RETURNING id",
            uuid.uuid4(),
            program_id,
            body["orderId"],
            now,
        )
        if claimed is None:
            return _json({"pointsEarned": points})
        wallet = await conn.fetchrow(
            "SELECT balance, version FROM wallet WHERE member_id = $1 FOR UPDATE", member["id"]
        )
        entry_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO ledger_entry (id, program_id, member_id, version, kind, points, "
            "balance_after, description, reference, actor, occurred_at) VALUES "
            "($1, $2, $3, $4, 'EARN', $5, $6, 'Purchase', $7, 'raw', $8)",
            entry_id,
            program_id,
            member["id"],
            wallet["version"] + 1,
            points,
            wallet["balance"] + points,
            "order:" + body["orderId"],
            now,
        )
        await conn.execute(
            "INSERT INTO lot (id, program_id, member_id, entry_id, points, remaining, "
            "available_at, created_at, held) VALUES ($1, $2, $3, $4, $5, $5, $6, $6, false)",
            uuid.uuid4(),
            program_id,
            member["id"],
            entry_id,
            points,
            now,
        )
        await conn.execute(
            "UPDATE wallet SET balance = balance + $2, lifetime_earned = lifetime_earned + $2, "
            "version = version + 1, updated_at = $3, last_activity_at = $3 WHERE member_id = $1",
            member["id"],
            points,
            now,
        )
        await conn.execute(
            "INSERT INTO purchase (id, program_id, member_id, order_id, amount_minor, currency, "
            "points, refunded_minor, reversed_points, entry_ids, occurred_at) VALUES "
            "($1, $2, $3, $4, $5, 'EUR', $6, 0, 0, '[]', $7)",
            uuid.uuid4(),
            program_id,
            member["id"],
            body["orderId"],
            body["amountMinor"],
            points,
            now,
        )
    return _json({"pointsEarned": points})


app = Starlette(
    routes=[Route("/wallet/{subject}", wallet), Route("/purchase", purchase, methods=["POST"])],
    lifespan=lifespan,
)
