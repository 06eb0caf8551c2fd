"""Concurrent writers through the API: no double credit, no overdraft, ledger == balance."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.ids import decode
from api.runtime import Runtime
from tests.support import Api, LedgerTotals, ledger_totals


async def totals(runtime: Runtime, member_id: str) -> LedgerTotals:
    return await ledger_totals(runtime, decode(member_id, "Member", ()))


@pytest.mark.asyncio
async def test_fifty_concurrent_purchases_with_one_order_id_credit_once(
    api: Api, runtime: Runtime
) -> None:
    # given a member
    member = await api.enroll("alice")
    # when the same order is recorded 50 times at once
    results = await asyncio.gather(
        *(api.purchase(member["id"], "order-42", 2500) for _ in range(50))
    )
    # then every answer is the same success, and the wallet was credited once
    assert all(r["errors"] == [] and r["pointsEarned"] == 250 for r in results)
    assert await totals(runtime, member["id"]) == LedgerTotals(250, 1, 250, 1, 250)


@pytest.mark.asyncio
async def test_fifty_concurrent_debits_never_overdraw(api: Api, runtime: Runtime) -> None:
    # given a balance of 1,000 points in several lots
    member = await api.enroll("bob")
    for n in range(4):
        await api.purchase(member["id"], f"seed-{n}", 2500)
    # when 50 different debits of 30 points race (1,500 points asked for)
    results = await asyncio.gather(
        *(api.adjust(member["id"], -30, f"debit-{uuid.uuid4()}") for _ in range(50))
    )
    ok = [r for r in results if r["errors"] == []]
    refused = [r for r in results if r["errors"]]
    # then exactly floor(1000 / 30) succeed, the rest are INSUFFICIENT_POINTS
    assert len(ok) == 33
    assert {r["errors"][0]["code"] for r in refused} == {"INSUFFICIENT_POINTS"}
    result = await totals(runtime, member["id"])
    assert result.consistent()
    assert result.balance == 1000 - 33 * 30
    assert result.entry_count == 4 + 33
    # and versions are dense: each success saw a distinct version
    assert sorted(r["wallet"]["version"] for r in ok) == list(range(5, 5 + 33))


@pytest.mark.asyncio
async def test_concurrent_purchases_of_many_orders_all_count(api: Api, runtime: Runtime) -> None:
    member = await api.enroll("carol")
    results = await asyncio.gather(*(api.purchase(member["id"], f"o-{n}", 1000) for n in range(30)))
    assert all(r["pointsEarned"] == 100 for r in results)
    assert await totals(runtime, member["id"]) == LedgerTotals(3000, 30, 3000, 30, 3000)


@pytest.mark.asyncio
async def test_concurrent_enrollments_of_one_subject_make_one_member(api: Api) -> None:
    token = api.member("dora")
    query = "mutation { enroll(input: {}) { member { id cardNumber } errors { code } } }"
    results = await asyncio.gather(*(api.ok(query, token=token) for _ in range(10)))
    # the same enrollment ten times at once (retries): one member, every answer is it
    assert len({str(r["enroll"]) for r in results}) == 1
    assert results[0]["enroll"]["errors"] == []
    assert results[0]["enroll"]["member"]["id"]
    # different enrollments of the subject at once: one wins, the others are refused
    token = api.member("dirk")
    query = """mutation($n: String!) { enroll(input: {displayName: $n}) {
      member { id } errors { code } } }"""
    results = await asyncio.gather(
        *(api.ok(query, {"n": f"Dirk {n}"}, token=token) for n in range(10))
    )
    ids = {r["enroll"]["member"]["id"] for r in results if r["enroll"]["member"]}
    codes = [e["code"] for r in results for e in r["enroll"]["errors"]]
    assert len(ids) == 1
    assert codes == ["ALREADY_ENROLLED"] * 9
