"""Subscription fan-out (issue 9): commit-to-client latency, delivery rate and memory per
subscriber with N idle graphql-transport-ws subscribers on ONE server process, against a
bare `websockets` server (bench/bare_ws.py) holding the same number of idle connections.
Run by hand, never in `make test`:

    .venv/bin/python bench/subscriptions.py [--counts 100,1000,5000,10000] [--rate 100]

Processes: this orchestrator (seeds, commits, measures), the server under test (fresh for
every N and kind, so memory freed by an earlier run cannot be reused), and a load client
(this file with `--client`) that opens the N sockets and stamps what arrives. The client is
a process of its own so that receiving on 10,000 sockets never delays the commit stamps,
and neither shares an event loop with the server; on two cores it still shares the CPU
with the server, which can only add to the latencies.

Per N and kind: warm the server up (20 subscriptions opened and closed), wait until it is
idle, read VmRSS; open N subscriptions (member m1..mN, one socket each, each its own
member), wait until idle again, read VmRSS; memory per subscriber = difference / N. Then
(ours only) after `settle` seconds of unmeasured commits (the connection storm's garbage
collections behind us), commit `rate` wallet credits per second for `duration` seconds, each to a
random subscribed member, as direct SQL transactions that do what recordPurchase does for
live updates (wallet row, ledger entry, the same NOTIFY payload from persistence.events);
latency = the client's receive stamp minus the moment COMMIT returned to this process
(CLOCK_MONOTONIC, shared by both processes). PostgreSQL signals listeners inside commit
processing, before it answers COMMIT, so the stamp is late by at most the COMMIT reply's
loopback trip: the latency is under-counted by that much (reported as `commit_rtt`, the
whole COMMIT round trip, an upper bound of the error). The server's garbage collections
inside the phase are logged and reported, since they make the tail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROTOCOL = "graphql-transport-ws"
QUERY = (
    "subscription { walletChanged { delta balance pending version "
    "entry { id kind points balanceAfter description occurredAt } tier { name } } }"
)
WARMUP = 20
# Our server under a thin wrapper that logs every garbage collection of 1 ms or more to its
# log (a callback per collection, microseconds): the latency tail is read against these.
GC_LOGGING = """
import gc, runpy, sys, time
started = [0.0]
def pause(phase, info):
    if phase == "start":
        started[0] = time.monotonic()
        return
    ms = (time.monotonic() - started[0]) * 1000
    if ms >= 1:
        sys.stderr.write(f"GCPAUSE {time.monotonic():.4f} {info['generation']} {ms:.2f}\\n")
gc.callbacks.append(pause)
policy = sys.argv.pop(1)
if policy != "default":  # what a change of the server's startup would do, for comparison
    import uvicorn.server
    startup = uvicorn.server.Server.startup
    async def startup_then_freeze(self, sockets=None):
        await startup(self, sockets)
        gc.collect()
        gc.freeze()  # imports, schema, pools: never scanned again
        if policy == "freeze+threshold":
            gc.set_threshold(20_000, 50, 100)
        elif policy == "freeze+rare-full":
            gc.set_threshold(700, 10, 10_000)  # young ones as usual, full ones rarely
    uvicorn.server.Server.startup = startup_then_freeze
runpy.run_module("api.cli", run_name="__main__", alter_sys=True)
"""
GC_POLICIES = ("default", "freeze", "freeze+threshold", "freeze+rare-full")
FDS = 65536


def raise_fd_limit() -> int:
    """Soft limit up to FDS (and the hard one too when allowed); children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, FDS)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------- load client (own process)


