"""OpenTelemetry tracing: off by default, one setting turns it on for operations and SQL."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from api.app import create_app
from api.runtime import Runtime
from tests.support import Api


async def _spans(runtime: Runtime, program: str, tracing: bool) -> list[str]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced = Runtime(
        settings=runtime.settings.model_copy(update={"tracing": tracing}),
        db=runtime.db,
        clock=runtime.clock,
    )
    app = create_app(traced, tracer_provider=provider)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        api = Api(client, traced, program)
        await api.ok("query Slug { program { slug } }", token=api.admin())
        await api.enroll("traced")
    return [span.name for span in exporter.get_finished_spans()]


@pytest.mark.asyncio
async def test_tracing_records_the_operation_and_its_sql(runtime: Runtime, program: str) -> None:
    try:
        names = await _spans(runtime, program, tracing=True)
    finally:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().uninstrument()
    assert "GraphQL Query: Slug" in names, names
    # the enrollment's writes go through SQLAlchemy on both databases
    assert any(name.split()[0] in ("INSERT", "SELECT", "UPDATE") for name in names), names


@pytest.mark.asyncio
async def test_tracing_is_off_by_default(runtime: Runtime, program: str) -> None:
    assert await _spans(runtime, program, tracing=False) == []
