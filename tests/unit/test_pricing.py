"""Query pricing, the budget's calibration, the document cache and the CPU meter: pure, no
database."""

from __future__ import annotations

import re

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLType,
    get_named_type,
    is_leaf_type,
    parse,
)

from api.documents import BYTES_PER_QUERY_CHAR, DocumentCache
from api.limits import MAX_OPERATION_COST, CostBudget, CpuMeter
from api.pricing import LIST_BOUNDS, QR_SVG_COST, operation_cost
from api.schema import schema
from api.settings import Settings

SCHEMA = schema._schema

# The README's wallet screen with a page of 50 entries.
README_WALLET = """{
  me {
    displayName cardNumber
    tier { name }
    tierProgress { next { name } pointsToNext percent }
    wallet { balance pending history(first: 50) { edges { node { kind points description } } } }
  }
}"""

# The richer one of tests/api/test_statement_counts.py, page size by variable.
WALLET_SCREEN = """query($first: Int) { me {
  displayName cardNumber
  tier { name rank benefits }
  tierProgress { current { name } next { name threshold } qualifyingPoints pointsToNext
                 percent periodEndsAt }
  wallet { balance pending lifetimeEarned
    history(first: $first) { edges { cursor node { id kind points balanceAfter description
      occurredAt } } pageInfo { hasNextPage endCursor } } } } }"""


def cost(query: str, variables: dict[str, object] | None = None) -> int:
    return operation_cost(SCHEMA, parse(query), None, variables)


def test_objects_cost_one_scalars_nothing_and_pages_count_first_times() -> None:
    # me + tier + tierProgress + next + wallet + history + 50 x (edge + node)
    assert cost(README_WALLET) == 106
    # + current; pageInfo counts once, not once per entry
    assert cost(WALLET_SCREEN, {"first": 50}) == 108
    assert cost(WALLET_SCREEN, {"first": 100}) == 208
    assert cost(WALLET_SCREEN, {}) == 48  # 20 entries when `first` is not given
    assert cost("{ program { slug name } }") == 1


def test_nodes_are_priced_like_edges() -> None:
    # given the wallet screen's history through `nodes` instead of `edges { node }`
    nodes = WALLET_SCREEN.replace("edges { cursor node {", "nodes {").replace(
        "occurredAt } } pageInfo", "occurredAt } pageInfo"
    )
    # then each node counts `first` times, as in `edges`, less the edge objects themselves
    assert cost(nodes, {"first": 50}) == cost(WALLET_SCREEN, {"first": 50}) - 50 == 58
    assert cost(nodes, {"first": 100}) == 108
    assert cost(nodes, {}) == 28  # 20 nodes when `first` is not given
    assert cost("{ rewards(first: 100) { nodes { name } edges { node { name } } } }") == 301
    assert cost("{ rewards(first: 7) { totalCount nodes { name } } }") == 1 + 7


def test_pages_are_priced_by_the_value_the_resolver_will_see() -> None:
    literal = cost(WALLET_SCREEN.replace("query($first: Int)", "").replace("$first", "100"))
    defaulted = WALLET_SCREEN.replace("query($first: Int)", "query($first: Int = 100)")
    assert cost(defaulted, {}) == literal == 208  # the variable's default counts
    assert cost(defaulted, {"first": 10}) == 28  # a given value beats the default
    assert cost(WALLET_SCREEN, {"first": 50.0}) == 108  # coerced as execution will
    assert cost(WALLET_SCREEN, {"first": 10_000}) == 208  # the resolver refuses > 100


def test_qr_codes_weigh_what_rendering_them_costs() -> None:
    one = cost("{ me { card { qrSvg } } }")
    assert one == 1 + 1 + QR_SVG_COST
    # 50 vouchers at most, each with its QR code: refused alone, let alone under 30 aliases
    vouchers = cost("{ me { usableVouchers { voucherQrSvg } } }")
    assert vouchers == 1 + 50 * (1 + QR_SVG_COST)
    assert vouchers > MAX_OPERATION_COST
    aliased = " ".join(f"a{n}: me {{ usableVouchers {{ voucherQrSvg }} }}" for n in range(30))
    assert cost("{ " + aliased + " }") == 30 * vouchers
    redemptions = "{ me { redemptions(first: 5) { edges { node { voucherCode voucherQrSvg } } } } }"
    assert cost(redemptions) == 1 + 1 + 5 * (2 + QR_SVG_COST)


def test_lists_without_first_count_their_cap() -> None:
    assert cost("{ me { affordableRewards { name } } }") == 1 + 20
    assert cost("{ partnerRewardStats { redemptions } }") == 100
    assert cost("{ me { wallet { expiring { points } } } }") == 1 + 1 + 12


def _is_list(graphql_type: GraphQLType) -> bool:
    while isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)


def test_every_list_of_objects_has_a_known_bound_and_says_it() -> None:
    unpriced = []
    for type_name, graphql_type in SCHEMA.type_map.items():
        if type_name.startswith("__"):
            continue
        if not isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for name, field in graphql_type.fields.items():
            item = get_named_type(field.type)
            if not _is_list(field.type) or is_leaf_type(item):
                continue
            if name in ("edges", "nodes") and type_name.endswith("Connection"):
                continue  # counted `first` times
            if name == "errors" and item.name == "UserError":
                continue  # one domain error each
            bound = LIST_BOUNDS.get((type_name, name))
            if bound is None:
                unpriced.append(f"{type_name}.{name}")
                continue
            stated = re.search(r"at most (\d+)", field.description or "")
            if stated:
                assert int(stated.group(1)) == bound, f"{type_name}.{name}"
    assert unpriced == []


