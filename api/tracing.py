"""OpenTelemetry tracing, off by default; `LOYALTY_TRACING=true` turns it on.

Each GraphQL operation becomes a span (with its parse, validation and resolver spans,
from strawberry's OpenTelemetryExtension) and each SQL statement through SQLAlchemy a
span (the SQLAlchemy instrumentation). Spans go to an OTLP/HTTP collector configured the standard
way (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, ...), batched off the
request path. The libraries are the `otel` extra (`pip install 'loyalty[otel]'`); they
are imported only when tracing is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.runtime import Runtime


def enable(runtime: Runtime, provider: Any = None) -> Any:
    """Trace this runtime's SQL and return the tracer provider for the GraphQL spans: the
    one given (tests pass one with an in-memory exporter) or one exporting over OTLP."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    if provider is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": runtime.settings.tracing_service_name})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # The instrumentation declares SQLAlchemy < 2.1; its engine events work on 2.1 too
    # (tests/api/test_tracing.py checks the SQL spans). The hot reads that run on asyncpg
    # directly (persistence/fastpath.py) are not traced.
    SQLAlchemyInstrumentor().instrument(
        engine=runtime.db.engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )
    return provider


def extension(provider: Any) -> Any:
    """A factory for strawberry's OpenTelemetry extension on `provider`."""
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return lambda: OpenTelemetryExtension(tracer_provider=provider)
