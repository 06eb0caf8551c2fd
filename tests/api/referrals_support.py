"""GraphQL snippets and helpers shared by the referral tests."""

from __future__ import annotations

from typing import Any

from tests.support import Api

SETTINGS = """mutation($input: UpdateReferralProgramInput!) {
  updateReferralProgram(input: $input) {
    referralProgram { welcomePoints welcomeRewardId referrerPoints
      minPurchase { amountMinor currency } monthlyCap
      milestones { count points rewardId } normalisedDomains linkTemplate }
    errors { code field message } } }"""

MINE = """{ me { referralCode referralLink
  referrals(first: 20) { edges { node { id refereeDisplayName status reason points createdAt
    qualifiedAt } } }
  referralProgress { successfulCount referralsToNext nextMilestone { count points } }
  wallet { balance pending
    history(first: 50) { edges { node { kind points description } } } } } }"""

REVIEW = """query($after: String) { referralsForReview(first: 10, after: $after) {
  edges { node { id refereeDisplayName status reason referrerId refereeId } }
  pageInfo { hasNextPage endCursor } } }"""

APPROVE = """mutation($id: ID!) { approveReferral(input: {referralId: $id}) {
  referral { id status reason points refereeDisplayName } errors { code field message } } }"""

REJECT = """mutation($id: ID!) { rejectReferral(input: {referralId: $id, note: "same person"}) {
  referral { id status reason note } errors { code field message } } }"""

ENROLL = """mutation($input: EnrollInput!) { enroll(input: $input) {
  member { id referralCode } errors { code field message } } }"""

PURCHASE = """mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) {
  pointsEarned errors { code field message } } }"""

REFUND = """mutation($i: RefundPurchaseInput!) { refundPurchase(input: $i) {
  pointsReversed errors { code field message } } }"""


async def configure(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.ok(SETTINGS, {"input": fields}, api.admin())
    payload = data["updateReferralProgram"]
    assert payload["errors"] == [], payload
    return payload["referralProgram"]


async def mine(api: Api, sub: str) -> dict[str, Any]:
    return (await api.ok(MINE, token=api.member(sub)))["me"]


async def statuses(api: Api, sub: str) -> list[tuple[str, str | None, int]]:
    """(status, reason, points) of `sub`'s referrals, newest first."""
    edges = (await mine(api, sub))["referrals"]["edges"]
    return [(e["node"]["status"], e["node"]["reason"], e["node"]["points"]) for e in edges]


def referral_credits(me: dict[str, Any]) -> list[int]:
    """Points of the member's REFERRAL ledger entries, newest first."""
    edges = me["wallet"]["history"]["edges"]
    return [e["node"]["points"] for e in edges if e["node"]["kind"] == "REFERRAL"]


async def enroll(api: Api, sub: str, **fields: Any) -> dict[str, Any]:
    data = await api.ok(ENROLL, {"input": {"displayName": sub.title(), **fields}}, api.member(sub))
    return data["enroll"]


async def purchase(
    api: Api, member_id: str, order_id: str, amount: int, **extra: Any
) -> dict[str, Any]:
    value = {
        "memberId": member_id,
        "orderId": order_id,
        "total": {"amountMinor": amount, "currency": "EUR"},
        **extra,
    }
    data = await api.ok(PURCHASE, {"input": value}, api.admin())
    payload = data["recordPurchase"]
    assert payload["errors"] == [], payload
    return payload


async def refund(api: Api, order_id: str, amount: int) -> dict[str, Any]:
    value = {
        "orderId": order_id,
        "amount": {"amountMinor": amount, "currency": "EUR"},
        "idempotencyKey": f"refund-{order_id}",
    }
    data = await api.ok(REFUND, {"i": value}, api.admin())
    return data["refundPurchase"]


async def set_hold(api: Api, days: int) -> None:
    data = await api.ok(
        "mutation($d: Int!) { updateProgram(input: {policy: {holdDays: $d}}) { errors { code } } }",
        {"d": days},
        api.admin(),
    )
    assert data["updateProgram"]["errors"] == []


async def block(api: Api, member_id: str) -> None:
    data = await api.ok(
        """mutation($id: ID!) { blockMember(input: {memberId: $id, blocked: true,
             reason: "fraud"}) { errors { code } } }""",
        {"id": member_id},
        api.admin(),
    )
    assert data["blockMember"]["errors"] == []
