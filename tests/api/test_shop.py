"""The brand's web shop (role `shop`, issue 21): credits, refunds and prices online orders
for any member of its program without a card scan, audited as `shop:<sub>`; it reads the
program and the live catalog and nothing of members beyond the answer to its own calls.
Which root fields it may call at all: tests/api/test_access_policy.py."""

from __future__ import annotations

import pytest

from domain.model import Role
from tests.support import Api

PREVIEW = """mutation($i: PreviewEarnInput!) { previewEarn(input: $i) {
  pointsEarned errors { code field } } }"""
PURCHASE = """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
  pointsEarned wallet { balance } errors { code field message } } }"""
REFUND = """mutation($i: RefundPurchaseInput!) { refundPurchase(input: $i) {
  pointsReversed wallet { balance } errors { code field message } } }"""
AUDIT = """query($m: ID) { auditLog(first: 10, memberId: $m) {
  edges { node { actor store action outcome detail } } } }"""


def order(member_id: str, order_id: str, amount: int) -> dict:
    total = {"amountMinor": amount, "currency": "EUR"}
    return {"i": {"memberId": member_id, "orderId": order_id, "total": total}}


def shop(api: Api) -> str:
    return api.token(Role.SHOP, "webshop")


@pytest.mark.asyncio
async def test_the_shop_prices_credits_and_refunds_for_any_member_without_a_scan(
    api: Api,
) -> None:
    # given two members nobody scanned, and the shop's token
    ann, bob = await api.enroll("ann"), await api.enroll("bob")
    token = shop(api)
    # when the shop prices and credits an online order for each
    for member, order_id in ((ann, "web-1"), (bob, "web-2")):
        priced = {
            "i": {"memberId": member["id"], "total": {"amountMinor": 2599, "currency": "EUR"}}
        }
        preview = (await api.ok(PREVIEW, priced, token))["previewEarn"]
        assert preview == {"pointsEarned": 259, "errors": []}
        done = await api.ok(PURCHASE, order(member["id"], order_id, 2599), token)
        assert done["recordPurchase"] == {
            "pointsEarned": 259,
            "wallet": {"balance": 259},
            "errors": [],
        }
    # and refunds half of ann's order
    refund = {"i": {"orderId": "web-1", "idempotencyKey": "r-1",
                    "amount": {"amountMinor": 1300, "currency": "EUR"}}}  # fmt: skip
    refunded = (await api.ok(REFUND, refund, token))["refundPurchase"]
    # then the points moved in the members' own wallets
    assert refunded == {"pointsReversed": 129, "wallet": {"balance": 130}, "errors": []}
    assert (await api.wallet("ann"))["balance"] == 130
    assert (await api.wallet("bob"))["balance"] == 259
    # and a retry of the order credits once
    again = (await api.ok(PURCHASE, order(bob["id"], "web-2", 2599), token))["recordPurchase"]
    assert again["pointsEarned"] == 259 and again["wallet"] == {"balance": 259}


@pytest.mark.asyncio
async def test_the_shops_orders_are_audited_with_its_actor(api: Api) -> None:
    # given a member and the shop's token
    ann = await api.enroll("ann")
    token = shop(api)
    # when the shop credits an order and refunds it
    assert (await api.ok(PURCHASE, order(ann["id"], "web-7", 1000), token))["recordPurchase"][
        "errors"
    ] == []
    refund = {"i": {"orderId": "web-7", "idempotencyKey": "r-7",
                    "amount": {"amountMinor": 1000, "currency": "EUR"}}}  # fmt: skip
    assert (await api.ok(REFUND, refund, token))["refundPurchase"]["errors"] == []
    # then the audit log names the shop for both, newest first
    log = (await api.ok(AUDIT, {"m": ann["id"]}, api.admin()))["auditLog"]["edges"]
    assert [edge["node"] for edge in log] == [
        {"actor": "shop:webshop", "store": None, "action": "refund", "outcome": "OK",
         "detail": "order web-7"},
        {"actor": "shop:webshop", "store": None, "action": "purchase", "outcome": "OK",
         "detail": "order web-7"},
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_the_shop_reads_nothing_of_members_beyond_its_answers(api: Api) -> None:
    # given a member with some history, credited by the shop
    ann = await api.enroll("ann", email="ann@example.com")
    await api.adjust(ann["id"], 50, "gift", reason="sorry for the delay")
    token = shop(api)
    # when the shop asks for the member by global id, or for the wallet's entries
    node = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": ann["id"]}, token)
    history = await api.raw(
        """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
             wallet { balance history(first: 5) { edges { node { description } } } } } }""",
        order(ann["id"], "web-9", 1000),
        token,
    )
    # then the member is unknown to it, and the entries are refused (the credit stands)
    assert node == {"node": None}
    assert [e["extensions"]["code"] for e in history["errors"]] == ["FORBIDDEN"]
    assert history["data"]["recordPurchase"]["wallet"] is None
    assert (await api.wallet("ann"))["balance"] == 150


@pytest.mark.asyncio
async def test_the_shop_sees_the_program_and_the_live_catalog(api: Api) -> None:
    # given a live reward and an archived one
    create = """mutation($n: String!) { createReward(input: {name: $n, kind: FREE_SHIPPING,
      pointsCost: 100}) { reward { id } errors { code } } }"""
    live = (await api.ok(create, {"n": "Shipping"}, api.admin()))["createReward"]["reward"]["id"]
    old = (await api.ok(create, {"n": "Old"}, api.admin()))["createReward"]["reward"]["id"]
    archive = "mutation($id: ID!) { archiveReward(input: {rewardId: $id}) { errors { code } } }"
    assert (await api.ok(archive, {"id": old}, api.admin()))["archiveReward"]["errors"] == []
    token = shop(api)
    # when the shop reads the program, the catalog and both rewards by id
    data = await api.ok(
        """query($live: ID!, $old: ID!) { program { currency earnRate { points } }
             rewards(first: 10) { edges { node { id name } } }
             live: node(id: $live) { id } old: node(id: $old) { id } }""",
        {"live": live, "old": old},
        token,
    )
    # then it sees what a shopper would: the program and the live reward only
    assert data["program"] == {"currency": "EUR", "earnRate": {"points": 10}}
    assert [e["node"] for e in data["rewards"]["edges"]] == [{"id": live, "name": "Shipping"}]
    assert data["live"] == {"id": live} and data["old"] is None
