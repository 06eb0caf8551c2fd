"""Cross-program and cross-member probes by ID, for every type that implements Node."""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType

from api.schema import schema
from domain.model import Role
from domain.services.programs import create_program
from tests.api.rewards_support import create_reward, funded_member, redeem
from tests.support import Api, unique_slug

NODE = "query($id: ID!) { node(id: $id) { id } }"


async def one_of_each(api: Api) -> dict[str, str]:
    """An object of every Node type in `api`'s program, owned by member `owner`."""
    member = await funded_member(api, "owner", 1000)
    partner = (
        await api.ok(
            'mutation { createPartner(input: {slug: "pp", name: "PP"}) { partner { id } } }',
            token=api.admin(),
        )
    )["createPartner"]["partner"]["id"]
    reward = await create_reward(api, partnerId=partner)
    redemption = (await redeem(api, "owner", reward["id"], "k"))["redemption"]["id"]
    program = (await api.ok("{ program { id tiers { id } } }", token=api.admin()))["program"]
    history = await api.ok(
        "{ me { wallet { history(first: 1) { edges { node { id } } } } } }",
        token=api.member("owner"),
    )
    await api.scan("owner")
    audit = await api.ok("{ auditLog(first: 1) { edges { node { id } } } }", token=api.admin())
    campaign = await api.ok(
        """mutation { createCampaign(input: {name: "C", multiplier: 2,
             startsAt: "2026-01-01T00:00:00Z", endsAt: "2026-01-02T00:00:00Z"}) {
             campaign { id } } }""",
        token=api.admin(),
    )
    badge = await api.ok(
        'mutation { createBadge(input: {name: "B"}) { badge { id } } }', token=api.admin()
    )
    badge_id = badge["createBadge"]["badge"]["id"]
    challenge = await api.ok(
        """mutation($b: ID!) { createChallenge(input: {name: "Ch", badgeId: $b,
             goal: {kind: PURCHASE_COUNT, target: 2}}) { challenge { id } } }""",
        {"b": badge_id},
        token=api.admin(),
    )
    action = await api.ok(
        """mutation { createEarningAction(input: {key: "probe", kind: CUSTOM, name: "P",
             points: 1}) { action { id } } }""",
        token=api.admin(),
    )
    code = (await api.ok("{ me { referralCode } }", token=api.member("owner")))["me"]
    await api.enroll("friend", referralCode=code["referralCode"])
    referrals = await api.ok(
        "{ me { referrals { edges { node { id } } } } }", token=api.member("owner")
    )
    return {
        "Badge": badge_id,
        "Challenge": challenge["createChallenge"]["challenge"]["id"],
        "EarningAction": action["createEarningAction"]["action"]["id"],
        "Referral": referrals["me"]["referrals"]["edges"][0]["node"]["id"],
        "Campaign": campaign["createCampaign"]["campaign"]["id"],
        "Program": program["id"],
        "Tier": program["tiers"][0]["id"],
        "Member": member["id"],
        "LedgerEntry": history["me"]["wallet"]["history"]["edges"][0]["node"]["id"],
        "Reward": reward["id"],
        "Partner": partner,
        "Redemption": redemption,
        "AuditEvent": audit["auditLog"]["edges"][0]["node"]["id"],
    }


def node_types() -> set[str]:
    return {
        name
        for name, gql_type in schema._schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType)
        and any(i.name == "Node" for i in gql_type.interfaces)
    }


@pytest.mark.asyncio
async def test_no_node_of_one_program_is_reachable_from_another(api: Api) -> None:
    objects = await one_of_each(api)
    assert set(objects) == node_types(), "a new Node type needs a probe here"
    other = unique_slug("other")
    async with api.runtime.uow() as uow:
        await create_program(uow, api.runtime.clock, slug=other, name="Other", currency="EUR")
    for role in Role:
        token = api.token(role, "owner", store="store-1", partner="pp", program=other)
        for type_name, global_id in objects.items():
            found = await api.ok(NODE, {"id": global_id}, token)
            assert found["node"] is None, (role, type_name)


@pytest.mark.asyncio
async def test_another_member_reaches_none_of_a_members_nodes(api: Api) -> None:
    objects = await one_of_each(api)
    await api.enroll("stranger")
    private = ("Member", "LedgerEntry", "Redemption", "AuditEvent", "Referral")
    for type_name in private:
        found = await api.ok(NODE, {"id": objects[type_name]}, api.member("stranger"))
        assert found["node"] is None, type_name
    # the owner reaches their own
    for type_name in ("Member", "LedgerEntry", "Redemption", "Referral"):
        found = await api.ok(NODE, {"id": objects[type_name]}, api.member("owner"))
        assert found["node"] == {"id": objects[type_name]}, type_name
    # an ID of one type passed as another is not found either
    forged = objects["Member"].replace("TWVtYmVy", "UmV3YXJk")
    assert (await api.ok(NODE, {"id": forged}, api.admin()))["node"] is None
