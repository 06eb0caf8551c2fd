"""Prometheus metrics with prometheus_client, consistent across worker processes.

HTTP requests by method, route and status with their latency; GraphQL operations by
name, type and outcome with their latency; the database pool in use; subscribers
connected; live-update events delivered and dropped. `loyalty jobs` counts its runs and
items with the same library (see `JobMetrics`).

Under `loyalty serve --workers N` every worker writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (the serve command creates a fresh one), and `/metrics`, on
whichever worker answers, sums all of them: each scrape sees the whole server, not one
worker. In one process the metrics live in a registry of their own per app.

Label values are bounded: routes are a fixed list, operation names keep the first
`MAX_OPERATION_NAMES` distinct names seen by the process and count the rest as
`other` (names come from clients, so they must not grow the series without end).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics", "/cards/me.png")
MAX_OPERATION_NAMES = 200
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The server's metrics; one instance per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.http_requests = Counter(
            "loyalty_http_requests",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_seconds = Histogram(
            "loyalty_http_request_seconds",
            "Latency of HTTP requests.",
            ["route"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.operations = Counter(
            "loyalty_graphql_operations",
            "GraphQL operations by name, type and outcome (ok, error, refused).",
            ["operation", "type", "outcome"],
            registry=registry,
        )
        self.operation_seconds = Histogram(
            "loyalty_graphql_operation_seconds",
            "Latency of GraphQL operations by name.",
            ["operation"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.db_pool = Gauge(
            "loyalty_db_pool_checked_out",
            "Database connections in use.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.subscribers = Gauge(
            "loyalty_subscribers",
            "Live-update subscriptions open.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.ws_connections = Gauge(
            "loyalty_ws_connections",
            "WebSocket connections open.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.subscription_groups = Gauge(
            "loyalty_ws_subscription_groups",
            "Groups of equal subscriptions, each resolved once per event.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.events = Counter(
            "loyalty_events",
            "Live-update events handed to subscribers (delivered) or not (dropped).",
            ["outcome"],
            registry=registry,
        )
        self._names: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._names:
            return name
        if len(self._names) < MAX_OPERATION_NAMES and len(name) <= 100 and name.isidentifier():
            self._names.add(name)
            return name
        return "other"

    def observe_operation(self, name: str | None, kind: str, outcome: str, seconds: float) -> None:
        label = self.operation_label(name)
        self.operations.labels(label, kind, outcome).inc()
        self.operation_seconds.labels(label).observe(seconds)

    def render(self) -> bytes:
        """The exposition text: all processes' values under workers, this app's otherwise."""
        if multiprocess_dir():
            registry = CollectorRegistry()
            # prometheus_client leaves this constructor unannotated
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, gauges: Any = None) -> None:
        self.app = app
        self.metrics = metrics
        self.gauges = gauges

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = scope.get("path", "")
            route = path if path in ROUTES else "other"  # bounded label values
            self.metrics.http_requests.labels(scope.get("method", "GET"), route, status).inc()
            self.metrics.http_seconds.labels(route).observe(time.perf_counter() - started)
            if self.gauges is not None:
                self.gauges()


class OperationMetrics(SchemaExtension):
    """Counts each GraphQL operation by name, type and outcome, and times it."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        try:
            kind = ctx.operation_type.value
        except Exception:  # a document that does not parse has no operation type
            kind = "unknown"
        result = ctx.result
        if ctx.pre_execution_errors and (result is None or result.data is None):
            outcome = "refused"
        elif result is not None and result.errors:
            outcome = "error"
        else:
            outcome = "ok"
        self.metrics.observe_operation(
            ctx.operation_name, kind, outcome, time.perf_counter() - started
        )
