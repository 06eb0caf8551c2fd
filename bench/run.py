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
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "results"
DSN = os.environ.get("BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/loyalty_bench")
SECRET = "bench-secret-" + "x" * 40
PORTS = {"graphql": 8101, "raw": 8102, "postgraphile": 8103, "graphql_quiet": 8104}
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


CHECKS = """
-- every answer is checked: a non-200 status or a body matching `bad_pattern` counts as bad
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  bad = 0
  -- order ids unique across scripts, rounds and threads (wrk's math.random is not seeded)
  run = salt .. "-" .. os.time() .. "-" .. tid
end
function response(status, headers, body)
  if status ~= 200 or (bad_pattern and string.find(body, bad_pattern)) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("bad: %d\\n", total))
end
"""


def lua(name: str, body: str, bad_pattern: str | None = None) -> Path:
    """A wrk script: `body` defines `request`; answers are checked (see CHECKS)."""
    path = OUT / f"{name}.lua"
    pattern = f"bad_pattern = {json.dumps(bad_pattern)}\n" if bad_pattern else ""
    salt = f"salt = {json.dumps(uuid.uuid4().hex[:8])}\n"
    path.write_text(salt + pattern + body + CHECKS)
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
            bad_pattern='"errors"',
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
            bad_pattern='"errors"',
        ),
    }


def purchase_scripts(
    sample: int, admin_token: str, member_ids: list[str], suffix: str = ""
) -> dict[str, Path]:
    """recordPurchase over `member_ids` (one id: all on one member) and the raw route's."""
    ids = "{" + ",".join(f'"{m}"' for m in member_ids) + "}"
    mutation = "mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) { pointsEarned errors { code } } }"
    return {
        "graphql": lua(
            "graphql_purchase" + suffix,
            f"local ids = {ids}\nlocal n = 0\n"
            "request = function()\n  n = n + 1\n  local id = ids[n % #ids + 1]\n"
            '  local body = \'{"query": '
            + json.dumps(mutation)
            + ', "variables": {"i": {"memberId": "\' .. id .. \'", "orderId": "g-\' .. run .. \'-\' .. n .. \'", "total": {"amountMinor": 1999, "currency": "EUR"}}}}\'\n'
            f"  return wrk.format('POST', '/graphql', {{['Content-Type']='application/json', ['Authorization']='Bearer {admin_token}'}}, body)\nend\n",
            # success carries `"errors":[]`; a refusal an error object, a failure `null`
            bad_pattern='"errors":%[{',
        ),
        "raw": lua(
            "raw_purchase" + suffix,
            "local n = 0\nrequest = function()\n  n = n + 1\n"
            f'  local body = \'{{"subject": "m\' .. (n % {sample} + 1) .. \'", "orderId": "r-\' .. run .. \'-\' .. n .. \'", "amountMinor": 1999}}\'\n'
            "  return wrk.format('POST', '/purchase', {['Content-Type']='application/json'}, body)\nend\n",
        ),
    }


@dataclass
class Load:
    rate: float  # requests per second
    p99_ms: float  # latency, 99th percentile
    bad: int  # answers that were not a success (status or body, see CHECKS)


