"""GraphQL snippets and helpers shared by the reward tests."""

from __future__ import annotations

from typing import Any

from tests.support import Api

CREATE = """mutation($input: CreateRewardInput!) { createReward(input: $input) {
  reward { id name kind pointsCost remainingStock available partner { slug } }
  errors { code field message } } }"""

REDEEM = """mutation($input: RedeemRewardInput!) { redeemReward(input: $input) {
  redemption { id status pointsSpent voucherCode voucherQrSvg expiresAt reward { name } }
  wallet { balance version } errors { code field message } } }"""

USE = """mutation($code: String!) { useVoucher(input: {code: $code}) {
  redemption { id status usedAt } errors { code field message } } }"""

CANCEL = """mutation($id: ID!) { cancelRedemption(input: {redemptionId: $id}) {
  redemption { id status } wallet { balance } errors { code field message } } }"""

CATALOG = """query($first: Int, $after: String) { rewards(first: $first, after: $after) {
  edges { cursor node { id name pointsCost available affordable remainingStock
    partner { slug } minTier { name } } }
  pageInfo { hasNextPage endCursor } } }"""


async def create_reward(api: Api, **fields: Any) -> dict[str, Any]:
    values = {"name": "Free coffee", "kind": "FREE_PRODUCT", "pointsCost": 100, "sku": "coffee"}
    values.update(fields)
    data = await api.ok(CREATE, {"input": values}, api.admin())
    payload = data["createReward"]
    assert payload["errors"] == [], payload
    return payload["reward"]


async def redeem(
    api: Api, sub: str, reward_id: str, key: str, token: str | None = None, **extra: Any
) -> dict[str, Any]:
    data = await api.ok(
        REDEEM,
        {"input": {"rewardId": reward_id, "idempotencyKey": key, **extra}},
        token or api.member(sub),
    )
    return data["redeemReward"]


async def funded_member(api: Api, sub: str, points: int) -> dict[str, Any]:
    """An enrolled member with exactly `points` (via an admin adjustment)."""
    member = await api.enroll(sub)
    if points:
        result = await api.adjust(member["id"], points, f"fund-{sub}")
        assert result["errors"] == [], result
    return member
