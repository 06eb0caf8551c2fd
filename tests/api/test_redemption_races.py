"""Redemption under concurrency: no double spend, no oversold stock, one redemption per key.

On PostgreSQL the requests really race (row locks decide); on SQLite writes queue.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from api.ids import decode
from api.runtime import Runtime
from persistence.tables import RedemptionRow, RewardRow
from tests.api.rewards_support import create_reward, funded_member, redeem
from tests.support import Api, ledger_totals


async def stock_and_redemptions(runtime: Runtime, reward_id: str) -> tuple[int | None, int]:
    reward = decode(reward_id, "Reward", ())
    rewards, redemptions = RewardRow.__table__, RedemptionRow.__table__
    async with runtime.reader() as uow:
        stock = (
            await uow.conn.execute(select(rewards.c.stock).where(rewards.c.id == reward))
        ).scalar_one()
        count = (
            await uow.conn.execute(select(func.count()).where(redemptions.c.reward_id == reward))
        ).scalar_one()
    return stock, int(count)


@pytest.mark.asyncio
async def test_200_concurrent_redemptions_against_a_balance_for_exactly_7(
    api: Api, runtime: Runtime
) -> None:
    # given 700 points and a reward costing 100
    member = await funded_member(api, "alice", 700)
    reward = await create_reward(api, pointsCost=100)
    # when 200 redemptions with different keys race
    results = await asyncio.gather(
        *(redeem(api, "alice", reward["id"], f"k-{n}") for n in range(200))
    )
    # then exactly 7 succeed, the rest are refused for points, and the ledger adds up
    outcomes = Counter(r["errors"][0]["code"] if r["errors"] else "OK" for r in results)
    assert outcomes == {"OK": 7, "INSUFFICIENT_POINTS": 193}
    totals = await ledger_totals(runtime, decode(member["id"], "Member", ()))
    assert totals.consistent() and totals.balance == 0
    assert (await stock_and_redemptions(runtime, reward["id"]))[1] == 7


@pytest.mark.asyncio
async def test_100_members_on_a_stock_of_10_get_exactly_10_vouchers(
    api: Api, runtime: Runtime
) -> None:
    subs = [f"m{n}" for n in range(100)]
    members = [await funded_member(api, sub, 100) for sub in subs]
    reward = await create_reward(api, pointsCost=100, stock=10)
    # every member happens to use the same idempotency key: keys are per member
    results = await asyncio.gather(*(redeem(api, sub, reward["id"], "k") for sub in subs))
    outcomes = Counter(r["errors"][0]["code"] if r["errors"] else "OK" for r in results)
    assert outcomes == {"OK": 10, "OUT_OF_STOCK": 90}
    assert await stock_and_redemptions(runtime, reward["id"]) == (0, 10)
    codes = {r["redemption"]["voucherCode"] for r in results if not r["errors"]}
    assert len(codes) == 10
    # the 90 who got nothing kept their points
    balances = [
        (await ledger_totals(runtime, decode(m["id"], "Member", ()))).balance for m in members
    ]
    assert sorted(balances) == [0] * 10 + [100] * 90


@pytest.mark.asyncio
async def test_one_key_sent_50_times_at_once_redeems_once(api: Api, runtime: Runtime) -> None:
    member = await funded_member(api, "bob", 1000)
    reward = await create_reward(api, pointsCost=100)
    results = await asyncio.gather(
        *(redeem(api, "bob", reward["id"], "same-key") for _ in range(50))
    )
    assert all(r["errors"] == [] for r in results), results
    assert len({r["redemption"]["id"] for r in results}) == 1
    assert len({r["redemption"]["voucherCode"] for r in results}) == 1
    totals = await ledger_totals(runtime, decode(member["id"], "Member", ()))
    assert totals.balance == 900 and totals.consistent()


@pytest.mark.asyncio
async def test_per_member_limit_holds_under_concurrency(api: Api, runtime: Runtime) -> None:
    member = await funded_member(api, "cara", 10_000)
    reward = await create_reward(api, pointsCost=10, perMemberLimit=3)
    results = await asyncio.gather(
        *(redeem(api, "cara", reward["id"], f"k-{n}") for n in range(30))
    )
    outcomes = Counter(r["errors"][0]["code"] if r["errors"] else "OK" for r in results)
    assert outcomes == {"OK": 3, "LIMIT_REACHED": 27}
    totals = await ledger_totals(runtime, decode(member["id"], "Member", ()))
    assert totals.balance == 10_000 - 30 and totals.consistent()


@pytest.mark.asyncio
async def test_a_voucher_used_at_two_tills_at_once_is_used_once(api: Api) -> None:
    await funded_member(api, "dan", 100)
    reward = await create_reward(api)
    code = (await redeem(api, "dan", reward["id"], "k"))["redemption"]["voucherCode"]
    use = "mutation($c: String!) { useVoucher(input: {code: $c}) { errors { code } } }"
    results = await asyncio.gather(
        *(api.ok(use, {"c": code}, api.staff(f"store-{n}")) for n in range(10))
    )
    codes = Counter(
        r["useVoucher"]["errors"][0]["code"] if r["useVoucher"]["errors"] else "OK" for r in results
    )
    assert codes == {"OK": 1, "VOUCHER_ALREADY_USED": 9}


@pytest.mark.asyncio
async def test_cancel_and_use_racing_resolve_to_one_outcome(api: Api, runtime: Runtime) -> None:
    member = await funded_member(api, "eve", 100)
    reward = await create_reward(api, stock=1)
    redemption = (await redeem(api, "eve", reward["id"], "k"))["redemption"]
    use = "mutation($c: String!) { useVoucher(input: {code: $c}) { errors { code } } }"
    cancel = (
        "mutation($id: ID!) { cancelRedemption(input: {redemptionId: $id}) { errors { code } } }"
    )
    results = await asyncio.gather(
        *(api.ok(use, {"c": redemption["voucherCode"]}, api.staff()) for _ in range(5)),
        *(api.ok(cancel, {"id": redemption["id"]}, api.member("eve")) for _ in range(5)),
    )
    wins = [r for r in results if not next(iter(r.values()))["errors"]]
    assert len(wins) == 1
    totals = await ledger_totals(runtime, decode(member["id"], "Member", ()))
    cancelled = "cancelRedemption" in wins[0]
    assert totals.balance == (100 if cancelled else 0) and totals.consistent()
    assert (await stock_and_redemptions(runtime, reward["id"]))[0] == (1 if cancelled else 0)