async def client(url: str, tokens: list[str], mode: str, concurrency: int) -> None:
    """Opens one socket per token, subscribes (mode graphql) or just says hello (mode bare),
    prints a `ready` line, stamps every `next`, and on `stop` from stdin prints the stamps."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    received: list[tuple[int, int, float]] = []
    problems: Counter[str] = Counter()
    samples: list[str] = []
    sockets = []
    readers = []
    gate = asyncio.Semaphore(concurrency)

    async def read(index: int, ws) -> None:  # type: ignore[no-untyped-def]
        try:
            async for raw in ws:
                stamp = time.monotonic()
                message = json.loads(raw)
                payload = message.get("payload") or {}
                if message.get("type") == "next" and not payload.get("errors"):
                    received.append((index, payload["data"]["walletChanged"]["version"], stamp))
                else:
                    problems[str(message.get("type"))] += 1
                    if len(samples) < 5:
                        samples.append(str(raw)[:300])
        except ConnectionClosed as closed:
            problems[f"closed {closed.rcvd.code if closed.rcvd else 'abnormal'}"] += 1

    async def open_one(index: int, token: str) -> None:
        async with gate:
            try:
                ws = await connect(
                    url,
                    subprotocols=[PROTOCOL],  # type: ignore[list-item]
                    compression=None,
                    ping_interval=None,
                    open_timeout=120,
                    close_timeout=1,
                )
                init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
                await ws.send(json.dumps(init))
                if mode == "graphql":
                    ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if ack.get("type") != "connection_ack":
                        problems["no ack"] += 1
                        samples.append(str(ack)[:300])
                        return
                await ws.send(
                    json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}})
                )
            except Exception as error:
                problems[f"connect {type(error).__name__}"] += 1
                if len(samples) < 5:
                    samples.append(repr(error)[:300])
                return
        sockets.append(ws)
        readers.append(asyncio.create_task(read(index, ws)))

    started = time.monotonic()
    await asyncio.gather(*(open_one(i, t) for i, t in enumerate(tokens)))
    ready = {
        "ready": len(sockets),
        "seconds": round(time.monotonic() - started, 2),
        "problems": dict(problems),
        "samples": samples,
    }
    print(json.dumps(ready), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    report = {"received": received, "problems": dict(problems), "samples": samples}
    print(json.dumps(report), flush=True)
    os._exit(0)  # the kernel closes 10,000 sockets faster than 10,000 close handshakes


# ---------------------------------------------------------------- orchestrator


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_idle(pid: int, busy: float = 0.05, window: float = 1.0, limit: float = 300) -> None:
    """Until the process used less than `busy` of a core for two windows in a row."""
    quiet = 0
    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(window)
        now = cpu_seconds(pid)
        quiet = quiet + 1 if now - last < busy * window else 0
        last = now
        if quiet >= 2:
            return
    raise RuntimeError(f"process {pid} never went idle")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


async def wait_quiet(own: list[int], limit: float, busy: float = 0.25) -> float:
    """Until the machine, minus our own processes, used less than `busy` of its cores for
    two seconds (other jobs on a shared two-core box wreck a latency tail); the last share."""
    deadline = time.monotonic() + limit
    quiet = 0
    share = 1.0
    while time.monotonic() < deadline:
        b0, t0 = machine_busy()
        c0 = sum(cpu_seconds(p) for p in own)
        await asyncio.sleep(1)
        b1, t1 = machine_busy()
        c1 = sum(cpu_seconds(p) for p in own)
        ticks = os.sysconf("SC_CLK_TCK")
        share = max(0.0, ((b1 - b0) - (c1 - c0) * ticks) / max(1, t1 - t0))
        quiet = quiet + 1 if share < busy else 0
        if quiet >= 2:
            break
    return share


def gc_pauses(log: str, start: float, end: float) -> dict[str, list[float]]:
    """Per generation: [count, longest ms, total ms] of the server's collections >= 1 ms."""
    from bench import run as harness

    found: dict[str, list[float]] = {}
    for line in (harness.OUT / f"{log}.log").read_text(errors="replace").splitlines():
        if not line.startswith("GCPAUSE "):
            continue
        _, stamp, generation, ms = line.split()
        if start <= float(stamp) <= end:
            count, longest, total = found.get(f"gen{generation}", [0, 0.0, 0.0])
            found[f"gen{generation}"] = [
                count + 1,
                max(longest, float(ms)),
                round(total + float(ms), 2),
            ]
    return found


