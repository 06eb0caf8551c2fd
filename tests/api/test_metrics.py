"""Metrics: GraphQL operations by name and outcome, bounded labels, a protected endpoint."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from api.metrics import MAX_OPERATION_NAMES
from api.runtime import Runtime
from tests.api.test_http import scrape
from tests.support import Api


@pytest.mark.asyncio
async def test_operations_are_counted_by_name_type_and_outcome(api: Api) -> None:
    # given a member who reads their wallet twice, asks for a field that does not exist,
    # and an anonymous caller
    token = api.member("mo")
    await api.enroll("mo")
    for _ in range(2):
        await api.raw("query Wallet { me { wallet { balance } } }", token=token)
    await api.raw("query Broken { me { nope } }", token=token)
    await api.raw("query Wallet { me { wallet { balance } } }")
    # when the metrics are scraped
    samples = scrape((await api.client.get("/metrics")).text)

    def count(name: str, kind: str, outcome: str) -> float:
        labels = (("operation", name), ("outcome", outcome), ("type", kind))
        return samples.get(("loyalty_graphql_operations_total", labels), 0)

    # then each operation is counted by name and outcome, and timed
    assert count("Wallet", "query", "ok") == 2
    assert count("Wallet", "query", "error") == 1  # UNAUTHENTICATED
    assert count("Broken", "unknown", "refused") + count("Broken", "query", "refused") == 1
    assert samples[("loyalty_graphql_operation_seconds_count", (("operation", "Wallet"),))] == 3


@pytest.mark.asyncio
async def test_operation_names_from_clients_cannot_grow_the_series_without_end(
    api: Api,
) -> None:
    token = api.member("flood")
    for n in range(MAX_OPERATION_NAMES + 30):
        await api.raw(f"query Q{n} {{ program {{ slug }} }}", token=token)
    samples = scrape((await api.client.get("/metrics")).text)
    names = {
        dict(labels)["operation"]
        for (name, labels) in samples
        if name == "loyalty_graphql_operations_total"
    }
    assert len(names) <= MAX_OPERATION_NAMES + 2  # + "other" and "anonymous"
    assert "other" in names


@pytest.mark.asyncio
async def test_metrics_can_require_a_token(runtime: Runtime) -> None:
    protected = Runtime(
        settings=runtime.settings.model_copy(update={"metrics_token": "scrape-me"}),
        db=runtime.db,
        clock=runtime.clock,
    )
    transport = httpx.ASGITransport(app=create_app(protected))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await client.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": "Bearer scrape-me"}
        answer = await client.get("/metrics", headers=right)
        assert answer.status_code == 200 and "loyalty_http_requests_total" in answer.text
