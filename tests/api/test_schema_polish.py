"""What client code generators get: `nodes` beside `edges`, `totalCount` where counting is
cheap, and `Reward.unavailableReason` beside `available`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.model import Role
from tests.api.rewards_support import create_reward, funded_member, redeem
from tests.support import Api, MovableClock

CATALOG = """query($first: Int, $after: String) { rewards(first: $first, after: $after) {
  totalCount nodes { name available unavailableReason }
  edges { node { name } } pageInfo { hasNextPage endCursor } } }"""


async def _tier(api: Api, name: str, threshold: int) -> str:
    data = await api.ok(
        "mutation($i: CreateTierInput!) { createTier(input: $i) { tier { id } } }",
        {"i": {"name": name, "threshold": threshold}},
        api.admin(),
    )
    return str(data["createTier"]["tier"]["id"])


@pytest.mark.asyncio
async def test_nodes_are_the_edges_nodes_and_total_count_counts_every_page(api: Api) -> None:
    # given five rewards, one archived (members do not see it, admins do)
    for n in range(5):
        await create_reward(api, name=f"R{n}", pointsCost=100 + n)
    archived = await create_reward(api, name="Old", pointsCost=1)
    await api.ok(
        "mutation($i: ArchiveRewardInput!) { archiveReward(input: $i) { errors { code } } }",
        {"i": {"rewardId": archived["id"]}},
        api.admin(),
    )
    await funded_member(api, "alice", 0)
    # when alice pages two at a time
    first = (await api.ok(CATALOG, {"first": 2}, api.member("alice")))["rewards"]
    after = first["pageInfo"]["endCursor"]
    second = (await api.ok(CATALOG, {"first": 2, "after": after}, api.member("alice")))["rewards"]
    # then nodes are the edges' nodes, and totalCount counts every page, not this one
    assert [n["name"] for n in first["nodes"]] == [e["node"]["name"] for e in first["edges"]]
    assert [n["name"] for n in first["nodes"]] == ["R0", "R1"]
    assert [n["name"] for n in second["nodes"]] == ["R2", "R3"]
    assert first["totalCount"] == second["totalCount"] == 5
    # and the admin's catalog counts the archived reward too
    admin = (await api.ok(CATALOG, {"first": 1}, api.admin()))["rewards"]
    assert admin["totalCount"] == 6
    assert admin["nodes"] == [{"name": "Old", "available": False, "unavailableReason": "ARCHIVED"}]


@pytest.mark.asyncio
async def test_a_partner_counts_only_its_own_rewards(api: Api) -> None:
    partner = await api.ok(
        'mutation { createPartner(input: {slug: "pp", name: "PP"}) { partner { id } } }',
        token=api.admin(),
    )
    await create_reward(api, name="Co", partnerId=partner["createPartner"]["partner"]["id"])
    await create_reward(api, name="Ours")
    token = api.token(Role.PARTNER, "box", partner="pp")
    data = await api.ok("{ rewards { totalCount nodes { name } } }", token=token)
    assert data["rewards"] == {"totalCount": 1, "nodes": [{"name": "Co"}]}


@pytest.mark.asyncio
async def test_member_redemptions_count_with_their_status_filter(api: Api) -> None:
    # given alice with three vouchers, one of them cancelled
    reward = await create_reward(api, pointsCost=10)
    member = await funded_member(api, "alice", 100)
    ids = [
        (await redeem(api, "alice", reward["id"], f"k-{n}"))["redemption"]["id"] for n in range(3)
    ]
    cancelled = await api.ok(
        "mutation($id: ID!) { cancelRedemption(input: {redemptionId: $id}) { errors { code } } }",
        {"id": ids[0]},
        api.member("alice"),
    )
    assert cancelled["cancelRedemption"]["errors"] == []
    query = """query($status: [RedemptionStatus!]) { me { redemptions(first: 1, status: $status) {
      totalCount nodes { id status } } } }"""
    # when the app asks for one page, with and without a filter
    every = (await api.ok(query, {}, api.member("alice")))["me"]["redemptions"]
    issued = (await api.ok(query, {"status": ["ISSUED"]}, api.member("alice")))["me"]
    # then totalCount counts what the filter keeps over all pages
    assert every["totalCount"] == 3
    assert every["nodes"] == [{"id": ids[2], "status": "ISSUED"}]
    assert issued["redemptions"]["totalCount"] == 2
    # and staff see the same through member(id)
    staff = await api.ok(
        "query($id: ID!) { member(id: $id) { redemptions { totalCount } } }",
        {"id": member["id"]},
        api.admin(),
    )
    assert staff["member"]["redemptions"]["totalCount"] == 3


@pytest.mark.asyncio
async def test_every_connection_answers_nodes(api: Api) -> None:
    # given a member with history, and a campaign
    member = await api.enroll("alice")
    await api.purchase(member["id"], "o-1", 1000)
    await api.ok(
        """mutation { createCampaign(input: {name: "Double", multiplier: 2.0,
          startsAt: "2020-01-01T00:00:00Z", endsAt: "2999-01-01T00:00:00Z"}) {
          errors { code } } }""",
        token=api.admin(),
    )
    # when each connection is read through nodes
    history = await api.ok(
        "{ me { wallet { history { nodes { kind points } } } } }", token=api.member("alice")
    )
    campaigns = await api.ok(
        "{ campaigns { totalCount nodes { name } } stopped: campaigns(active: false) { "
        "totalCount } }",
        token=api.admin(),
    )
    audit = await api.ok(
        "query($m: ID) { auditLog(memberId: $m) { nodes { action } edges { node { action } } } }",
        {"m": member["id"]},
        api.admin(),
    )
    # then they answer the same items edges would
    assert history["me"]["wallet"]["history"]["nodes"] == [{"kind": "EARN", "points": 100}]
    assert campaigns["campaigns"] == {"totalCount": 1, "nodes": [{"name": "Double"}]}
    assert campaigns["stopped"]["totalCount"] == 0  # the filter counts too
    nodes = audit["auditLog"]["nodes"]
    assert nodes == [e["node"] for e in audit["auditLog"]["edges"]]


@pytest.mark.asyncio
async def test_unavailable_reason_names_the_rule_that_fails(api: Api, clock: MovableClock) -> None:
    # given rewards that each fail one rule for alice (in the entry tier)
    now = clock.now()
    gold = await _tier(api, "Gold", 1000)
    later = (now + timedelta(days=2)).isoformat()
    earlier = (now - timedelta(days=1)).isoformat()
    rewards = {
        "open": {},
        "gold": {"minTierId": gold},
        "soon": {"availableFrom": later},
        "early": {"availableFrom": later, "earlyAccessTierId": gold, "earlyAccessFrom": earlier},
        "empty": {"stock": 0},
        "once": {"perMemberLimit": 1},
        "daily": {"periodLimit": 1, "limitPeriod": "DAY"},
        "ending": {"availableUntil": (now + timedelta(hours=1)).isoformat()},
    }
    ids = {}
    for name, fields in rewards.items():
        ids[name] = (await create_reward(api, name=name, pointsCost=10, **fields))["id"]
    await funded_member(api, "alice", 100)
    for name in ("once", "daily"):
        assert (await redeem(api, "alice", ids[name], f"k-{name}"))["errors"] == []
    clock.advance(timedelta(hours=2))  # "ending" has ended, but is still listed by node
    expected = {
        "open": None,
        "gold": "TIER_REQUIRED",
        "soon": "NOT_YET_AVAILABLE",
        "early": "EARLY_ACCESS_ONLY",
        "empty": "OUT_OF_STOCK",
        "once": "MEMBER_LIMIT_REACHED",
        "daily": "PERIOD_LIMIT_REACHED",
        "ending": "ENDED",
    }
    # when alice reads each reward by node ID (the loader path)
    by_node: dict[str, Any] = {}
    for name, reward_id in ids.items():
        data = await api.ok(
            "query($id: ID!) { node(id: $id) { ... on Reward { available unavailableReason } } }",
            {"id": reward_id},
            api.member("alice"),
        )
        by_node[name] = data["node"]
    # then each names the rule that fails, and is null exactly when available
    assert {name: r["unavailableReason"] for name, r in by_node.items()} == expected
    assert all(r["available"] == (r["unavailableReason"] is None) for r in by_node.values())
    # and the catalog (its own path) says the same for what it lists
    catalog = await api.ok(
        "{ rewards(first: 100) { nodes { name available unavailableReason } } }",
        token=api.member("alice"),
    )
    listed = {n["name"]: n["unavailableReason"] for n in catalog["rewards"]["nodes"]}
    assert listed == {k: v for k, v in expected.items() if k != "ending"}
    # and redeeming refuses with the error code of the same rule
    codes = {
        name: (await redeem(api, "alice", ids[name], f"again-{name}"))["errors"][0]["code"]
        for name in ("gold", "soon", "early", "empty", "once", "daily", "ending")
    }
    assert codes == {
        "gold": "TIER_REQUIRED",
        "soon": "REWARD_UNAVAILABLE",
        "early": "REWARD_UNAVAILABLE",
        "empty": "OUT_OF_STOCK",
        "once": "LIMIT_REACHED",
        "daily": "LIMIT_REACHED",
        "ending": "REWARD_UNAVAILABLE",
    }


@pytest.mark.asyncio
async def test_unavailable_reason_for_callers_who_cannot_redeem(api: Api) -> None:
    # given a reward open to everyone and a blocked member
    await create_reward(api, name="Open")
    blocked = await funded_member(api, "bob", 0)
    await api.ok(
        "mutation($i: BlockMemberInput!) { blockMember(input: $i) { errors { code } } }",
        {"i": {"memberId": blocked["id"], "blocked": True, "reason": "fraud check"}},
        api.admin(),
    )
    query = "{ rewards { nodes { available unavailableReason } } }"
    # when a blocked member, a member who has not enrolled and staff look
    bob = await api.ok(query, token=api.member("bob"))
    stranger = await api.ok(query, token=api.member("nobody"))
    staff = await api.ok(query, token=api.staff())
    # then they say why (staff see only the reward's own rules: it is on offer)
    assert bob["rewards"]["nodes"] == [{"available": False, "unavailableReason": "MEMBER_BLOCKED"}]
    assert stranger["rewards"]["nodes"] == [
        {"available": False, "unavailableReason": "NOT_ENROLLED"}
    ]
    assert staff["rewards"]["nodes"] == [{"available": True, "unavailableReason": None}]
