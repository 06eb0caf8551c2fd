"""Two `loyalty serve` processes on one PostgreSQL: a change made through A reaches a
subscriber on B through LISTEN/NOTIFY within a second."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from api.auth import mint_token
from api.settings import Settings
from domain.model import Role
from persistence.migrate import upgrade
from tests.api.live_support import connect, free_port
from tests.conftest import _postgres_database

ROOT = Path(__file__).resolve().parents[2]


async def start_server(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    host = f"127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"http://{host}/readyz")).status_code == 200:
                    return process, host
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError("server did not start")


@pytest.mark.asyncio
async def test_a_change_through_one_process_reaches_a_subscriber_on_another(
    tmp_path: Path,
) -> None:
    url = await _postgres_database()
    await asyncio.to_thread(upgrade, url)
    secret = uuid.uuid4().hex * 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env.update(LOYALTY_DATABASE_URL=url, LOYALTY_JWT_SECRET=secret, PYTHONPATH=str(ROOT))
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "program",
            "create",
            "xp",
            "--name",
            "X",
            "--currency",
            "EUR",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    settings = Settings(jwt_secret=secret, _env_file=None)
    member = mint_token(settings, program="xp", role=Role.MEMBER, subject="alice")
    admin = mint_token(settings, program="xp", role=Role.ADMIN, subject="backend")
    (a, host_a), (b, host_b) = await asyncio.gather(
        start_server(env, tmp_path), start_server(env, tmp_path)
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://{host_a}") as client:
            enrolled = await client.post(
                "/graphql",
                json={"query": "mutation { enroll(input: {}) { member { id } } }"},
                headers={"Authorization": f"Bearer {member}"},
            )
            member_id = enrolled.json()["data"]["enroll"]["member"]["id"]
            async with connect(host_b, member) as sock:
                assert (await sock.receive())["type"] == "connection_ack"
                await sock.subscribe("1", "subscription { walletChanged { delta version } }")
                await asyncio.sleep(0.5)  # the subscription registers on B asynchronously
                started = time.monotonic()
                purchase = await client.post(
                    "/graphql",
                    json={
                        "query": """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
                                      pointsEarned } }""",
                        "variables": {
                            "i": {
                                "memberId": member_id,
                                "orderId": "o-1",
                                "total": {"amountMinor": 4200, "currency": "EUR"},
                            }
                        },
                    },
                    headers={"Authorization": f"Bearer {admin}"},
                )
                assert purchase.json()["data"]["recordPurchase"]["pointsEarned"] == 420
                event = await sock.next_data(timeout=1.0)
                assert event == {"walletChanged": {"delta": 420, "version": 1}}
                assert time.monotonic() - started < 1.0
    finally:
        for process in (a, b):
            process.terminate()
            process.wait(timeout=10)
