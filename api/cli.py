"""The `loyalty` command. Its forms are fixed: scripts and operators rely on them."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from api.settings import Settings
from domain.errors import DomainError
from domain.model import Role


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.observability import configure_logging

    configure_logging()
    # every worker process reads it into its Settings (see api.app.tune_garbage_collector)
    os.environ.setdefault("LOYALTY_GC_TUNING", "true")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ws_per_message_deflate=False,
        # an over-size message is refused (1009) before it is read whole, let alone parsed
        ws_max_size=settings.ws_max_message_bytes,
        log_config=None,
        timeout_graceful_shutdown=10,
    )
    return 0


def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    from persistence.migrate import upgrade

    upgrade(settings.database_url)
    print("database is up to date")
    return 0


async def _with_runtime(settings: Settings, action):  # type: ignore[no-untyped-def]
    from api.runtime import Runtime

    runtime = Runtime.from_settings(settings)
    try:
        return await action(runtime)
    finally:
        await runtime.db.dispose()


def _program_create(args: argparse.Namespace, settings: Settings) -> int:
    from domain.services.programs import create_program

    async def action(runtime):  # type: ignore[no-untyped-def]
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
    return 0


def _jobs(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from api.observability import configure_logging
    from persistence.jobs import Jobs

    configure_logging()

    async def action(runtime):  # type: ignore[no-untyped-def]
        jobs = Jobs(runtime.db, runtime.bus if settings.live_updates else None)
        while True:
            report = await jobs.run_once(runtime.clock.now())
            print(
                json.dumps(
                    {
                        "released_points": report.released_points,
                        "expired_points": report.expired_points,
                        "expired_lots": report.expired_lots,
                        "tier_changes": report.tier_changes,
                        "members": len(report.members),
                    }
                ),
                flush=True,
            )
            if args.once:
                return 0
            await asyncio.sleep(args.interval)

    try:
        return int(asyncio.run(_with_runtime(settings, action)))
    except KeyboardInterrupt:
        return 0


def _schema(_: argparse.Namespace, settings: Settings) -> int:
    from api.schema import schema

    print(schema.as_str())
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="loyalty", description="Loyalty backend.")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve GraphQL over HTTP and WebSocket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)

    commands.add_parser("migrate", help="create or upgrade the database schema").set_defaults(
        run=_migrate
    )

    program = commands.add_parser("program", help="manage programs")
    program_commands = program.add_subparsers(dest="program_command", required=True)
    create = program_commands.add_parser("create", help="create a program")
    create.add_argument("slug")
    create.add_argument("--name", required=True)
    create.add_argument("--currency", required=True)
    create.set_defaults(run=_program_create)

    token = commands.add_parser("token", help="print a signed JWT (development and tests)")
    token.add_argument("--program", required=True)
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--sub", required=True)
    token.add_argument("--store")
    token.add_argument("--partner")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(run=_token)

    commands.add_parser("demo", help="seed the demo program").set_defaults(run=_demo)

    jobs = commands.add_parser("jobs", help="release pending points, expire points, evaluate tiers")
    jobs.add_argument("--once", action="store_true", help="one pass, then exit")
    jobs.add_argument("--interval", type=float, default=60.0, help="seconds between passes")
    jobs.set_defaults(run=_jobs)
    commands.add_parser("schema", help="print the GraphQL schema (SDL)").set_defaults(run=_schema)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args, Settings()))


if __name__ == "__main__":
    sys.exit(main())
