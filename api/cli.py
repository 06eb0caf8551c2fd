"""The `loyalty` command. Its forms are fixed: scripts and operators rely on them."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from api.settings import ConfigurationError, Settings
from domain.errors import DomainError
from domain.model import Role

if TYPE_CHECKING:
    from api.runtime import Runtime
    from domain.model import Program

T = TypeVar("T")

log = logging.getLogger("loyalty.cli")


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be used; the message says why, in one line."""


def describe_database_error(settings: Settings, error: BaseException) -> str:
    """One line naming the setting to fix, without the password."""
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:
        return f"LOYALTY_DATABASE_URL is not a database URL: {settings.database_url!r}"
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    first = reason[0] if reason else type(error).__name__
    return f"cannot use the database LOYALTY_DATABASE_URL={shown}: {first[:300]}"


def _wait_for_database(settings: Settings, timeout: float) -> None:
    """Ping the database, retrying with backoff for up to `timeout` seconds (a server
    starting next to its database); SIGTERM ends the wait at once (default action)."""
    from persistence.db import Database

    async def ping() -> None:
        db = Database(settings.database_url, pool_size=1)
        try:
            await db.ping()
        finally:
            await db.dispose()

    deadline = time.monotonic() + timeout
    delay = 0.5
    while True:
        try:
            asyncio.run(ping())
            return
        except Exception as error:
            message = describe_database_error(settings, error)
            if time.monotonic() + delay > deadline:
                raise DatabaseUnavailable(message) from None
            log.warning("database not ready, retrying", extra={"fields": {"error": message}})
            time.sleep(delay)
            delay = min(delay * 2, 8.0)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.observability import configure_logging, logging_config

    configure_logging()
    settings.check()
    _wait_for_database(settings, args.wait_for_database)
    if settings.trusted_documents is not None:
        from api.persisted import TrustedDocumentsError
        from api.schema import load_trusted_documents

        try:  # here, so that a bad manifest stops `serve` with one line, not per worker
            load_trusted_documents(settings)
        except TrustedDocumentsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    # every worker process reads it into its Settings (see api.app.tune_garbage_collector)
    os.environ.setdefault("LOYALTY_GC_TUNING", "true")
    workers = getattr(args, "workers", settings.workers)
    if workers > 1:
        _metrics_across_workers()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=getattr(args, "host", settings.host),
        port=getattr(args, "port", settings.port),
        workers=workers,
        ws_per_message_deflate=False,
        # an over-size message is refused (1009) before it is read whole, let alone parsed
        ws_max_size=settings.ws_max_message_bytes,
        log_config=logging_config(),
        timeout_graceful_shutdown=10,
    )
    return 0


def _metrics_across_workers() -> None:
    """Workers write their metrics to files in a fresh folder that /metrics sums up
    (prometheus_client's multiprocess mode); set before the workers start."""
    import shutil
    import tempfile

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)  # values of a previous run
        os.makedirs(folder, exist_ok=True)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="loyalty-metrics-")


def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    from persistence.migrate import upgrade

    before, after = upgrade(settings.database_url)
    if before == after:
        print(f"database is up to date (revision {after})")
    else:
        print(f"database upgraded from revision {before or 'none (empty)'} to {after}")
    return 0


async def _with_runtime(settings: Settings, action: Callable[[Runtime], Awaitable[T]]) -> T:
    from api.runtime import Runtime

    runtime = Runtime.from_settings(settings)
    try:
        return await action(runtime)
    finally:
        await runtime.db.dispose()


def _program_create(args: argparse.Namespace, settings: Settings) -> int:
    from domain.services.programs import create_program

    async def action(runtime: Runtime) -> Program:
        async with runtime.uow() as uow:
            return await create_program(
                uow, runtime.clock, slug=args.slug, name=args.name, currency=args.currency
            )

    try:
        program = asyncio.run(_with_runtime(settings, action))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    print(f"created program {program.slug} ({program.name}, {program.currency})")
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from api.auth import mint_token

    role = Role(args.role)
    if role is Role.STAFF and not args.store:
        print("error: staff tokens need --store", file=sys.stderr)
        return 2
    if role is Role.PARTNER and not args.partner:
        print("error: partner tokens need --partner", file=sys.stderr)
        return 2
    print(
        mint_token(
            settings,
            program=args.program,
            role=role,
            subject=args.sub,
            store=args.store,
            partner=args.partner,
            ttl_seconds=args.ttl,
        )
    )
    return 0


def _demo(_: argparse.Namespace, settings: Settings) -> int:
    from api.demo import seed_demo

    created = asyncio.run(_with_runtime(settings, seed_demo))
    print("seeded the demo program" if created else "the demo program exists already")
    print(_demo_tokens(settings))
    return 0


def _demo_tokens(settings: Settings) -> str:
    """Tokens for the demo's roles (24 h), with the header GraphiQL wants."""
    from api.auth import mint_token

    lines = ["", 'Tokens to try with (valid 24 h; paste as {"Authorization": "Bearer <token>"}):']
    for label, role, subject, store, partner in [
        ("member alice", Role.MEMBER, "alice", None, None),
        ("staff at berlin-1", Role.STAFF, "till-1", "berlin-1", None),
        ("partner cinema", Role.PARTNER, "box-office", None, "cinema"),
        ("admin", Role.ADMIN, "backoffice", None, None),
    ]:
        token = mint_token(
            settings,
            program="demo",
            role=role,
            subject=subject,
            store=store,
            partner=partner,
            ttl_seconds=24 * 3600,
        )
        lines.append(f"  {label}: {token}")
    return "\n".join(lines)


