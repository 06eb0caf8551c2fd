"""Earn throughput with live updates on and off (PostgreSQL NOTIFY cost on the write path).

    .venv/bin/python bench/earn_throughput.py [--url postgresql://postgres@127.0.0.1/loyalty_bench]

Runs the recordPurchase use case (the same transaction the API runs) with C concurrent
writers over M members, alternating rounds with NOTIFY on and off; prints purchases per
second per round and the median ratio. Run by hand; never part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import asyncpg

from api.runtime import Runtime
from api.settings import Settings
from domain.model import Principal, Role
from domain.services import members, programs
from persistence.migrate import upgrade


async def fresh_database(url: str) -> None:
    admin = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def round_(
    runtime: Runtime, member_ids: list[uuid.UUID], purchases: int, writers: int
) -> float:
    admin = Principal(role=Role.ADMIN, program_slug="bench", subject="bench")
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(purchases):
        queue.put_nowait(n)

    async def writer() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            command = purchases.RecordPurchase(
                member_ids[n % len(member_ids)], f"o-{uuid.uuid4().hex}", 1000 + n, "EUR"
            )
            async with runtime.uow() as uow:
                await purchases.record_purchase(uow, runtime.clock, admin, command)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return purchases / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/loyalty_bench")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--purchases", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    await fresh_database(args.url)
    await asyncio.to_thread(upgrade, args.url)
    base = Settings(
        database_url=args.url, jwt_secret="bench", _env_file=None, db_pool_size=args.writers
    )
    setup = Runtime.from_settings(base)
    async with setup.uow() as uow:
        await programs.create_program(uow, setup.clock, slug="bench", name="Bench", currency="EUR")
    member_ids = []
    for n in range(args.members):
        principal = Principal(role=Role.MEMBER, program_slug="bench", subject=f"m{n}")
        async with setup.uow() as uow:
            member_ids.append(
                (await members.enroll(uow, setup.clock, principal, members.Enrollment())).id
            )
    await setup.db.dispose()
    results: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for live in (True, False):
            runtime = Runtime.from_settings(base.model_copy(update={"live_updates": live}))
            if live:
                await runtime.bus.start()  # a listening process, as in production
            rate = await round_(runtime, member_ids, args.purchases, args.writers)
            await runtime.bus.stop()
            await runtime.db.dispose()
            results[live].append(rate)
            print(f"live_updates={live!s:5}  {rate:8.1f} purchases/s")
    on, off = statistics.median(results[True]), statistics.median(results[False])
    print(f"median: on {on:.1f}/s, off {off:.1f}/s, cost of NOTIFY {100 * (1 - on / off):.1f}%")


if __name__ == "__main__":
    asyncio.run(main())
