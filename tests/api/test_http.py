"""The HTTP surface: health, readiness, request ids, GET queries, masked internal errors."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from persistence.repositories.members import SqlMemberRepository
from tests.support import Api


@pytest.mark.asyncio
async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    samples = scrape((await client.get("/metrics")).text)
    assert ("loyalty_db_pool_checked_out", ()) in samples
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("loyalty_http_requests_total", healthz)] == 1
    assert samples[("loyalty_http_request_seconds_count", (("route", "/readyz"),))] == 1
    inf = (("le", "+Inf"), ("route", "/healthz"))
    assert samples[("loyalty_http_request_seconds_bucket", inf)] == 1


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus samples by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.asyncio
async def test_readiness_fails_when_the_database_is_unreachable(tmp_path) -> None:
    settings = Settings(
        database_url="postgresql://nobody@127.0.0.1:1/none", jwt_secret="x", _env_file=None
    )
    runtime = Runtime.from_settings(settings)
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/readyz")
    await runtime.db.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


@pytest.mark.asyncio
async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "till-42-abc"})
    assert echoed.headers["x-request-id"] == "till-42-abc"


@pytest.mark.asyncio
async def test_queries_work_over_get(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": "{ program { slug } }"},
        headers={"Authorization": f"Bearer {api.admin()}"},
    )
    assert response.json()["data"] == {"program": {"slug": api.program}}


@pytest.mark.asyncio
async def test_mutations_are_refused_over_get(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": 'mutation { updateProgram(input: {name: "x"}) { errors { code } } }'},
        headers={"Authorization": f"Bearer {api.admin()}"},
    )
    assert response.status_code in (400, 405)


@pytest.mark.asyncio
async def test_internal_errors_are_masked_with_a_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT secret FROM member -- password=hunter2")

    monkeypatch.setattr(SqlMemberRepository, "get_with_wallet_by_subject", broken)
    body = await api.raw("{ me { id } }", token=api.member("alice"))
    error = body["errors"][0]
    assert error["message"] == "Internal error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert len(error["extensions"]["requestId"]) == 32
    assert "hunter2" not in str(body) and "SELECT" not in str(body)


@pytest.mark.asyncio
async def test_query_depth_and_aliases_are_bounded(api: Api) -> None:
    aliases = " ".join(f"a{n}: program {{ slug }}" for n in range(40))
    body = await api.raw("{ " + aliases + " }", token=api.admin())
    assert "data" not in body and "aliases" in body["errors"][0]["message"].lower()
    deep = '{ node(id: "x") { ... on Member { wallet { history { edges { node { id } } } } } } }'
    assert "errors" not in await api.raw(deep, token=api.admin())


@pytest.mark.asyncio
async def test_out_of_range_numbers_get_graphql_errors_and_change_nothing(api: Api) -> None:
    member = await api.enroll("erin")
    mutation = """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
        pointsEarned errors { code } } }"""
    for amount in (2**31, 2**70):  # past GraphQL's Int, and past 64 bits
        body = await api.raw(
            mutation,
            {
                "i": {
                    "memberId": member["id"],
                    "orderId": f"o-{amount}",
                    "total": {"amountMinor": amount, "currency": "EUR"},
                }
            },
            api.admin(),
        )
        assert "data" not in body  # refused before execution
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert "amountMinor" in error["message"], body
    wallet = await api.ok("{ me { wallet { balance } } }", token=api.member("erin"))
    assert wallet["me"]["wallet"]["balance"] == 0


@pytest.mark.asyncio
async def test_invalid_documents_get_a_code(api: Api) -> None:
    token = api.member("fay")
    unknown = await api.raw("{ me { noSuchField } }", token=token)
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "noSuchField" in unknown["errors"][0]["message"]