def _jobs(args: argparse.Namespace, settings: Settings) -> int:
    from api.observability import configure_logging
    from persistence.jobs import Jobs

    configure_logging()
    jobs_log = logging.getLogger("loyalty.jobs")
    metrics = JobMetrics.serve(settings.jobs_metrics_port) if settings.jobs_metrics_port else None

    async def action(runtime: Runtime) -> int:
        jobs = Jobs(runtime.db, runtime.bus if settings.live_updates else None)
        while True:
            started = time.monotonic()
            report = await jobs.run_once(runtime.clock.now())
            if metrics is not None:
                metrics.observe(report, time.monotonic() - started)
            jobs_log.info(
                "jobs run",
                extra={
                    "fields": {
                        "released_points": report.released_points,
                        "expired_points": report.expired_points,
                        "expired_lots": report.expired_lots,
                        "tier_changes": report.tier_changes,
                        "birthday_bonuses": report.birthday_bonuses,
                        "leaderboard_bonuses": report.leaderboard_bonuses,
                        "members": len(report.members),
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    }
                },
            )
            if args.once:
                return 0
            await asyncio.sleep(args.interval)

    try:
        return int(asyncio.run(_with_runtime(settings, action)))
    except KeyboardInterrupt:
        return 0


class JobMetrics:
    """`loyalty jobs` is its own process: with LOYALTY_JOBS_METRICS_PORT it serves its
    Prometheus metrics (runs, their duration, items handled) on that port."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.runs = Counter("loyalty_job_runs", "Passes of the jobs loop.", registry=self.registry)
        self.seconds = Histogram(
            "loyalty_job_run_seconds", "Duration of a pass.", registry=self.registry
        )
        self.items = Counter(
            "loyalty_job_items",
            "What the jobs did: points released and expired, lots expired, tier changes.",
            ["kind"],
            registry=self.registry,
        )

    @classmethod
    def serve(cls, port: int) -> JobMetrics:
        from prometheus_client import start_http_server

        metrics = cls()
        start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
        return metrics

    def observe(self, report: object, seconds: float) -> None:
        self.runs.inc()
        self.seconds.observe(seconds)
        kinds = ("released_points", "expired_points", "expired_lots", "tier_changes")
        for kind in (*kinds, "birthday_bonuses"):
            self.items.labels(kind).inc(getattr(report, kind))


def _schema(_: argparse.Namespace, settings: Settings) -> int:
    from api.schema import schema

    print(schema.as_str())
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("loyalty")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def parser() -> argparse.ArgumentParser:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    root = argparse.ArgumentParser(
        prog="loyalty",
        description="Loyalty backend. Settings come from LOYALTY_* variables or .env.",
        formatter_class=formatter,
    )
    root.add_argument("--version", action="version", version=f"loyalty {_version()}")
    commands = root.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, formatter_class=formatter)

    serve = command("serve", "serve GraphQL over HTTP and WebSocket")
    unset = argparse.SUPPRESS  # fall back to the setting
    serve.add_argument(
        "--host", default=unset, help="address to bind (default: LOYALTY_HOST or 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=unset, help="port (default: LOYALTY_PORT or 8000)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=unset,
        help="server processes (default: LOYALTY_WORKERS or 1)",
    )
    serve.add_argument(
        "--wait-for-database",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="retry an unreachable database this long before giving up",
    )
    serve.set_defaults(run=_serve)

    command("migrate", "create or upgrade the database schema").set_defaults(run=_migrate)

    program = command("program", "manage programs")
    program_commands = program.add_subparsers(dest="program_command", required=True)
    create = program_commands.add_parser(
        "create", help="create a program", formatter_class=formatter
    )
    create.add_argument("slug", help="short unique name used in tokens, e.g. demo")
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--currency", required=True, help="ISO 4217 code, e.g. EUR")
    create.set_defaults(run=_program_create)

    token = command("token", "print a signed JWT (development and tests)")
    token.add_argument("--program", required=True, help="program slug")
    token.add_argument("--role", required=True, choices=[r.value for r in Role], help="role")
    token.add_argument("--sub", required=True, help="subject: app user, employee or client id")
    token.add_argument("--store", help="store code (staff tokens)")
    token.add_argument("--partner", help="partner slug (partner tokens)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(run=_token)

    command("demo", "seed the demo program").set_defaults(run=_demo)

    jobs = command("jobs", "release pending points, expire points, evaluate tiers")
    jobs.add_argument("--once", action="store_true", help="one pass, then exit")
    jobs.add_argument("--interval", type=float, default=60.0, help="seconds between passes")
    jobs.set_defaults(run=_jobs)
    command("schema", "print the GraphQL schema (SDL)").set_defaults(run=_schema)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; configuration and database problems end it with one line."""
    args = parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:  # a setting of the wrong type or range
        problems = "; ".join(
            f"LOYALTY_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        print(f"error: invalid setting: {problems}", file=sys.stderr)
        return 2
    try:
        return int(args.run(args, settings))
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if _is_database_error(error):
            print(f"error: {describe_database_error(settings, error)}", file=sys.stderr)
            return 1
        raise


def _is_database_error(error: BaseException) -> bool:
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
    from sqlalchemy.exc import ArgumentError, DBAPIError

    return isinstance(error, OSError | DBAPIError | ArgumentError | asyncpg.PostgresError)


if __name__ == "__main__":
    sys.exit(main())
