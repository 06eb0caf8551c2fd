"""Paying with points at the till and refunding such payments, through GraphQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.ids import decode
from tests.support import Api, MovableClock, ledger_totals

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PAY = """mutation($i: RedeemPointsForOrderInput!) { redeemPointsForOrder(input: $i) {
  pointsSpent discount { amountMinor currency } wallet { balance } errors { code field } } }"""
REFUND = """mutation($i: RefundPointsPaymentInput!) { refundPointsPayment(input: $i) {
  pointsRefunded discount { amountMinor currency } wallet { balance }
  errors { code field message } } }"""
EXPIRING = "{ me { wallet { balance expiring { points expiresAt } } } }"
EXPIRY = """mutation { updateProgram(input: {policy: {expiry: AFTER_EARNING, expiryMonths: 12}})
  { errors { code } } }"""


async def pay(api: Api, member_id: str, order: str, points: int, token: str | None = None) -> dict:
    variables = {"i": {"memberId": member_id, "orderId": order, "points": points}}
    return (await api.ok(PAY, variables, token or api.staff()))["redeemPointsForOrder"]


async def refund(api: Api, token: str | None = None, **values: Any) -> dict:
    return (await api.ok(REFUND, {"i": values}, token or api.staff()))["refundPointsPayment"]


@pytest.mark.asyncio
async def test_a_refunded_payment_gives_the_points_back_with_their_expiry_once(
    api: Api, clock: MovableClock
) -> None:
    # given points earned at two times (two expiry dates), part of both paid at the till
    clock.freeze(T0)
    assert (await api.ok(EXPIRY, token=api.admin()))["updateProgram"]["errors"] == []
    member = await api.enroll("ines")
    await api.purchase(member["id"], "web-1", 3000)  # 300 points, expire T0 + 12 months
    clock.advance(timedelta(days=60))
    await api.purchase(member["id"], "web-2", 10_000)  # 1000 points, two months later
    before = (await api.ok(EXPIRING, token=api.member("ines")))["me"]["wallet"]
    assert [e["points"] for e in before["expiring"]] == [300, 1000]
    clock.advance(timedelta(days=30))
    await api.scan("ines")
    paid = await pay(api, member["id"], "till-1", 500)
    assert paid["errors"] == [] and paid["wallet"]["balance"] == 800
    # when the till refunds the payment
    first = await refund(api, orderId="till-1", idempotencyKey="r-1")
    # then the 500 points are back, with the expiries they had (300 soonest, 200 later)
    assert first == {
        "pointsRefunded": 500,
        "discount": {"amountMinor": 500, "currency": "EUR"},
        "wallet": {"balance": 1300},
        "errors": [],
    }
    after = (await api.ok(EXPIRING, token=api.member("ines")))["me"]["wallet"]
    assert after == before
    # a retry answers the same and gives nothing more; another key finds it refunded
    assert await refund(api, orderId="till-1", idempotencyKey="r-1") == first
    again = await refund(api, orderId="till-1", idempotencyKey="r-2")
    assert again["errors"][0]["code"] == "PAYMENT_REFUNDED"
    assert again["errors"][0]["field"] == ["input", "orderId"]
    # the order cannot pay with points again under its id (a replay must not say "paid")
    replay = await pay(api, member["id"], "till-1", 500)
    assert replay["errors"][0]["code"] == "PAYMENT_REFUNDED"
    # the key used for another order is a conflict
    await pay(api, member["id"], "till-2", 100)
    conflict = await refund(api, orderId="till-2", idempotencyKey="r-1")
    assert conflict["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert (await api.wallet("ines"))["balance"] == 1200
    # the history says so, the audit log has it, the ledger adds up
    history = await api.ok(
        "{ me { wallet { history(first: 3) { edges { node { kind points description } } } } } }",
        token=api.member("ines"),
    )
    assert history["me"]["wallet"]["history"]["edges"][1]["node"] == {
        "kind": "REDEEM",
        "points": 500,
        "description": "Points payment refunded: order till-1",
    }
    log = await api.ok(
        "{ auditLog(first: 10) { edges { node { action actor detail } } } }", token=api.admin()
    )
    actions = [e["node"]["action"] for e in log["auditLog"]["edges"]]
    assert actions.count("refund-points-payment") == 1
    totals = await ledger_totals(api.runtime, decode(member["id"], "Member", ("id",)))
    assert totals.consistent() and totals.balance == 1200


@pytest.mark.asyncio
async def test_who_may_refund_and_what_is_refused(api: Api, clock: MovableClock) -> None:
    member = await api.enroll("jon")
    other = await api.enroll("kim")
    await api.adjust(member["id"], 1000, "fund")
    await api.scan("jon")
    assert (await pay(api, member["id"], "till-7", 400))["errors"] == []
    # staff of another store, and members, may not refund; nothing changes
    for token in (api.staff("store-2"), api.member("jon")):
        body = await api.raw(REFUND, {"i": {"orderId": "till-7", "idempotencyKey": "x"}}, token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # unknown orders, another member's id, blank keys are payload errors
    for values, code, field in (
        ({"orderId": "nope", "idempotencyKey": "x"}, "NOT_FOUND", "orderId"),
        (
            {"orderId": "till-7", "idempotencyKey": "x", "memberId": other["id"]},
            "NOT_FOUND",
            "orderId",
        ),
        ({"orderId": "till-7", "idempotencyKey": " "}, "INVALID_INPUT", "idempotencyKey"),
        (
            {"orderId": "till-7", "idempotencyKey": "x", "memberId": "eA"},
            "INVALID_INPUT",
            "memberId",
        ),
    ):
        result = await refund(api, **values)
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, ["input", field])]
    assert (await api.wallet("jon"))["balance"] == 600
    # once the scan window has closed, staff are refused; admins are not bound to windows
    clock.advance(timedelta(minutes=11))
    body = await api.raw(REFUND, {"i": {"orderId": "till-7", "idempotencyKey": "y"}}, api.staff())
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    done = await refund(
        api, api.admin(), orderId="till-7", idempotencyKey="y", memberId=member["id"]
    )
    assert done["errors"] == [] and done["wallet"]["balance"] == 1000


@pytest.mark.asyncio
async def test_refunds_of_one_payment_at_once_give_the_points_back_once(api: Api) -> None:
    member = await api.enroll("lou")
    await api.adjust(member["id"], 1000, "fund")
    await api.scan("lou")
    assert (await pay(api, member["id"], "till-3", 700))["errors"] == []
    results = await asyncio.gather(
        *(refund(api, orderId="till-3", idempotencyKey=f"k-{n}") for n in range(6))
    )
    outcomes = Counter(r["errors"][0]["code"] if r["errors"] else "OK" for r in results)
    assert outcomes == {"OK": 1, "PAYMENT_REFUNDED": 5}
    assert (await api.wallet("lou"))["balance"] == 1000
    totals = await ledger_totals(api.runtime, decode(member["id"], "Member", ("id",)))
    assert totals.consistent()
