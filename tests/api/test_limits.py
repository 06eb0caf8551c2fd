"""Query bounds and the per-caller budget; production mode."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from api.limits import MAX_OPERATION_COST, CostBudget, operation_cost
from api.runtime import Runtime
from api.settings import Settings
from tests.support import Api

WALLET_PAGE = "me {{ wallet {{ history(first: {n}) {{ edges {{ cursor node {{ id kind points "
WALLET_PAGE += "balanceAfter description occurredAt }} }} }} }} }}"


def test_cost_counts_fields_and_multiplies_pages() -> None:
    from graphql import parse

    assert operation_cost(parse("{ program { slug name } }"), None, None) == 3
    # me + wallet + history + (edges + cursor + node + 6 fields) * 10
    document = parse("{ " + WALLET_PAGE.format(n=10).replace("{{", "{").replace("}}", "}") + " }")
    assert operation_cost(document, None, None) == 3 + 9 * 10
    with_variable = parse(
        "query($n: Int) { me { wallet { history(first: $n) { edges { cursor } } } } }"
    )
    assert operation_cost(with_variable, None, {"n": 50}) == 3 + 2 * 50
    assert operation_cost(with_variable, None, {}) == 3 + 2 * 20


def test_budget_refills_over_time_and_says_how_long_to_wait() -> None:
    now = [0.0]
    budget = CostBudget(capacity=100, refill_per_second=10, clock=lambda: now[0])
    assert budget.spend("a", 80) is None
    assert budget.spend("a", 30) == pytest.approx(1.0)  # 20 left, 10 short, 10/s
    assert budget.spend("b", 100) is None  # callers have separate buckets
    now[0] += 1.0
    assert budget.spend("a", 30) is None


@pytest.mark.asyncio
async def test_an_operation_above_the_cost_ceiling_is_refused(api: Api) -> None:
    await api.enroll("alice")
    pages = " ".join(
        f"p{i}: " + WALLET_PAGE.format(n=100).replace("{{", "{").replace("}}", "}")
        for i in range(3)
    )
    body = await api.raw("{ " + pages + " }", token=api.member("alice"))
    assert "data" not in body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] > MAX_OPERATION_COST


@pytest.mark.asyncio
async def test_a_caller_spending_faster_than_the_refill_is_rate_limited(
    runtime: Runtime, program: str
) -> None:
    settings = runtime.settings.model_copy(update={"cost_budget": 2_000})
    limited_runtime = Runtime(settings=settings, db=runtime.db, clock=runtime.clock)
    transport = httpx.ASGITransport(app=create_app(limited_runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await _spend_faster_than_the_refill(Api(client, limited_runtime, program))


async def _spend_faster_than_the_refill(api: Api) -> None:
    await api.enroll("bob")
    token = api.member("bob")
    query = "{ " + WALLET_PAGE.format(n=100).replace("{{", "{").replace("}}", "}") + " }"
    codes = []
    for _ in range(4):  # ~900 each against a budget of 2,000
        body = await api.raw(query, token=token)
        codes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "OK")
    assert codes[:2] == ["OK", "OK"]
    assert "RATE_LIMITED" in codes[2:]
    limited = await api.raw(query, token=token)
    assert limited["errors"][0]["extensions"]["retryAfterSeconds"] >= 1
    # another caller is not affected
    await api.enroll("carol")
    assert "errors" not in await api.raw(query, token=api.member("carol"))


@pytest.mark.asyncio
async def test_aliases_inside_fragments_count_at_every_use(api: Api) -> None:
    fields = " ".join(f"a{n}: slug" for n in range(16))
    query = (
        f"fragment F on Program {{ {fields} }} {{ program {{ ...F }} again: program {{ ...F }} }}"
    )
    body = await api.raw(query, token=api.admin())
    assert "data" not in body
    assert "aliases" in body["errors"][0]["message"].lower()


@pytest.mark.asyncio
async def test_oversize_bodies_and_batches_are_refused(api: Api) -> None:
    huge = {"query": "{ program { slug } }", "variables": {"pad": "x" * 300_000}}
    response = await api.client.post("/graphql", json=huge)
    assert response.status_code == 413
    batch = [{"query": "{ program { slug } }"}] * 2
    response = await api.client.post(
        "/graphql", json=batch, headers={"Authorization": f"Bearer {api.admin()}"}
    )
    assert response.status_code == 400


@pytest.mark.asyncio
async def test_production_mode_hides_introspection_graphiql_and_suggestions(
    runtime: Runtime, program: str, client: httpx.AsyncClient
) -> None:
    settings = runtime.settings.model_copy(update={"production": True})
    production = Runtime(settings=settings, db=runtime.db, clock=runtime.clock)
    transport = httpx.ASGITransport(app=create_app(production))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as prod_client:
        prod = Api(client=prod_client, runtime=production, program=program)
        introspection = await prod.raw("{ __schema { types { name } } }", token=prod.admin())
        assert "data" not in introspection
        typo = await prod.raw("{ progrm { slug } }", token=prod.admin())
        assert "Did you mean" not in typo["errors"][0]["message"]
        ide = await prod_client.get("/graphql", headers={"Accept": "text/html"})
        assert "GraphiQL" not in ide.text
    # development mode keeps them
    dev = Api(client=client, runtime=runtime, program=program)
    schema = await dev.ok("{ __schema { queryType { name } } }", token=dev.admin())
    assert schema["__schema"]["queryType"]["name"] == "Query"
    typo = await dev.raw("{ progrm { slug } }", token=dev.admin())
    assert "Did you mean" in typo["errors"][0]["message"]
    ide = await client.get("/graphql", headers={"Accept": "text/html"})
    assert "GraphiQL" in ide.text


def test_settings_default_to_development() -> None:
    assert Settings(_env_file=None).production is False
