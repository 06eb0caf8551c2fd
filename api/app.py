"""The Starlette application: GraphQL at /graphql, health and readiness probes, metrics."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from api.cors import Cors
from api.graphiql import graphiql_assets
from api.graphql_http import GraphQLHTTP
from api.limits import BodySizeLimit, CostBudget
from api.metrics import CONTENT_TYPE, Metrics, MetricsMiddleware
from api.observability import RequestIdMiddleware
from api.persisted import AutomaticPersistedQueries, PersistedDocuments
from api.qr import qr_png
from api.runtime import Runtime
from api.schema import build_schema, load_trusted_documents
from api.settings import Settings
from api.ws import LiveEndpoint
from domain.errors import AccessError, DomainError, NotAuthenticated
from domain.services import instore

log = logging.getLogger("loyalty.app")
GAUGE_INTERVAL_SECONDS = 5.0


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


def create_app(
    runtime: Runtime | None = None,
    settings: Settings | None = None,
    tracer_provider: object | None = None,
) -> Starlette:
    """The ASGI app. Pass a `runtime` to share its database and clock (tests do), and a
    `tracer_provider` to collect the spans of `LOYALTY_TRACING` yourself."""
    runtime = runtime or Runtime.from_settings(settings or Settings())
    if runtime.settings.tracing:
        from api import tracing

        tracer_provider = tracing.enable(runtime, tracer_provider)
    else:
        tracer_provider = None
    production = runtime.settings.production
    collected = Metrics()
    # Trusted documents replace automatic persisted queries: only the manifest runs.
    trusted = load_trusted_documents(runtime.settings)
    schema = build_schema(
        production=production,
        budget=CostBudget.for_database(runtime.db, runtime.settings),
        cpu_seconds=runtime.settings.query_cpu_seconds,
        trusted=trusted,
        metrics=collected,
        tracer_provider=tracer_provider,
    )
    graphql_http = GraphQLHTTP(
        runtime,
        schema,
        PersistedDocuments(trusted, None if trusted else AutomaticPersistedQueries()),
        graphiql=not production,
    )
    # graphql-transport-ws only: the legacy graphql-ws protocol is refused (CVE-2026-35523
    # was an auth bypass there).
    live = LiveEndpoint(runtime, schema, trusted)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            await runtime.db.ping()
        except Exception:
            log.exception("database not reachable")
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ready", "database": "ok"})

    async def card_png(request: Request) -> Response:
        """The calling member's card as a PNG QR code, for clients that want an image."""
        try:
            principal = await runtime.verifier.authenticate(request.headers.get("authorization"))
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

    def update_pool_gauge() -> None:
        pool = runtime.db.engine.pool
        collected.db_pool.set(getattr(pool, "checkedout", lambda: 0)())

    counted = {"delivered": 0, "dropped": 0}

    def update_gauges() -> None:
        update_pool_gauge()
        # events counted since the last update, so each process adds only its own
        now = {"delivered": live.delivered, "dropped": live.undelivered + runtime.bus.dropped}
        for outcome, total in now.items():
            if total > counted[outcome]:
                collected.events.labels(outcome).inc(total - counted[outcome])
                counted[outcome] = total
        collected.subscribers.set(live.subscriber_count)
        collected.ws_connections.set(live.connection_count)
        collected.subscription_groups.set(len(live.groups))

    async def refresh_gauges() -> None:
        """Keep this process's gauges current between scrapes (under workers, another
        process may answer the scrape)."""
        while True:
            await asyncio.sleep(GAUGE_INTERVAL_SECONDS)
            update_gauges()

    async def metrics(request: Request) -> Response:
        token = runtime.settings.metrics_token
        if token and not hmac.compare_digest(
            request.headers.get("authorization", ""), f"Bearer {token}"
        ):
            return PlainTextResponse("metrics need the metrics token\n", 401)
        update_gauges()
        return Response(collected.render(), media_type=CONTENT_TYPE)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if runtime.settings.live_updates:
            await runtime.bus.start()
        await runtime.verifier.refresh_remote(force=True)
        if runtime.settings.gc_tuning:
            tune_garbage_collector()
        gauges = asyncio.create_task(refresh_gauges())
        yield
        gauges.cancel()
        await runtime.bus.stop()
        await runtime.db.dispose()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql_http),
        WebSocketRoute("/graphql", live),
        Route("/cards/me.png", card_png),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]
    if not production:
        routes.append(graphiql_assets())
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(MetricsMiddleware, metrics=collected, gauges=update_pool_gauge)
    if runtime.settings.cors_origins:
        app.add_middleware(Cors, allow_origins=runtime.settings.cors_origins)
    app.add_middleware(RequestIdMiddleware)
    app.state.runtime = runtime
    app.state.live = live
    return app
