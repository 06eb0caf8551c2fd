"""Query bounds, the per-caller budget and what it reports, the CPU ceiling, the document
cache; production mode."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from api.app import create_app
from api.documents import DocumentCache
from api.graphql_http import GraphQLHTTP
from api.limits import MAX_OPERATION_COST, CostBudget
from api.partner_queries import REWARD_STATS_SHOWN
from api.persisted import AutomaticPersistedQueries, PersistedDocuments
from api.runtime import Runtime
from api.schema import build_schema
from api.settings import Settings
from domain.model import Role
from tests.api.rewards_support import create_reward
from tests.api.test_partners import partner
from tests.support import Api, StatementCounter
from tests.unit.test_pricing import WALLET_SCREEN

# The README's wallet screen with 50 entries costs 108 (tests/unit/test_pricing.py).
WALLET = {"first": 50}


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0, step: float = 0.0) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@asynccontextmanager
async def app_with(
    runtime: Runtime,
    program: str,
    *,
    budget_clock: Callable[[], float] | None = None,
    cpu_seconds: float = 1.0,
    cpu_clock: Callable[[], float] | None = None,
    documents: DocumentCache | None = None,
) -> AsyncIterator[Api]:
    """The GraphQL endpoint with the configured limits and clocks the test moves."""
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    # the suite's runtime has a budget no test exhausts; this app has the real one
    settings = runtime.settings.model_copy(
        update={
            "cost_budget": defaults.cost_budget,
            "cost_refill_per_second": defaults.cost_refill_per_second,
        }
    )
    budget = CostBudget.for_database(runtime.db, settings, clock=budget_clock or FakeClock())
    extra = {"cpu_clock": cpu_clock} if cpu_clock else {}
    schema = build_schema(budget=budget, cpu_seconds=cpu_seconds, documents=documents, **extra)
    view = GraphQLHTTP(
        runtime, schema, PersistedDocuments(None, AutomaticPersistedQueries()), graphiql=False
    )
    transport = httpx.ASGITransport(app=view)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Api(client, runtime, program)


def code(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"] if "errors" in body else "OK"


@pytest.mark.asyncio
async def test_a_member_app_is_never_refused_and_a_script_is(
    runtime: Runtime, program: str
) -> None:
    clock = FakeClock()
    async with app_with(runtime, program, budget_clock=clock) as api:
        await api.enroll("alice")
        await api.enroll("script")
        app, script = api.member("alice"), api.member("script")
        # given an app start: a burst of 10 requests, each the full wallet screen
        codes = [code(await api.raw(WALLET_SCREEN, WALLET, app)) for _ in range(10)]
        # when it then refreshes every 2 s for three minutes
        for _ in range(90):
            clock.now += 2.0
            codes.append(code(await api.raw(WALLET_SCREEN, WALLET, app)))
        # then it is never refused
        assert codes == ["OK"] * 100
        # while a script sending 100 of them back to back (10 ms apart) is
        hammered = []
        for _ in range(100):
            hammered.append(code(await api.raw(WALLET_SCREEN, WALLET, script)))
            clock.now += 0.01
        assert hammered[:15] == ["OK"] * 15
        assert hammered.count("RATE_LIMITED") > 70
        refused = await api.raw(WALLET_SCREEN, WALLET, script)
        assert refused.get("data") is None
        assert refused["errors"][0]["extensions"]["retryAfterSeconds"] >= 1
        # and the app next to it carries on
        assert code(await api.raw(WALLET_SCREEN, WALLET, app)) == "OK"


@pytest.mark.asyncio
async def test_expensive_queries_in_a_loop_are_refused(runtime: Runtime, program: str) -> None:
    clock = FakeClock()
    aliases = " ".join(
        f"h{n}: history(first: 100) {{ edges {{ node {{ id points }} }} }}" for n in range(9)
    )
    expensive = "{ me { wallet { " + aliases + " } } }"  # 9 pages of 100: 1,811
    async with app_with(runtime, program, budget_clock=clock) as api:
        await api.enroll("bob")
        token = api.member("bob")
        codes = []
        for _ in range(5):
            codes.append(code(await api.raw(expensive, token=token)))
            clock.now += 1.0
        assert codes == ["OK"] + ["RATE_LIMITED"] * 4


@pytest.mark.asyncio
async def test_every_answer_reports_its_cost_and_the_budget_left(
    runtime: Runtime, program: str
) -> None:
    async with app_with(runtime, program) as api:
        await api.enroll("carol")
        body = await api.raw(WALLET_SCREEN, WALLET, api.member("carol"))
        assert body["extensions"]["cost"] == {
            "requestedQueryCost": 108,
            "throttleStatus": {
                "maximumAvailable": 2_000,
                "currentlyAvailable": 2_000 - 13 - 108,  # enroll, then this
                "restoreRate": 100.0,
            },
        }
        # a refused operation says what it would have cost and what is left
        vouchers = "{ me { usableVouchers { voucherQrSvg } } }"
        refused = await api.raw(vouchers, token=api.member("carol"))
        assert code(refused) == "QUERY_TOO_COMPLEX"
        assert refused["extensions"]["cost"]["requestedQueryCost"] == 5_051
        assert refused["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1_879


@pytest.mark.asyncio
async def test_the_budget_is_shared_by_processes_on_postgresql(
    runtime: Runtime, program: str, backend: str
) -> None:
    # two apps stand for two server processes (each its own budget object)
    clock = FakeClock()
    async with (
        app_with(runtime, program, budget_clock=clock) as first,
        app_with(runtime, program, budget_clock=clock) as second,
    ):
        await first.enroll("dana")
        token = first.member("dana")
        for _ in range(3):
            await first.raw(WALLET_SCREEN, WALLET, token)
        seen = await second.raw(WALLET_SCREEN, WALLET, token)
        left = seen["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        # enroll (13) and three wallet screens were charged by the other process
        shared = 2_000 - 13 - 4 * 108
        assert left == (shared if backend == "postgresql" else 2_000 - 108)


@pytest.mark.asyncio
async def test_the_shared_budget_takes_one_statement_per_request(
    api: Api, runtime: Runtime, backend: str
) -> None:
    await api.enroll("erin")
    token = api.member("erin")
    with StatementCounter(runtime) as counter:
        for _ in range(3):
            await api.ok(WALLET_SCREEN, WALLET, token)
    budget = [s for s in counter.statements if "cost_bucket" in s]
    assert len(budget) == (3 if backend == "postgresql" else 0)


@pytest.mark.asyncio
async def test_an_operation_above_the_cost_ceiling_is_refused(api: Api) -> None:
    await api.enroll("alice")
    # issue 14 item 6: 30 aliases of every voucher's QR code was charged 61
    pages = " ".join(f"v{i}: me {{ usableVouchers {{ voucherQrSvg }} }}" for i in range(30))
    body = await api.raw("{ " + pages + " }", token=api.member("alice"))
    assert "data" not in body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] > MAX_OPERATION_COST


@pytest.mark.asyncio
async def test_a_page_size_from_a_variable_default_costs_what_the_literal_does(api: Api) -> None:
    await api.enroll("alice")
    page = "history(first: {n}) {{ edges {{ node {{ id kind points description }} }} }}"
    literal = " ".join(f"h{i}: " + page.format(n=100) for i in range(10))
    defaulted = " ".join(f"h{i}: " + page.format(n="$n") for i in range(10))
    token = api.member("alice")
    by_literal = await api.raw("{ me { wallet { " + literal + " } } }", token=token)
    by_default = await api.raw(
        "query($n: Int = 100) { me { wallet { " + defaulted + " } } }", token=token
    )
    assert code(by_literal) == code(by_default) == "QUERY_TOO_COMPLEX"
    assert by_literal["errors"][0]["extensions"]["cost"] == 2_012
    assert by_default["errors"][0]["extensions"]["cost"] == 2_012


@pytest.mark.asyncio
async def test_a_query_past_its_cpu_ceiling_stops_with_a_code(
    runtime: Runtime, program: str
) -> None:
    # given a wallet of 50 entries and a CPU clock that moves 1 ms at every read: as if
    # every field took 1 ms (they take microseconds)
    fast = FakeClock(start=0.0, step=0.001)
    async with app_with(runtime, program, cpu_seconds=1.0, cpu_clock=fast) as api:
        member = await api.enroll("frank")
        for n in range(50):
            await api.adjust(member["id"], 10, f"k-{n}")
        # then the wallet screen still fits its 1 s, with room to spare
        data = await api.ok(WALLET_SCREEN, WALLET, api.member("frank"))
        assert len(data["me"]["wallet"]["history"]["edges"]) == 50
    # when every read moves the clock 10 ms instead, the same query "takes" seconds
    slow = FakeClock(start=0.0, step=0.01)
    async with app_with(runtime, program, cpu_seconds=1.0, cpu_clock=slow) as api:
        body = await api.raw(WALLET_SCREEN, WALLET, api.member("frank"))
        # then it stops, with one error and no partial data
        assert body.get("data") is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TIMEOUT"]
        # and mutations are not metered: none stops half way
        assert "errors" not in await api.raw(
            'mutation { enroll(input: {displayName: "G"}) { errors { code } } }',
            token=api.member("grace"),
        )


@pytest.mark.asyncio
async def test_the_document_cache_holds_its_byte_bound_over_http(
    runtime: Runtime, program: str
) -> None:
    documents = DocumentCache(max_bytes=500_000, max_query_chars=2_000)
    async with app_with(runtime, program, documents=documents) as api:
        token = api.admin()
        for n in range(200):
            await api.ok(f"{{ program {{ slug }} }} # {n:04d}", token=token)
            assert documents.bytes <= documents.max_bytes
        assert 0 < len(documents) < 200
        big = "{ program { slug } } #" + "x" * 3_000
        await api.ok(big, token=token)
        assert documents.get(big) is None


@pytest.mark.asyncio
async def test_distinct_huge_queries_do_not_stay_in_memory(api: Api) -> None:
    # issue 14 item 3: 400 distinct 250 KB queries kept 100 MB
    token = api.admin()
    await api.ok("{ program { slug } }", token=token)
    tracemalloc.start()
    try:
        for n in range(4):  # 400 KB of query text (the lexer is slow under tracemalloc)
            await api.ok(f"{{ program {{ slug }} }} # {n:04d}" + "x" * 100_000, token=token)
        gc.collect()
        kept = tracemalloc.take_snapshot().traces
    finally:
        tracemalloc.stop()
    # blocks the size of a query text still allocated since (anything else is noise)
    assert [t.size for t in kept if t.size >= 100_000] == []


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


@pytest.mark.asyncio
async def test_partner_reward_stats_return_at_most_what_they_are_priced_for(api: Api) -> None:
    cinema = await partner(api, "cinema")
    for n in range(REWARD_STATS_SHOWN + 1):
        await create_reward(api, name=f"Ticket {n}", kind="EXPERIENCE", sku=None, partnerId=cinema)
    token = api.token(Role.PARTNER, "pos", partner="cinema")
    body = await api.raw("{ partnerRewardStats { redemptions } }", token=token)
    assert len(body["data"]["partnerRewardStats"]) == REWARD_STATS_SHOWN
    assert body["extensions"]["cost"]["requestedQueryCost"] == REWARD_STATS_SHOWN
