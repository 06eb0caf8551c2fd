"""Crash test: `kill -9` a real server mid-stream; clients retry with the same keys.

Afterwards no acknowledged write is lost, nothing is applied twice, and every
wallet's ledger sums to its balance. PostgreSQL only: that is the production
deployment, and SQLite's durability is SQLite's own.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api.auth import mint_token
from api.ids import encode
from api.runtime import Runtime
from api.settings import Settings
from domain.model import Principal, Role
from domain.services import members, programs
from persistence.migrate import upgrade
from persistence.tables import LedgerEntryRow
from tests.conftest import _postgres_database
from tests.support import ledger_totals

ROOT = Path(__file__).resolve().parents[2]
KILLS = 3
OPERATIONS = 400
CLIENTS = 8

PURCHASE = """mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) {
  pointsEarned errors { code } } }"""
ADJUST = """mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) {
  wallet { balance } errors { code } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, url: str, secret: str, tmp: Path) -> None:
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
        self.env.update(LOYALTY_DATABASE_URL=url, LOYALTY_JWT_SECRET=secret, PYTHONPATH=str(ROOT))
        # one admin fires every write as fast as it can; the budget has its own tests
        self.env.update(LOYALTY_COST_BUDGET="10000000")
        self.tmp = tmp
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=self.tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (
                        await client.get(f"http://127.0.0.1:{self.port}/readyz")
                    ).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.mark.asyncio
async def test_kill_minus_nine_mid_stream_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path,
) -> None:
    # given a migrated PostgreSQL database with a program and members
    url = await _postgres_database()
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, jwt_secret=uuid.uuid4().hex * 2, _env_file=None)
    runtime = Runtime.from_settings(settings)
    slug = "crash"
    async with runtime.uow() as uow:
        await programs.create_program(uow, runtime.clock, slug=slug, name="Crash", currency="EUR")
    member_ids = []
    for n in range(4):
        principal = Principal(role=Role.MEMBER, program_slug=slug, subject=f"m{n}")
        async with runtime.uow() as uow:
            member = await members.enroll(uow, runtime.clock, principal, members.Enrollment())
        member_ids.append(member.id)

    token = mint_token(settings, program=slug, role=Role.ADMIN, subject="crash-admin")
    rng = random.Random(7)
    operations = []
    for n in range(OPERATIONS):
        member = encode("Member", rng.choice(member_ids))
        if n % 4 == 3:
            key = f"adj-{n}"
            variables = {"memberId": member, "points": 5, "reason": "crash", "idempotencyKey": key}
            operations.append((ADJUST, {"input": variables}, f"adjust:{key}"))
        else:
            total = {"amountMinor": 100 + n, "currency": "EUR"}
            variables = {"memberId": member, "orderId": f"order-{n}", "total": total}
            operations.append((PURCHASE, {"input": variables}, f"order:order-{n}"))

    server = Server(url, settings.jwt_secret or "", tmp_path)
    await server.start()
    acknowledged: set[str] = set()
    queue: asyncio.Queue[tuple[str, dict, str]] = asyncio.Queue()
    for operation in operations:
        queue.put_nowait(operation)

    async def client_loop() -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            while not queue.empty():
                query, variables, reference = queue.get_nowait()
                while True:  # retry the same request, same key, until it is answered
                    try:
                        response = await client.post(
                            f"http://127.0.0.1:{server.port}/graphql",
                            json={"query": query, "variables": variables},
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        body = response.json()
                        payload = next(iter(body["data"].values()))
                        assert payload["errors"] == [], body
                        acknowledged.add(reference)
                        break
                    except (httpx.TransportError, ValueError, TypeError, KeyError):
                        await asyncio.sleep(0.05)

    left_at_kill: list[int] = []

    async def killer() -> None:
        for _ in range(KILLS):
            await asyncio.sleep(0.25)
            left_at_kill.append(queue.qsize())
            server.kill()
            await asyncio.sleep(0.1)
            await server.start()

    try:
        # when the server is killed several times while clients write and retry
        await asyncio.wait_for(
            asyncio.gather(killer(), *(client_loop() for _ in range(CLIENTS))), timeout=90
        )
    finally:
        server.kill()

    # then the kills really hit mid-stream, every operation was acknowledged and is
    # in the ledger exactly once
    assert len(left_at_kill) == KILLS and all(left > 0 for left in left_at_kill), left_at_kill
    assert len(acknowledged) == OPERATIONS
    entries = LedgerEntryRow.__table__
    async with runtime.reader() as uow:
        rows = (
            await uow.conn.execute(
                select(entries.c.reference, func.count()).group_by(entries.c.reference)
            )
        ).all()
        assert {ref for ref, _ in rows} == acknowledged
        assert all(count == 1 for _, count in rows)
    for member_id in member_ids:
        totals = await ledger_totals(runtime, member_id)
        assert totals.consistent(), totals
        assert totals.balance >= 0
    await runtime.db.dispose()