class Client:
    """The load client process: `ready` once its sockets are open, stamps on `stop`."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def open(cls, url: str, tokens: list[str], mode: str, concurrency: int) -> Client:
        handle = tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False)
        handle.write("\n".join(tokens))
        handle.close()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--client",
            url,
            handle.name,
            mode,
            str(concurrency),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**28,
        )
        self = cls(proc)
        self.ready = await self._line()
        os.unlink(handle.name)
        return self

    async def _line(self) -> dict:  # type: ignore[type-arg]
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError("load client died (see stderr above)")
        return json.loads(line)

    async def stop(self) -> dict:  # type: ignore[type-arg]
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"stop\n")
        await self.proc.stdin.drain()
        report = await self._line()
        await self.proc.wait()
        return report


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        from bench import run as harness

        self.args = args
        self.harness = harness
        harness.DSN = args.dsn
        harness.OUT.mkdir(exist_ok=True)
        self.port = args.port
        self.env = {
            **os.environ,
            "LOYALTY_DATABASE_URL": args.dsn,
            "LOYALTY_JWT_SECRET": harness.SECRET,
            "LOYALTY_COST_BUDGET": "1000000000",
            "LOYALTY_PRODUCTION": "true",
        }

    def next_port(self) -> int:
        """A fresh port per server: client ports in TIME_WAIT never collide with it."""
        self.port += 1
        return self.port

    async def ensure_seeded(self, needed: int) -> None:
        import asyncpg

        try:
            conn = await asyncpg.connect(self.args.dsn)
        except asyncpg.InvalidCatalogNameError:
            found = 0
        else:
            try:
                found = await conn.fetchval(
                    "SELECT count(*) FROM member m JOIN program p ON p.id = m.program_id "
                    "WHERE p.slug = 'bench'"
                )
            except asyncpg.UndefinedTableError:
                found = 0
            await conn.close()
        if found < needed:
            print(f"seeding {self.args.dsn}: {max(needed, self.args.members):,} members")
            await self.harness.seed(max(needed, self.args.members), self.args.history)

    async def members(self, count: int) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]]:
        """(member id, program id, tier id) of m1..m<count>, in that order."""
        import asyncpg

        conn = await asyncpg.connect(self.args.dsn)
        rows = await conn.fetch(
            "SELECT m.subject, m.id, m.program_id, m.tier_id FROM member m "
            "JOIN program p ON p.id = m.program_id "
            "WHERE p.slug = 'bench' AND m.subject = ANY($1::text[])",
            [f"m{n}" for n in range(1, count + 1)],
        )
        await conn.close()
        by_subject = {r["subject"]: (r["id"], r["program_id"], r["tier_id"]) for r in rows}
        return [by_subject[f"m{n}"] for n in range(1, count + 1)]

    async def server(self, kind: str, port: int, n: int) -> subprocess.Popen[bytes]:
        if kind == "ours":
            command = [sys.executable, "-c", GC_LOGGING, self.args.server_gc, "serve"]
            command += ["--port", str(port)]
        else:
            command = [sys.executable, str(ROOT / "bench" / "bare_ws.py"), "--port", str(port)]
        proc = self.harness.start(f"subs-{kind}-{n}", command, self.env)
        for _ in range(300):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return proc
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"{kind} server exited; see bench/results/") from None
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{kind} server did not come up on {port}")

    async def measure(
        self, kind: str, n: int, tokens: list[str], members: list
    ) -> dict[str, object]:
        args = self.args
        port = self.next_port()
        url = f"ws://127.0.0.1:{port}/graphql"
        mode = "graphql" if kind == "ours" else "bare"
        proc = await self.server(kind, port, n)
        try:
            warm = await Client.open(url, tokens[:WARMUP], mode, args.concurrency)
            await warm.stop()
            await wait_idle(proc.pid)
            before = rss_kib(proc.pid)
            client = await Client.open(url, tokens[:n], mode, args.concurrency)
            await wait_idle(proc.pid)
            after = rss_kib(proc.pid)
            result: dict[str, object] = {
                "connected": client.ready["ready"],
                "connect_seconds": client.ready["seconds"],
                "rss_before_kib": before,
                "rss_after_kib": after,
                "kib_per_subscriber": round((after - before) / n, 2),
            }
            print(
                f"  {kind:4} N={n:>6,}: {client.ready['ready']:,} open in "
                f"{client.ready['seconds']}s, RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB "
                f"= {(after - before) / n:.1f} KiB/subscriber {client.ready['problems'] or ''}"
            )
            if kind == "ours":
                own = [os.getpid(), proc.pid, client.proc.pid]
                result["others_busy_before"] = round(await wait_quiet(own, args.quiet), 3)
                settled = await self.drive(members[:n], args.settle)  # not measured
                await asyncio.sleep(args.drain)
                cpu_before = cpu_seconds(proc.pid)
                busy_before = machine_busy()
                phase = time.monotonic()
                commits = await self.drive(members[:n], args.duration)
                await asyncio.sleep(args.drain)
                result["gc_pauses"] = gc_pauses(f"subs-{kind}-{n}", phase, time.monotonic())
                cpu = cpu_seconds(proc.pid) - cpu_before
                busy_after = machine_busy()
                result["machine_busy"] = round(
                    (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]), 3
                )
                report = await client.stop()
                result.update(self.latency(n, commits, len(settled), report))
                result["server_cpu_share"] = round(cpu / (args.duration + args.drain), 3)
                print(
                    f"         latency p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
                    f"max {result['max_ms']} ms, delivered {result['delivered']:,}/"
                    f"{result['expected']:,}, GC {result['gc_pauses']}, "
                    f"server CPU {result['server_cpu_share']:.0%}, machine "
                    f"{result['machine_busy']:.0%} of {os.cpu_count()} cores "
                    f"{report['problems'] or ''} {report['samples'][:2] or ''}"
                )
            else:
                await client.stop()
            return result
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    async def drive(self, members: list, seconds: float) -> list[tuple[int, int, float, float]]:
        """`rate` credits per second for `duration` seconds, each to a random subscribed
        member not already being credited; (index, version, COMMIT sent, COMMIT returned)."""
        import asyncpg

        from domain.events import WalletChanged
        from persistence.events import CHANNEL, encode

        args = self.args
        pool = await asyncpg.create_pool(args.dsn, min_size=8, max_size=8)
        commits: list[tuple[int, int, float, float]] = []
        busy: set[int] = set()
        rng = random.Random(len(members))

        async def credit(index: int) -> None:
            member_id, program_id, _ = members[index]
            async with pool.acquire() as conn:
                tx = conn.transaction()
                await tx.start()
                row = await conn.fetchrow(
                    "UPDATE wallet SET balance = balance + 10, lifetime_earned = lifetime_earned + 10, "
                    "version = version + 1, updated_at = now(), last_activity_at = now() "
                    "WHERE member_id = $1 RETURNING balance, pending, version",
                    member_id,
                )
                entry_id = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO ledger_entry (id, program_id, member_id, version, kind, points, "
                    "balance_after, description, reference, actor, occurred_at) "
                    "VALUES ($1, $2, $3, $4, 'EARN', 10, $5, 'Bench credit', $6, 'bench', now())",
                    entry_id,
                    program_id,
                    member_id,
                    row["version"],
                    row["balance"],
                    f"order:subs-{entry_id.hex}",
                )
                event = WalletChanged(
                    program_id=program_id,
                    member_id=member_id,
                    version=row["version"],
                    delta=10,
                    balance=row["balance"],
                    pending=row["pending"],
                    entry_id=entry_id,
                    tier_id=None,  # as recordPurchase: the server reads the member's tier
                )
                for payload in encode([event]):
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                sent = time.monotonic()
                await tx.commit()
                commits.append((index, row["version"], sent, time.monotonic()))
            busy.discard(index)

        tasks = []
        total = int(args.rate * seconds)
        start = time.monotonic() + 0.1
        for k in range(total):
            delay = start + k / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            index = rng.randrange(len(members))
            while index in busy:
                index = rng.randrange(len(members))
            busy.add(index)
            tasks.append(asyncio.create_task(credit(index)))
        await asyncio.gather(*tasks)
        await pool.close()
        return commits

    def latency(self, n: int, commits: list, settled: int, report: dict) -> dict[str, object]:  # type: ignore[type-arg]
        arrived = {(index, version): stamp for index, version, stamp in report["received"]}
        latencies = sorted(
            (arrived[(index, version)] - committed) * 1000
            for index, version, _, committed in commits
            if (index, version) in arrived
        )
        rtts = sorted((committed - sent) * 1000 for _, _, sent, committed in commits)
        first = min((c[3] for c in commits), default=0.0)
        timeline = [
            [round(committed - first, 4), round((arrived[(i, v)] - committed) * 1000, 2)]
            for i, v, _, committed in commits
            if (i, v) in arrived
        ]
        raw = self.harness.OUT / f"subscriptions-{n}-timeline.json"
        raw.write_text(json.dumps(sorted(timeline)))

        def pct(values: list[float], p: float) -> float | None:
            if not values:
                return None
            return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 2)

        return {
            "expected": len(commits),
            "delivered": len(latencies),
            "delivered_pct": round(100 * len(latencies) / max(1, len(commits)), 2),
            "unexpected_messages": len(report["received"]) - len(latencies) - settled,
            "p50_ms": pct(latencies, 50),
            "p90_ms": pct(latencies, 90),
            "p99_ms": pct(latencies, 99),
            "max_ms": round(latencies[-1], 2) if latencies else None,
            "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
            "commit_rtt_p50_ms": pct(rtts, 50),
            "commit_rtt_p99_ms": pct(rtts, 99),
            "client_problems": report["problems"],
        }

    async def run(self) -> None:
        args = self.args
        counts = sorted(args.counts)
        await self.ensure_seeded(max(counts))
        members = await self.members(max(counts))
        tokens = self.harness.tokens(max(counts))
        results = []
        for n in counts:
            ours = await self.measure("ours", n, tokens, members)
            bare = await self.measure("bare", n, tokens, members)
            ratio = ours["kib_per_subscriber"] / bare["kib_per_subscriber"]  # type: ignore[operator]
            results.append({"subscribers": n, "ours": ours, "bare": bare, "memory_ratio": ratio})
            print(f"  N={n:,}: memory per subscriber {ratio:.2f}x the bare server")
        self.write(results)

    def write(self, results: list[dict]) -> None:  # type: ignore[type-arg]
        args = self.args
        machine = {
            "machine": platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "rate_per_second": args.rate,
            "duration_seconds": args.duration,
            "server_gc": args.server_gc,
        }
        if args.server_gc != "default":  # an experiment: its own JSON, the doc untouched
            out = self.harness.OUT / f"subscriptions-gc-{args.server_gc.replace('+', '-')}.json"
            out.write_text(json.dumps({"setup": machine, "results": results}, indent=2))
            print(f"wrote {out}")
            return
        out = self.harness.OUT / "subscriptions.json"
        out.write_text(json.dumps({"setup": machine, "results": results}, indent=2))
        lines = [
            "## Subscriptions: latest results",
            "",
            f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, PostgreSQL on 127.0.0.1; one server process",
            f"- Load: N idle `walletChanged` subscribers (one member each); {args.rate:g} "
            f"commits/s for {args.duration:g} s (after {args.settle:g} s unmeasured), each "
            "crediting one random subscriber",
            "- Latency: COMMIT returned -> `next` message received by the client",
            "- Server garbage collector: as `loyalty serve` sets it (LOYALTY_GC_TUNING, api/app.py)",
            "",
            "| subscribers | p50 ms | p99 ms | max ms | delivered | KiB/subscriber ours"
            " | KiB/subscriber bare websockets | ratio | longest GC pause | server CPU"
            " | machine busy |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results:
            ours, bare = r["ours"], r["bare"]
            lines.append(
                f"| {r['subscribers']:,} | {ours['p50_ms']} | {ours['p99_ms']} | {ours['max_ms']} "
                f"| {ours['delivered_pct']} % ({ours['delivered']:,}/{ours['expected']:,}) "
                f"| {ours['kib_per_subscriber']} | {bare['kib_per_subscriber']} "
                f"| {r['memory_ratio']:.2f}x | {longest_pause(ours['gc_pauses'])} "
                f"| {ours['server_cpu_share']:.0%} "
                f"| {ours['machine_busy']:.0%} |"
            )
        lines += [
            "",
            "Targets (issue 9): 10,000 subscribers with p99 <= 25 ms and 100 % delivered;"
            " memory per subscriber <= 1.5x the bare websockets server.",
            "",
        ]
        path = ROOT / "docs" / "PERFORMANCE.md"
        text = path.read_text()
        head, marker, tail = text.partition("<!-- subscriptions -->")
        if not marker or "<!-- /subscriptions -->" not in tail:
            raise RuntimeError("docs/PERFORMANCE.md lacks the subscriptions markers")
        rest = tail.split("<!-- /subscriptions -->", 1)[1]
        path.write_text(head + marker + "\n" + "\n".join(lines) + "<!-- /subscriptions -->" + rest)
        print(f"wrote {out} and {path}")


def longest_pause(pauses: dict[str, list[float]]) -> str:
    if not pauses:
        return "none >= 1 ms"
    generation, (_, longest, _) = max(pauses.items(), key=lambda kv: kv[1][1])
    return f"{longest:.0f} ms ({generation})"


def main() -> None:
    raise_fd_limit()
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        _, _, url, token_file, mode, concurrency = sys.argv
        tokens = Path(token_file).read_text().split()
        try:
            import uvloop

            uvloop.run(client(url, tokens, mode, int(concurrency)))
        except ImportError:
            asyncio.run(client(url, tokens, mode, int(concurrency)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--counts",
        type=lambda s: [int(x.replace("_", "")) for x in s.split(",")],
        default=[100, 1000, 5000, 10000],
    )
    parser.add_argument("--rate", type=float, default=100, help="commits per second")
    parser.add_argument("--duration", type=float, default=20, help="seconds of commits per N")
    parser.add_argument(
        "--settle",
        type=float,
        default=10,
        help="seconds of unmeasured commits first, so the connection storm's garbage "
        "collections are behind us",
    )
    parser.add_argument("--drain", type=float, default=3, help="seconds to wait for stragglers")
    parser.add_argument(
        "--quiet", type=float, default=120, help="seconds to wait for other jobs to calm down"
    )
    parser.add_argument(
        "--server-gc",
        choices=GC_POLICIES,
        default="default",
        help="experiment: freeze the server's startup objects out of the collector "
        "(and raise its thresholds) before any connection, as a startup hook would",
    )
    parser.add_argument("--concurrency", type=int, default=100, help="sockets opening at once")
    parser.add_argument(
        "--dsn",
        default=os.environ.get("BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/loyalty_bench"),
    )
    parser.add_argument("--members", type=int, default=10_000, help="seed size when seeding")
    parser.add_argument("--history", type=int, default=20)
    parser.add_argument("--port", type=int, default=8120, help="servers use ports above this")
    args = parser.parse_args()
    asyncio.run(Bench(args).run())


if __name__ == "__main__":
    main()
