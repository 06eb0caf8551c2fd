"""The benchmark harness (`make bench`): seed PostgreSQL, start the servers, load them with
wrk in alternating rounds, and write docs/PERFORMANCE.md. Run by hand, never in `make test`.

    .venv/bin/python bench/run.py [--members 100000] [--duration 10] [--rounds 3]

Servers, one process each, on loopback: our GraphQL API (`loyalty serve`), a bare
Starlette route running the same SQL (bench/raw_server.py), and PostGraphile 4.14.1
(bench/node_modules) on the same tables. Load: wrk (Debian package) with Lua scripts
that rotate over many members, because it is a C load generator that will not be the
bottleneck on two cores the way a Python client would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "results"
DSN = os.environ.get("BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/loyalty_bench")
SECRET = "bench-secret-" + "x" * 40
PORTS = {"graphql": 8101, "raw": 8102, "postgraphile": 8103}
PY = sys.executable
WALLET_QUERY = (
    "{ me { displayName tier { name } tierProgress { qualifyingPoints pointsToNext percent } "
    "wallet { balance pending history(first: 20) { edges { node { id kind points balanceAfter "
    "description occurredAt } } } } } }"
)
POSTGRAPHILE_QUERY = (
    "query($s: String!, $p: UUID!) { allMembers(condition: {programId: $p, subject: $s}) { nodes { displayName "
    "tierByTierId { name } walletByMemberId { balance pending } "
    "ledgerEntriesByMemberId(first: 20, orderBy: VERSION_DESC) { nodes { id kind points "
    "balanceAfter description occurredAt } } } } }"
)


async def seed(members: int, history: int) -> None:
    """A fresh database, migrated, with `members` members and `history` entries each."""
    admin_dsn = DSN.rsplit("/", 1)[0] + "/postgres"
    name = DSN.rsplit("/", 1)[1]
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    env = {**os.environ, "LOYALTY_DATABASE_URL": DSN, "LOYALTY_JWT_SECRET": SECRET}
    subprocess.run([PY, "-m", "api.cli", "migrate"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [PY, "-m", "api.cli", "program", "create", "bench", "--name", "Bench", "--currency", "EUR"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    conn = await asyncpg.connect(DSN)
    started = time.perf_counter()
    await conn.execute(
        """
        WITH p AS (SELECT id FROM program WHERE slug = 'bench'),
             t AS (SELECT id FROM tier WHERE program_id = (SELECT id FROM p) AND rank = 0)
        INSERT INTO member (id, program_id, subject, card_number, referral_code, display_name,
                            joined_at, tier_id, blocked, card_generation, card_last_step)
        SELECT gen_random_uuid(), (SELECT id FROM p), 'm' || g, '8' || lpad(g::text, 15, '0'),
               'R' || g, 'Member ' || g, now(), (SELECT id FROM t), false, 0, 0
        FROM generate_series(1, $1) AS g
        """,
        members,
    )
    await conn.execute(
        """
        INSERT INTO wallet (member_id, program_id, balance, pending, lifetime_earned, version,
                            updated_at, last_activity_at)
        SELECT id, program_id, $1::int * 100, 0, $1::int * 100, $1::int, now(), now() FROM member
        """,
        history,
    )
    await conn.execute(
        """
        INSERT INTO ledger_entry (id, program_id, member_id, version, kind, points, balance_after,
                                  description, reference, actor, occurred_at)
        SELECT gen_random_uuid(), m.program_id, m.id, v, 'EARN', 100, v * 100,
               'Purchase seed-' || v, 'order:seed-' || m.subject || '-' || v, 'seed',
               now() - (($1::int - v) || ' hours')::interval
        FROM member m, generate_series(1, $1::int) AS v
        """,
        history,
    )
    await conn.execute("ANALYZE")
    await conn.close()
    print(f"seeded {members} members x {history} entries in {time.perf_counter() - started:.1f}s")


def start(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(OUT / f"{name}.log", "wb")
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
    )


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def tokens(count: int) -> list[str]:
    from api.auth import mint_token
    from api.settings import Settings
    from domain.model import Role

    settings = Settings(jwt_secret=SECRET, _env_file=None)
    return [
        mint_token(settings, program="bench", role=Role.MEMBER, subject=f"m{n}", ttl_seconds=86400)
        for n in range(1, count + 1)
    ]


def lua(name: str, body: str) -> Path:
    path = OUT / f"{name}.lua"
    path.write_text(body)
    return path


def wallet_scripts(sample: int, program_id: str) -> dict[str, Path]:
    toks = tokens(sample)
    graphql = json.dumps({"query": WALLET_QUERY})
    return {
        "graphql": lua(
            "graphql_wallet",
            "local tokens = {" + ",".join(f'"{t}"' for t in toks) + "}\n"
            "local n = 0\nrequest = function()\n  n = n % #tokens + 1\n"
            f"  return wrk.format('POST', '/graphql', {{['Content-Type']='application/json', "
            f"['Authorization']='Bearer ' .. tokens[n]}}, {json.dumps(graphql)})\nend\n",
        ),
        "raw": lua(
            "raw_wallet",
            f"local n = 0\nrequest = function()\n  n = n % {sample} + 1\n"
            "  return wrk.format('GET', '/wallet/m' .. n)\nend\n",
        ),
        "postgraphile": lua(
            "postgraphile_wallet",
            f"local n = 0\nrequest = function()\n  n = n % {sample} + 1\n"
            '  local body = \'{"query": '
            + json.dumps(POSTGRAPHILE_QUERY).replace("'", "\\'")
            + ', "variables": {"p": "'
            + program_id
            + '", "s": "m\' .. n .. \'"}}\'\n'
            "  return wrk.format('POST', '/graphql', {['Content-Type']='application/json'}, body)\nend\n",
        ),
    }


def purchase_scripts(sample: int, admin_token: str, member_ids: list[str]) -> dict[str, Path]:
    ids = "{" + ",".join(f'"{m}"' for m in member_ids) + "}"
    mutation = "mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) { pointsEarned errors { code } } }"
    return {
        "graphql": lua(
            "graphql_purchase",
            f"local ids = {ids}\nlocal n = 0\nlocal run = math.random(1, 1000000000)\n"
            "request = function()\n  n = n + 1\n  local id = ids[n % #ids + 1]\n"
            '  local body = \'{"query": '
            + json.dumps(mutation)
            + ', "variables": {"i": {"memberId": "\' .. id .. \'", "orderId": "g-\' .. run .. \'-\' .. n .. \'", "total": {"amountMinor": 1999, "currency": "EUR"}}}}\'\n'
            f"  return wrk.format('POST', '/graphql', {{['Content-Type']='application/json', ['Authorization']='Bearer {admin_token}'}}, body)\nend\n",
        ),
        "raw": lua(
            "raw_purchase",
            f"local n = 0\nlocal run = math.random(1, 1000000000)\nrequest = function()\n  n = n + 1\n"
            f'  local body = \'{{"subject": "m\' .. (n % {sample} + 1) .. \'", "orderId": "r-\' .. run .. \'-\' .. n .. \'", "amountMinor": 1999}}\'\n'
            "  return wrk.format('POST', '/purchase', {['Content-Type']='application/json'}, body)\nend\n",
        ),
    }


def wrk(port: int, script: Path, duration: int, connections: int) -> float:
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx responses on port {port}")
    return float(match.group(1)) if match else 0.0


async def member_global_ids(sample: int) -> list[str]:
    from api.ids import encode

    conn = await asyncpg.connect(DSN)
    rows = await conn.fetch(
        "SELECT id FROM member WHERE subject = ANY($1::text[])",
        [f"m{n}" for n in range(1, sample + 1)],
    )
    await conn.close()
    return [encode("Member", row["id"]) for row in rows]


def pgbench_contention(duration: int, member_id: str) -> float:
    """32 clients crediting one wallet with the same statements, as pgbench sees it."""
    script = OUT / "one_row.sql"
    script.write_text(
        "BEGIN;\n"
        f"SELECT balance, version FROM wallet WHERE member_id = '{member_id}' FOR UPDATE;\n"
        f"UPDATE wallet SET balance = balance + 199, version = version + 1 WHERE member_id = '{member_id}';\n"
        "END;\n"
    )
    result = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c32",
            "-j2",
            f"-T{duration}",
            "-f",
            str(script),
            DSN.replace("postgresql", "postgres"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"tps = ([\d.]+)", result.stdout)
    return float(match.group(1)) if match else 0.0


async def sanity_check(program_id: str, admin: str) -> None:
    """Every server answers the benchmarked request with data, not errors."""
    member = tokens(1)[0]
    async with httpx.AsyncClient(timeout=10) as client:
        ours = await client.post(
            f"http://127.0.0.1:{PORTS['graphql']}/graphql",
            json={"query": WALLET_QUERY},
            headers={"Authorization": f"Bearer {member}"},
        )
        theirs = await client.post(
            f"http://127.0.0.1:{PORTS['postgraphile']}/graphql",
            json={"query": POSTGRAPHILE_QUERY, "variables": {"p": program_id, "s": "m1"}},
        )
        raw = await client.get(f"http://127.0.0.1:{PORTS['raw']}/wallet/m1")
    for name, response in (("graphql", ours), ("postgraphile", theirs), ("raw", raw)):
        body = response.json()
        if response.status_code != 200 or "errors" in body:
            raise RuntimeError(f"{name} answered {response.status_code}: {str(body)[:300]}")
    entries = theirs.json()["data"]["allMembers"]["nodes"][0]["ledgerEntriesByMemberId"]["nodes"]
    assert len(entries) == 20, entries
    _ = admin


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=20)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sample", type=int, default=1000, help="members the load rotates over")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    if not (BENCH / "node_modules" / ".bin" / "postgraphile").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=BENCH, check=True)
    await seed(args.members, args.history)
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": DSN,
        "LOYALTY_JWT_SECRET": SECRET,
        "LOYALTY_COST_BUDGET": "1000000000",
        "LOYALTY_PRODUCTION": "true",
        "BENCH_DSN": DSN,
    }
    servers = [
        start("graphql", [PY, "-m", "api.cli", "serve", "--port", str(PORTS["graphql"])], env),
        start(
            "raw",
            [
                PY,
                "-m",
                "uvicorn",
                "bench.raw_server:app",
                "--port",
                str(PORTS["raw"]),
                "--log-level",
                "warning",
            ],
            env,
        ),
        start(
            "postgraphile",
            [
                str(BENCH / "node_modules" / ".bin" / "postgraphile"),
                "-c",
                DSN.replace("postgresql", "postgres"),
                "--port",
                str(PORTS["postgraphile"]),
                "--host",
                "127.0.0.1",
                "--disable-query-log",
            ],
            env,
        ),
    ]
    try:
        await wait_ready(f"http://127.0.0.1:{PORTS['graphql']}/healthz")
        await wait_ready(f"http://127.0.0.1:{PORTS['raw']}/wallet/m1")
        await wait_ready(f"http://127.0.0.1:{PORTS['postgraphile']}/graphql")
        sample = min(args.sample, args.members)
        conn = await asyncpg.connect(DSN)
        program_id = str(await conn.fetchval("SELECT id FROM program WHERE slug = 'bench'"))
        await conn.close()
        wallet = wallet_scripts(sample, program_id)
        from api.auth import mint_token
        from api.settings import Settings
        from domain.model import Role

        admin = mint_token(
            Settings(jwt_secret=SECRET, _env_file=None),
            program="bench",
            role=Role.ADMIN,
            subject="bench",
            ttl_seconds=86400,
        )
        purchase = purchase_scripts(sample, admin, await member_global_ids(sample))
        await sanity_check(program_id, admin)
        results: dict[str, list[float]] = {}
        for round_ in range(args.rounds):  # alternating rounds: drift hits everyone alike
            for name in ("graphql", "raw", "postgraphile"):
                rate = wrk(PORTS[name], wallet[name], args.duration, args.connections)
                results.setdefault(f"wallet/{name}", []).append(rate)
                print(f"round {round_ + 1} wallet {name:13} {rate:9.1f} req/s")
            for name in ("graphql", "raw"):
                rate = wrk(PORTS[name], purchase[name], args.duration, args.connections)
                results.setdefault(f"purchase/{name}", []).append(rate)
                print(f"round {round_ + 1} purchase {name:11} {rate:9.1f} req/s")
        conn = await asyncpg.connect(DSN)
        first_member = str(await conn.fetchval("SELECT id FROM member WHERE subject = 'm1'"))
        await conn.close()
        contention = pgbench_contention(args.duration, first_member)
        write_report(
            args, {k: statistics.median(v) for k, v in results.items()}, results, contention
        )
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=20)


def write_report(args, medians, rounds, contention) -> None:  # type: ignore[no-untyped-def]
    def ratio(a: str, b: str) -> str:
        return f"{medians[a] / medians[b]:.2f}x" if medians.get(b) else "n/a"

    versions = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        "## Latest results",
        "",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" Node {versions}, PostgreSQL on 127.0.0.1",
        f"- Data: {args.members:,} members x {args.history} ledger entries; load rotates over"
        f" {min(args.sample, args.members):,} members",
        f"- Load: wrk -t2 -c{args.connections} -d{args.duration}s, {args.rounds} alternating rounds,"
        " median; one server process each",
        "",
        "| scenario | req/s (median) | rounds | ratio |",
        "|---|---|---|---|",
    ]
    for key, value in medians.items():
        others = ", ".join(f"{r:.0f}" for r in rounds[key])
        if key == "wallet/graphql":
            note = f"{ratio('wallet/graphql', 'wallet/raw')} of raw, {ratio('wallet/graphql', 'wallet/postgraphile')} of PostGraphile"
        elif key == "purchase/graphql":
            note = f"{ratio('purchase/graphql', 'purchase/raw')} of raw"
        else:
            note = ""
        lines.append(f"| {key} | {value:.1f} | {others} | {note} |")
    lines += [
        f"| pgbench: 32 clients crediting one wallet row | {contention:.1f} tps | | |",
        "",
        "Targets (issue 9): wallet >= 1.0x PostGraphile and >= 0.6x raw; purchase >= 0.8x raw.",
        "",
    ]
    path = ROOT / "docs" / "PERFORMANCE.md"
    existing = path.read_text() if path.exists() else ""
    marker = "<!-- results -->"
    head, _, tail = existing.partition(marker)
    notes = tail.split("<!-- /results -->", 1)[1] if "<!-- /results -->" in tail else ""
    path.write_text(head + marker + "\n" + "\n".join(lines) + "<!-- /results -->" + notes)
    print(f"wrote {path}")


if __name__ == "__main__":
    asyncio.run(main())
