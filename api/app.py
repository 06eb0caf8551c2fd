"""The Starlette application: GraphQL at /graphql, health and readiness probes, metrics."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.limits import BodySizeLimit, CostBudget
from api.metrics import Metrics, MetricsMiddleware
from api.observability import RequestIdMiddleware
from api.qr import qr_png
from api.runtime import Runtime
from api.schema import build_schema
from api.settings import Settings
from api.view import LoyaltyGraphQL
from domain.errors import AccessError, DomainError, NotAuthenticated
from domain.services import instore

log = logging.getLogger("loyalty.app")
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10


def tune_garbage_collector() -> None:
    """A full collection scans every tracked object, and each open subscription keeps
    about 285 of them: at 10,000 subscribers one took 2.5 s, stalling every socket
    (p99 2.2 s over 120 s). So: startup objects (modules, schema, pools) go to the
    permanent generation, young collections stay as they are, and a full one runs only
    after 10,000 middle ones (about every two hours at 100 commits/s). Garbage in
    reference cycles that survived two young collections waits that long, and the
    rare full collection still stalls: fewer objects per subscription is the remedy."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 10, 10_000)


def create_app(runtime: Runtime | None = None, settings: Settings | None = None) -> Starlette:
    """The ASGI app. Pass a `runtime` to share its database and clock (tests do)."""
    runtime = runtime or Runtime.from_settings(settings or Settings())
    production = runtime.settings.production
    graphql = LoyaltyGraphQL(
        runtime,
        schema=build_schema(
            production=production,
            budget=CostBudget.for_database(runtime.db, runtime.settings),
            cpu_seconds=runtime.settings.query_cpu_seconds,
        ),
        graphql_ide=None if production else "graphiql",
        allow_queries_via_get=True,
        # The legacy graphql-ws protocol is refused (CVE-2026-35523 was an auth bypass there).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        connection_init_wait_timeout=timedelta(seconds=10),
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            await runtime.db.ping()
        except Exception:
            log.exception("database not reachable")
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ready", "database": "ok"})

    collected = Metrics()

    async def card_png(request: Request) -> Response:
        """The calling member's card as a PNG QR code, for clients that want an image."""
        try:
            principal = runtime.verifier.from_header(request.headers.get("authorization"))
            if principal is None:
                raise NotAuthenticated()
            async with runtime.reader() as uow:
                view = await instore.member_card(
                    uow, runtime.clock, principal, runtime.settings.card_key_bytes
                )
        except AccessError as error:
            status = 401 if isinstance(error, NotAuthenticated) else 403
            return JSONResponse({"error": error.code, "message": error.message}, status)
        except DomainError as error:
            return JSONResponse({"error": error.code, "message": error.message}, 404)
        return Response(
            qr_png(view.payload),
            media_type="image/png",
            headers={"Cache-Control": "no-store", "X-Card-Expires-At": view.expires_at.isoformat()},
        )

    async def metrics(_: Request) -> PlainTextResponse:
        pool = runtime.db.engine.pool
        gauges = {"loyalty_db_pool_checked_out": getattr(pool, "checkedout", lambda: 0)()}
        return PlainTextResponse(collected.render(gauges), media_type="text/plain; version=0.0.4")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if runtime.settings.live_updates:
            await runtime.bus.start()
        if runtime.settings.gc_tuning:
            tune_garbage_collector()
        yield
        await runtime.bus.stop()
        await runtime.db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/cards/me.png", card_png),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit)
    app.add_middleware(MetricsMiddleware, metrics=collected)
    app.add_middleware(RequestIdMiddleware)
    app.state.runtime = runtime
    return app