def test_mutations_cost_ten_and_abstract_fields_price_their_fragments() -> None:
    enroll = 'mutation { enroll(input: {displayName: "D"}) { member { id } errors { code } } }'
    assert cost(enroll) == 10 + 1 + 1 + 1
    node = (
        '{ node(id: "x") { ... on Member { wallet { history(first: 10) { edges { cursor } } } } } }'
    )
    assert cost(node) == 1 + 1 + 1 + 10
    fragment = "fragment W on Wallet { history(first: $n) { edges { cursor } } } "
    assert cost(fragment + "query($n: Int = 30) { me { wallet { ...W } } }", {}) == 3 + 30


# The budget, calibrated: the app's normal use is never refused, a script is.

WALLET_COST = cost(WALLET_SCREEN, {"first": 50})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def default_budget(clock: FakeClock) -> CostBudget:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return CostBudget(settings.cost_budget, settings.cost_refill_per_second, clock)


@pytest.mark.asyncio
async def test_an_app_opening_with_a_burst_then_refreshing_every_two_seconds_is_never_refused() -> (
    None
):
    clock = FakeClock()
    budget = default_budget(clock)
    # given an app start: 10 requests at once, the heaviest of them all
    for _ in range(10):
        assert (await budget.spend("app", WALLET_COST)).charged
    # when it refreshes the wallet screen every 2 s for ten minutes
    for _ in range(300):
        clock.now += 2.0
        charge = await budget.spend("app", WALLET_COST)
        # then nothing is refused, and the budget never runs low
        assert charge.charged
        assert charge.available > budget.capacity / 2


@pytest.mark.asyncio
async def test_a_script_hammering_the_api_is_refused() -> None:
    clock = FakeClock()
    budget = default_budget(clock)
    # 100 wallet screens back to back, 10 ms each
    outcomes = []
    for _ in range(100):
        outcomes.append((await budget.spend("script", WALLET_COST)).charged)
        clock.now += 0.01
    assert outcomes[:15] == [True] * 15
    assert outcomes.count(False) > 70
    # the most expensive query allowed, in a loop: once, then once per 20 s
    clock.now += 60
    loop = []
    for _ in range(10):
        loop.append((await budget.spend("loop", MAX_OPERATION_COST)).charged)
        clock.now += 1.0
    assert loop == [True] + [False] * 9
    refused = await budget.spend("loop", MAX_OPERATION_COST)
    assert refused.retry_after == pytest.approx(10.0)  # 1,000 points back after 10 s


@pytest.mark.asyncio
async def test_budget_refills_over_time_and_callers_are_separate() -> None:
    clock = FakeClock()
    budget = CostBudget(capacity=100, refill_per_second=10, clock=clock)
    assert (await budget.spend("a", 80)).charged
    short = await budget.spend("a", 30)  # 20 left, 10 short, 10/s
    assert not short.charged and short.retry_after == pytest.approx(1.0)
    assert (await budget.spend("b", 100)).charged
    clock.now += 1.0
    assert (await budget.spend("a", 30)).charged
    clock.now -= 100  # a clock that steps back refills nothing and takes nothing
    assert (await budget.spend("a", 0)).available == pytest.approx(0)


# The document cache: keyed by hash, bounded by bytes.


def test_the_document_cache_stays_within_its_byte_bound() -> None:
    cache = DocumentCache(max_bytes=200_000, max_query_chars=1_000)
    queries = [f"{{ program {{ slug name }} }} # {n:06d}" for n in range(1_000)]
    for query in queries:
        cache.put(query, parse(query))
        assert cache.bytes <= cache.max_bytes
    per_entry = len(queries[0]) * BYTES_PER_QUERY_CHAR
    assert len(cache) == cache.max_bytes // per_entry
    assert cache.get(queries[-1]) is not None and cache.get(queries[0]) is None
    # too long to keep: parsed each time, never stored
    long_query = "{ program { slug } } #" + "x" * 1_000
    assert cache.put(long_query, parse(long_query)) is None
    assert cache.get(long_query) is None
    # keys are hashes: a lone surrogate (JSON lets one through) does not break them
    odd = '{ program { slug(x: "\ud800") } }'
    assert cache.put(odd, parse("{ program { slug } }")) is not None
    assert cache.get(odd) is not None


# The CPU meter: only a query's own work counts.


def test_the_cpu_meter_counts_work_not_waiting() -> None:
    now = [0.0]
    meter = CpuMeter(budget=1.0, clock=lambda: now[0])
    # a field whose children run synchronously inside it: one stretch of 0.4 s
    assert meter.enter()
    now[0] += 0.2
    assert meter.enter()
    now[0] += 0.2
    meter.leave()
    meter.leave()
    # waiting for the database (no field running) is not counted
    now[0] += 30.0
    assert meter.enter()
    now[0] += 0.5
    meter.leave()
    assert meter.spent == pytest.approx(0.9) and not meter.expired
    # a stretch that runs past the ceiling stops at its next field
    assert meter.enter()
    now[0] += 0.2
    assert not meter.enter()
    assert meter.expired and meter.first_refusal() and not meter.first_refusal()
