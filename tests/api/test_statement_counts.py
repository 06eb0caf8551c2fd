"""SQL statements per request: the wallet screen costs the same whatever the page size."""

from __future__ import annotations

import pytest

from api.runtime import Runtime
from tests.api.rewards_support import create_reward, funded_member
from tests.support import Api, StatementCounter

WALLET_SCREEN = """query($first: Int) { me {
  displayName cardNumber
  tier { name rank benefits }
  tierProgress { current { name } next { name threshold } qualifyingPoints pointsToNext
                 percent periodEndsAt }
  wallet { balance pending lifetimeEarned
    history(first: $first) { edges { cursor node { id kind points balanceAfter description
      occurredAt } } pageInfo { hasNextPage endCursor } } } } }"""


@pytest.mark.asyncio
@pytest.mark.parametrize("first", [1, 20, 100])
async def test_wallet_screen_takes_four_statements_at_any_page_size(
    api: Api, runtime: Runtime, first: int
) -> None:
    # given a member with a long history
    member = await api.enroll("alice")
    for n in range(25):
        await api.purchase(member["id"], f"o-{n}", 1000)
    # when the app loads the wallet screen
    with StatementCounter(runtime) as counter:
        data = await api.ok(WALLET_SCREEN, {"first": first}, api.member("alice"))
    # then: program+tiers, member+wallet, history, qualifying points (and, on PostgreSQL,
    # the shared cost budget's one statement, counted in tests/api/test_limits.py)
    assert len(data["me"]["wallet"]["history"]["edges"]) == min(first, 25)
    reads = [s for s in counter.statements if "cost_bucket" not in s]
    assert len(reads) == 4, counter.statements


@pytest.mark.asyncio
async def test_staff_member_lookup_is_bounded_too(api: Api, runtime: Runtime) -> None:
    member = await api.enroll("bob")
    await api.purchase(member["id"], "o-1", 1000)
    query = "query($id: ID!) { member(id: $id) { displayName tier { name } wallet { balance } } }"
    with StatementCounter(runtime) as counter:
        data = await api.ok(query, {"id": member["id"]}, api.admin())
    assert data["member"]["wallet"]["balance"] == 100
    reads = [s for s in counter.statements if "cost_bucket" not in s]
    assert len(reads) <= 3, counter.statements


@pytest.mark.asyncio
async def test_nodes_add_no_statements_and_total_count_adds_one(api: Api, runtime: Runtime) -> None:
    # given a catalog of 30 rewards and a member
    for n in range(30):
        await create_reward(api, name=f"R{n}", pointsCost=10 + n)
    await funded_member(api, "alice", 0)
    edges = "{ rewards(first: 25) { edges { node { name available } } pageInfo { hasNextPage } } }"
    nodes = "{ rewards(first: 25) { nodes { name available } pageInfo { hasNextPage } } }"
    counted = "{ rewards(first: 25) { totalCount nodes { name available } } }"

    async def statements(query: str) -> int:
        with StatementCounter(runtime) as counter:
            await api.ok(query, token=api.member("alice"))
        return len([s for s in counter.statements if "cost_bucket" not in s])

    # when the page is read through edges, through nodes, and with totalCount
    # then nodes cost what edges cost, and totalCount one statement more
    assert await statements(nodes) == await statements(edges)
    assert await statements(counted) == await statements(nodes) + 1
