"""`Reward.available` and `affordable` resolve wherever a Reward is returned, not only in
`rewards`: after a redemption, by node ID, on vouchers, at the till, in partner views."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type

from api.schema import schema
from domain.model import Role
from tests.api.rewards_support import create_reward, funded_member
from tests.support import Api

FIELDS = "reward { id available affordable unavailableReason }"
REWARD = "id available affordable unavailableReason"

# Every field whose type is Reward (or a list of them) and the probe below that selects it.
PROBED = {
    ("Member", "affordableRewards"),
    ("Redemption", "reward"),
    ("PartnerRewardStats", "reward"),
    ("RewardEdge", "node"),
    ("RewardConnection", "nodes"),
    ("CreateRewardPayload", "reward"),
    ("UpdateRewardPayload", "reward"),
    ("ChallengeReward", "reward"),
    ("EarningAction", "reward"),
    ("EarnableAction", "reward"),
}


def reward_fields() -> set[tuple[str, str]]:
    return {
        (type_name, field_name)
        for type_name, gql_type in schema._schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType)
        for field_name, field in gql_type.fields.items()
        if get_named_type(field.type).name == "Reward"
    }


def rewards_in(data: Any) -> list[dict[str, Any]]:
    """Every object with `available` in a response."""
    if isinstance(data, dict):
        found = [data] if "available" in data else []
        return found + [r for value in data.values() for r in rewards_in(value)]
    if isinstance(data, list):
        return [r for item in data for r in rewards_in(item)]
    return []


@pytest.mark.asyncio
async def test_available_and_affordable_resolve_through_every_path(api: Api) -> None:
    assert reward_fields() == PROBED, "a new field returning Reward needs a probe here"
    # given a partner's reward and a member who can afford it
    partner_id = (
        await api.ok(
            'mutation { createPartner(input: {slug: "pp", name: "PP"}) { partner { id } } }',
            token=api.admin(),
        )
    )["createPartner"]["partner"]["id"]
    created = await api.ok(
        f"""mutation($i: CreateRewardInput!) {{ createReward(input: $i) {{
              reward {{ {REWARD} }} errors {{ code }} }} }}""",
        {"i": {"name": "Ticket", "kind": "EXPERIENCE", "pointsCost": 100, "partnerId": partner_id}},
        api.admin(),
    )
    reward_id = created["createReward"]["reward"]["id"]
    await create_reward(api, name="Spare", pointsCost=200)
    await funded_member(api, "alice", 1000)
    alice, admin, staff = api.member("alice"), api.admin(), api.staff()
    partner = api.token(Role.PARTNER, "box", partner="pp")
    calls: list[tuple[str, dict[str, Any], str]] = []
    challenge = await api.ok(
        """mutation($r: ID!) { createChallenge(input: {name: "Two visits", rewardId: $r,
             goal: {kind: PURCHASE_COUNT, target: 2}}) { errors { code } } }""",
        {"r": reward_id},
        admin,
    )
    assert challenge["createChallenge"]["errors"] == []
    calls += [
        (f"{{ me {{ challenges {{ reward {{ {FIELDS} }} }} }} }}", {}, alice),
        (f"{{ challenges {{ nodes {{ reward {{ {FIELDS} }} }} }} }}", {}, admin),
    ]
    # (an earning action that pays the reward's voucher shows it in the catalog and to members)
    action = await api.ok(
        """mutation($i: CreateEarningActionInput!) { createEarningAction(input: $i) {
             errors { code } } }""",
        {"i": {"key": "survey", "kind": "SURVEY", "name": "Survey", "rewardId": reward_id}},
        admin,
    )
    assert action["createEarningAction"]["errors"] == []

    # when alice redeems, selecting the reward's availability in the payload
    redeemed = await api.ok(
        f"""mutation($i: RedeemRewardInput!) {{ redeemReward(input: $i) {{
              redemption {{ id voucherCode {FIELDS} }} errors {{ code }} }} }}""",
        {"i": {"rewardId": reward_id, "idempotencyKey": "k-1"}},
        alice,
    )
    # then the redemption comes back with them (it used to be null beside a committed debit)
    redemption = redeemed["redeemReward"]["redemption"]
    assert redemption is not None, redeemed
    assert redemption["reward"] == {
        "id": reward_id,
        "available": True,
        "affordable": True,
        "unavailableReason": None,
    }
    second = await api.ok(
        f"""mutation($i: RedeemRewardInput!) {{ redeemReward(input: $i) {{
              redemption {{ id {FIELDS} }} errors {{ code }} }} }}""",
        {"i": {"rewardId": reward_id, "idempotencyKey": "k-2"}},
        alice,
    )
    assert second["redeemReward"]["redemption"]["reward"]["affordable"] is True

    node = "query($id: ID!) { node(id: $id) { ... on Reward { %s } ... on Redemption { %s } } }"
    calls += [
        (node % (REWARD, FIELDS), {"id": reward_id}, token) for token in (alice, admin, partner)
    ]
    calls += [
        (node % (REWARD, FIELDS), {"id": redemption["id"]}, alice),
        (
            f"{{ me {{ redemptions {{ edges {{ node {{ {FIELDS} }} }} }}"
            f" usableVouchers {{ {FIELDS} }} affordableRewards {{ {REWARD} }} }} }}",
            {},
            alice,
        ),
        (f"{{ rewards {{ edges {{ node {{ {REWARD} }} }} nodes {{ {REWARD} }} }} }}", {}, alice),
        (
            f"""{{ partnerRedemptions {{ edges {{ node {{ redemption {{ {FIELDS} }} }} }} }}
                partnerRewardStats {{ {FIELDS} }} }}""",
            {},
            partner,
        ),
        (f"{{ me {{ actions {{ {FIELDS} }} }} }}", {}, alice),
        (f"{{ earningActions {{ nodes {{ {FIELDS} }} }} }}", {}, admin),
        (
            f"""mutation($i: UpdateRewardInput!) {{ updateReward(input: $i) {{
                  reward {{ {REWARD} }} errors {{ code }} }} }}""",
            {"i": {"rewardId": reward_id, "description": "Any film"}},
            admin,
        ),
    ]
    # and through every other path, for each kind of caller
    for query, variables, token in calls:
        data = await api.ok(query, variables, token)
        found = rewards_in(data)
        assert found, (query, data)
        for reward in found:
            assert reward["available"] is True, (query, data)
            assert reward["unavailableReason"] is None, (query, data)
            member_view = token == alice
            assert reward["affordable"] is (True if member_view else None), (query, data)

    # and at the till: the scan's member, then the voucher used, then one cancelled
    payload = await api.card_payload("alice")
    scanned = await api.ok(
        f"""mutation($p: String!) {{ scanMemberCard(input: {{payload: $p}}) {{
              member {{ usableVouchers {{ {FIELDS} }} affordableRewards {{ {REWARD} }} }}
              errors {{ code }} }} }}""",
        {"p": payload},
        staff,
    )
    till = scanned["scanMemberCard"]["member"]
    assert till is not None, scanned
    # (the member's affordable rewards are affordable to them; a voucher's reward is
    # judged for the caller, and staff have no balance)
    assert [r["affordable"] for r in rewards_in(till["usableVouchers"])] == [None, None]
    assert [r["affordable"] for r in rewards_in(till["affordableRewards"])] == [True, True]
    assert all(r["available"] is True for r in rewards_in(till)), till
    used = await api.ok(
        f"""mutation($c: String!) {{ useVoucher(input: {{code: $c}}) {{
              redemption {{ {FIELDS} }} errors {{ code }} }} }}""",
        {"c": redemption["voucherCode"]},
        staff,  # (a partner's useVoucher also needs the member's card: test_partners.py)
    )
    assert used["useVoucher"]["redemption"]["reward"]["available"] is True, used
    cancelled = await api.ok(
        f"""mutation($id: ID!) {{ cancelRedemption(input: {{redemptionId: $id}}) {{
              redemption {{ {FIELDS} }} errors {{ code }} }} }}""",
        {"id": second["redeemReward"]["redemption"]["id"]},
        alice,
    )
    assert cancelled["cancelRedemption"]["redemption"]["reward"]["affordable"] is True, cancelled
