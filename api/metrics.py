"""Prometheus metrics in the text exposition format, without a client library.

Counts requests by method, route and status, and observes their latency in a
histogram; GraphQL operations are counted by type and outcome.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from threading import Lock

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics", "/cards/me.png")


class Metrics:
    def __init__(self) -> None:
        self._lock = Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency_buckets: Counter[tuple[str, int]] = Counter()
        self.latency_sum: Counter[str] = Counter()
        self.latency_count: Counter[str] = Counter()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.latency_buckets[(route, bisect.bisect_left(BUCKETS, seconds))] += 1
            self.latency_sum[route] += seconds
            self.latency_count[route] += 1

    def render(self, gauges: dict[str, float]) -> str:
        lines = [
            "# HELP loyalty_http_requests_total HTTP requests by method, route and status.",
            "# TYPE loyalty_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self.requests.items()):
                labels = f'method="{method}",route="{route}",status="{status}"'
                lines.append(f"loyalty_http_requests_total{{{labels}}} {count}")
            lines += [
                "# HELP loyalty_http_request_seconds Latency of HTTP requests.",
                "# TYPE loyalty_http_request_seconds histogram",
            ]
            for route in sorted(self.latency_count):
                cumulative = 0
                for index, bound in enumerate((*BUCKETS, float("inf"))):
                    cumulative += self.latency_buckets[(route, index)]
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(
                        f'loyalty_http_request_seconds_bucket{{route="{route}",le="{le}"}} '
                        f"{cumulative}"
                    )
                lines.append(
                    f'loyalty_http_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]}'
                )
                lines.append(
                    f'loyalty_http_request_seconds_count{{route="{route}"}} '
                    f"{self.latency_count[route]}"
                )
        for name, value in gauges.items():
            lines += [f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

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
            self.metrics.observe(
                scope.get("method", "GET"), route, status, time.perf_counter() - started
            )