def wrk(port: int, script: Path, duration: int, connections: int) -> Load:
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out)
    bad = re.search(r"bad: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if errors:
        print(f"  warning: socket errors on port {port}: {errors.group(1)}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return Load(
        rate=float(rate.group(1)) if rate else 0.0,
        p99_ms=float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        bad=int(bad.group(1)) if bad else -1,
    )


async def member_global_ids(sample: int) -> list[str]:
    from api.ids import encode

    conn = await asyncpg.connect(DSN)
    rows = await conn.fetch(
        "SELECT id FROM member WHERE subject = ANY($1::text[])",
        [f"m{n}" for n in range(1, sample + 1)],
    )
    await conn.close()
    return [encode("Member", row["id"]) for row in rows]


def pgbench_contention(duration: int, connections: int, program_id: str, member_id: str) -> float:
    """`connections` clients crediting one member with the raw route's purchase transaction:
    the contention ceiling of PostgreSQL itself on this machine."""
    script = OUT / "one_member_purchase.sql"
    p, m = f"'{program_id}'", f"'{member_id}'"
    script.write_text(
        "BEGIN;\n"
        "INSERT INTO idempotency_key (id, program_id, scope, key, fingerprint, response, "
        f"created_at) VALUES (gen_random_uuid(), {p}, 'purchase', 'pgb-' || gen_random_uuid(), "
        "'x', '{}', now());\n"
        f"SELECT balance, version FROM wallet WHERE member_id = {m} FOR UPDATE;\n"
        "INSERT INTO ledger_entry (id, program_id, member_id, version, kind, points, "
        "balance_after, description, reference, actor, occurred_at) SELECT gen_random_uuid(), "
        "program_id, member_id, version + 1, 'EARN', 199, balance + 199, 'Purchase', "
        f"'order:pgbench', 'pgbench', now() FROM wallet WHERE member_id = {m} RETURNING id \\gset\n"
        "INSERT INTO lot (id, program_id, member_id, entry_id, points, remaining, available_at, "
        f"created_at, held) VALUES (gen_random_uuid(), {p}, {m}, ':id'::uuid, 199, 199, now(), now(), "
        "false);\n"
        "UPDATE wallet SET balance = balance + 199, lifetime_earned = lifetime_earned + 199, "
        "version = version + 1, updated_at = now(), last_activity_at = now() "
        f"WHERE member_id = {m};\n"
        "INSERT INTO purchase (id, program_id, member_id, order_id, amount_minor, currency, "
        "points, refunded_minor, reversed_points, entry_ids, occurred_at) VALUES "
        f"(gen_random_uuid(), {p}, {m}, 'pgb-' || gen_random_uuid(), 1999, 'EUR', 199, 0, 0, "
        "'[]', now());\n"
        "END;\n"
    )
    result = subprocess.run(
        [
            "pgbench",
            "-n",
            f"-c{connections}",
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


async def sanity_check(program_id: str) -> None:
    """Before any load: every server answers the benchmarked request with data, not errors,
    and all three give the same wallet and the same 20 history entries, in order."""
    toks = tokens(3)
    async with httpx.AsyncClient(timeout=10) as client:
        for n in (1, 2, 3):
            ours = await client.post(
                f"http://127.0.0.1:{PORTS['graphql']}/graphql",
                json={"query": WALLET_QUERY},
                headers={"Authorization": f"Bearer {toks[n - 1]}"},
            )
            theirs = await client.post(
                f"http://127.0.0.1:{PORTS['postgraphile']}/graphql",
                json={"query": POSTGRAPHILE_QUERY, "variables": {"p": program_id, "s": f"m{n}"}},
            )
            raw = await client.get(f"http://127.0.0.1:{PORTS['raw']}/wallet/m{n}")
            for name, response in (("graphql", ours), ("postgraphile", theirs), ("raw", raw)):
                body = response.json()
                if response.status_code != 200 or "errors" in body:
                    raise RuntimeError(f"{name} answered {response.status_code}: {str(body)[:300]}")
            me = ours.json()["data"]["me"]
            node = theirs.json()["data"]["allMembers"]["nodes"][0]
            bare = raw.json()["me"]
            seen = {
                "graphql": (
                    me["wallet"]["balance"],
                    [
                        (e["node"]["points"], e["node"]["balanceAfter"], e["node"]["description"])
                        for e in me["wallet"]["history"]["edges"]
                    ],
                ),
                "postgraphile": (  # BigInt columns come as strings there
                    int(node["walletByMemberId"]["balance"]),
                    [
                        (int(e["points"]), int(e["balanceAfter"]), e["description"])
                        for e in node["ledgerEntriesByMemberId"]["nodes"]
                    ],
                ),
                "raw": (
                    bare["wallet"]["balance"],
                    [
                        (e["points"], e["balance_after"], e["description"])
                        for e in bare["wallet"]["history"]
                    ],
                ),
            }
            if len({repr(v) for v in seen.values()}) != 1 or len(seen["raw"][1]) != 20:
                raise RuntimeError(f"the servers disagree on member m{n}: {seen}")


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
    quiet = {**env, "LOYALTY_LIVE_UPDATES": "false"}
    servers = [
        start("graphql", [PY, "-m", "api.cli", "serve", "--port", str(PORTS["graphql"])], env),
        # the same app with live updates off: what publishing wallet events costs
        start(
            "graphql_quiet",
            [PY, "-m", "api.cli", "serve", "--port", str(PORTS["graphql_quiet"])],
            quiet,
        ),
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
                "--no-access-log",
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
        await wait_ready(f"http://127.0.0.1:{PORTS['graphql_quiet']}/healthz")
        await wait_ready(f"http://127.0.0.1:{PORTS['raw']}/wallet/m1")
        await wait_ready(f"http://127.0.0.1:{PORTS['postgraphile']}/graphql")
        sample = min(args.sample, args.members)
        conn = await asyncpg.connect(DSN)
        program_id = str(await conn.fetchval("SELECT id FROM program WHERE slug = 'bench'"))
        first_member = str(await conn.fetchval("SELECT id FROM member WHERE subject = 'm1'"))
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
        one_member = purchase_scripts(1, admin, await member_global_ids(1), suffix="_one")
        await sanity_check(program_id)
        loads: dict[str, list[Load]] = {}

        def run(round_: int, key: str, port: int, script: Path) -> None:
            load = wrk(port, script, args.duration, args.connections)
            loads.setdefault(key, []).append(load)
            print(
                f"round {round_ + 1} {key:28} {load.rate:9.1f} req/s  p99 {load.p99_ms:8.1f} ms"
                f"  bad {load.bad}"
            )

        for round_ in range(args.rounds):  # alternating rounds: drift hits everyone alike
            for name in ("graphql", "raw", "postgraphile"):
                run(round_, f"wallet/{name}", PORTS[name], wallet[name])
            run(round_, "purchase/graphql", PORTS["graphql"], purchase["graphql"])
            run(
                round_,
                "purchase/graphql, live updates off",
                PORTS["graphql_quiet"],
                purchase["graphql"],
            )
            run(round_, "purchase/raw", PORTS["raw"], purchase["raw"])
            run(round_, "one member/graphql", PORTS["graphql"], one_member["graphql"])
            run(round_, "one member/raw", PORTS["raw"], one_member["raw"])
        contention = pgbench_contention(args.duration, args.connections, program_id, first_member)
        write_report(args, loads, contention)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=20)


def write_report(args, loads, contention) -> None:  # type: ignore[no-untyped-def]
    medians = {key: statistics.median(load.rate for load in runs) for key, runs in loads.items()}

    def ratio(a: str, b: str) -> str:
        return f"{medians[a] / medians[b]:.2f}x" if medians.get(b) else "n/a"

    notes = {
        "wallet/graphql": f"{ratio('wallet/graphql', 'wallet/raw')} of raw (target 0.6x), "
        f"{ratio('wallet/graphql', 'wallet/postgraphile')} of PostGraphile (target 1.0x)",
        "purchase/graphql": f"{ratio('purchase/graphql', 'purchase/raw')} of raw (target 0.8x)",
        "purchase/graphql, live updates off": "live updates cost "
        + (
            f"{100 * (1 - medians['purchase/graphql'] / medians['purchase/graphql, live updates off']):.1f}%"
            if medians.get("purchase/graphql, live updates off")
            else "n/a"
        )
        + " of earn throughput (target <= 10%)",
        "one member/graphql": f"{ratio('one member/graphql', 'one member/raw')} of raw; "
        f"{medians['one member/graphql'] / contention:.2f}x of pgbench"
        if contention
        else "",
    }
    versions = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        "## Latest results",
        "",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" Node {versions}, PostgreSQL on 127.0.0.1; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Data: {args.members:,} members x {args.history} ledger entries; load rotates over"
        f" {min(args.sample, args.members):,} members",
        f"- Load: wrk -t2 -c{args.connections} -d{args.duration}s --latency, {args.rounds} alternating"
        " rounds, median; one server process each; every answer checked (bad = not a success)",
        f'- Command: `make bench` (BENCH_ARGS="{" ".join(sys.argv[1:])}")',
        "",
        "| scenario | req/s (median) | rounds | p99 ms (median) | bad | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for key, runs in loads.items():
        rounds = ", ".join(f"{load.rate:.0f}" for load in runs)
        p99 = statistics.median(load.p99_ms for load in runs)
        bad = sum(load.bad for load in runs)
        lines.append(
            f"| {key} | {medians[key]:.1f} | {rounds} | {p99:.1f} | {bad} | {notes.get(key, '')} |"
        )
    lines += [
        f"| pgbench: {args.connections} clients, the raw purchase transaction on one member "
        f"| {contention:.1f} tps | | | | |",
        "",
    ]
    path = ROOT / "docs" / "PERFORMANCE.md"
    existing = path.read_text() if path.exists() else ""
    marker = "<!-- results -->"
    head, _, tail = existing.partition(marker)
    rest = tail.split("<!-- /results -->", 1)[1] if "<!-- /results -->" in tail else ""
    path.write_text(head + marker + "\n" + "\n".join(lines) + "<!-- /results -->" + rest)
    print(f"wrote {path}")


if __name__ == "__main__":
    asyncio.run(main())
