"""No wallet grows past the maximum (balances are 32-bit GraphQL Ints), counting pending
points: every credit checks balance + pending, and the release job never makes a wallet
unreadable."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from api.ids import decode
from api.runtime import Runtime
from domain.ledger import MAX_BALANCE
from domain.model import Role
from persistence.jobs import Jobs
from persistence.tables import LedgerEntryRow, LotRow, WalletRow
from tests.api.rewards_support import CANCEL, create_reward, redeem
from tests.support import Api, MovableClock, ledger_totals

BILLION = 1_000_000_000
UPDATE = """mutation($i: UpdateProgramInput!) { updateProgram(input: $i) {
  errors { code field } } }"""
PURCHASE = """mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {
  pointsEarned errors { code field } } }"""
PARTNER_PURCHASE = """mutation($i: RecordPartnerPurchaseInput!) { recordPartnerPurchase(input: $i) {
  pointsEarned errors { code field } } }"""


async def a_billion_per_purchase_held_14_days(api: Api) -> None:
    """1,000 points per minor unit: a purchase of 1,000,000 minor earns 1e9 points."""
    data = await api.ok(
        UPDATE,
        {"i": {"earnRate": {"points": 1000, "perAmountMinor": 1}, "policy": {"holdDays": 14}}},
        api.admin(),
    )
    assert data["updateProgram"]["errors"] == [], data


async def purchase(api: Api, member_id: str, order_id: str) -> dict[str, Any]:
    data = await api.ok(
        PURCHASE,
        {
            "i": {
                "memberId": member_id,
                "orderId": order_id,
                "total": {"amountMinor": 1_000_000, "currency": "EUR"},
            }
        },
        api.admin(),
    )
    return dict(data["recordPurchase"])


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def a_partner_earning_a_point_per_euro(api: Api) -> str:
    """A partner `pp` whose purchases earn 1 point per 1.00; its till's token."""
    partner = await api.ok(
        'mutation { createPartner(input: {slug: "pp", name: "PP"}) { partner { id } } }',
        token=api.admin(),
    )
    terms = await api.ok(
        """mutation($i: UpdatePartnerTermsInput!) { updatePartnerTerms(input: $i) {
             errors { code } } }""",
        {
            "i": {
                "partnerId": partner["createPartner"]["partner"]["id"],
                "earnRate": {"points": 1, "perAmountMinor": 100},
                "pricePer100PointsMinor": 1,
                "payoutPerRedemptionMinor": 1,
            }
        },
        api.admin(),
    )
    assert terms["updatePartnerTerms"]["errors"] == []
    return api.token(Role.PARTNER, "box", partner="pp")


@pytest.mark.parametrize("credit", ["purchase", "adjustment", "partner purchase", "cancellation"])
@pytest.mark.asyncio
async def test_every_credit_counts_pending_points_against_the_maximum(
    api: Api, runtime: Runtime, clock: MovableClock, credit: str
) -> None:
    # given a wallet that is full once its pending points are released: 1e9 spendable
    # (after a 5e8 voucher) and 1e9 pending from a purchase held for 14 days
    await a_billion_per_purchase_held_14_days(api)
    partner = await a_partner_earning_a_point_per_euro(api)
    member = await api.enroll("alice")
    assert (await api.adjust(member["id"], BILLION, "fund"))["errors"] == []
    reward = await create_reward(api, pointsCost=BILLION // 2)
    voucher = await redeem(api, "alice", reward["id"], "r-1")
    assert voucher["errors"] == [], voucher
    assert (await api.adjust(member["id"], BILLION // 2, "top-up"))["errors"] == []
    held = await purchase(api, member["id"], "o-1")
    assert (held["pointsEarned"], held["errors"]) == (BILLION, [])
    before = await api.wallet("alice")
    assert (before["balance"], before["pending"]) == (BILLION, BILLION)

    # when one more credit arrives (each used to check only the balance, or only pending)
    if credit == "purchase":
        refused = await purchase(api, member["id"], "o-2")
    elif credit == "adjustment":
        refused = await api.adjust(member["id"], 1, "one-more")
    elif credit == "partner purchase":
        card = (await api.ok("{ me { cardNumber } }", token=api.member("alice")))["me"]
        data = await api.ok(
            PARTNER_PURCHASE,
            {
                "i": {
                    "orderId": "p-1",
                    "total": {"amountMinor": 100, "currency": "EUR"},
                    "cardNumber": card["cardNumber"],
                }
            },
            partner,
        )
        refused = data["recordPartnerPurchase"]
    else:  # the voucher's 5e8 points would come back
        data = await api.ok(CANCEL, {"id": voucher["redemption"]["id"]}, api.member("alice"))
        refused = data["cancelRedemption"]

    # then it is refused with a code and nothing changes
    assert codes(refused) == ["LIMIT_REACHED"], refused
    assert await api.wallet("alice") == before
    # and when the hold ends, the release makes the wallet full and still readable
    await Jobs(runtime.db, runtime.bus).run_once(clock.now() + timedelta(days=15), api.program)
    wallet = await api.wallet("alice")
    assert (wallet["balance"], wallet["pending"]) == (MAX_BALANCE, 0)
    totals = await ledger_totals(runtime, decode(member["id"], "Member", ()))
    assert totals.consistent(), totals


@pytest.mark.asyncio
async def test_the_release_keeps_pending_what_would_not_fit(
    api: Api, runtime: Runtime, clock: MovableClock
) -> None:
    """A wallet written before credits counted pending points (balance + pending past the
    maximum): the release moves what fits and keeps the rest pending, visible, until
    spending makes room. Capping would destroy earned points with no entry to show for it."""
    # given two pending purchases of 1e9 each (2e9 in all: allowed)
    await a_billion_per_purchase_held_14_days(api)
    member = await api.enroll("alice")
    member_id = decode(member["id"], "Member", ())
    for order in ("o-1", "o-2"):
        assert (await purchase(api, member["id"], order))["errors"] == []
    # and 5e8 spendable points written straight to the tables, as an older version could
    await _legacy_credit(runtime, member_id, 500_000_000, clock)
    # when the release job runs after the hold, one claim at a time
    jobs = Jobs(runtime.db, runtime.bus, batch=1)
    report = await jobs.run_once(clock.now() + timedelta(days=15), api.program)
    # then one purchase is released, the other stays pending, and the wallet reads fine
    assert report.released_points == BILLION
    wallet = await api.wallet("alice")
    assert (wallet["balance"], wallet["pending"]) == (1_500_000_000, BILLION)
    assert wallet["balance"] + wallet["pending"] > MAX_BALANCE  # the old wallet's excess
    # and running again changes nothing (the wallet is not due while nothing fits)
    again = await jobs.run_once(clock.now() + timedelta(days=16), api.program)
    assert again.released_points == 0
    # when the member spends, the rest is released by the next run
    assert (await api.adjust(member["id"], -BILLION, "spend"))["errors"] == []
    await jobs.run_once(clock.now() + timedelta(days=16), api.program)
    wallet = await api.wallet("alice")
    assert (wallet["balance"], wallet["pending"]) == (1_500_000_000, 0)
    totals = await ledger_totals(runtime, member_id)
    assert totals.consistent(), totals


async def _legacy_credit(
    runtime: Runtime, member_id: uuid.UUID, points: int, clock: MovableClock
) -> None:
    """An ADJUST entry, its spendable lot and the wallet row, without today's checks."""
    entries, lots = LedgerEntryRow.__table__, LotRow.__table__
    wallets = WalletRow.__table__
    now = clock.now()
    async with runtime.uow() as uow:
        wallet = (
            await uow.conn.execute(select(wallets).where(wallets.c.member_id == member_id))
        ).one()
        entry_id = uuid.uuid4()
        await uow.conn.execute(
            insert(entries).values(
                id=entry_id,
                program_id=wallet.program_id,
                member_id=member_id,
                version=wallet.version + 1,
                kind="ADJUST",
                points=points,
                balance_after=wallet.balance + points,
                description="legacy",
                reference="legacy",
                actor="test",
                occurred_at=now,
            )
        )
        await uow.conn.execute(
            insert(lots).values(
                id=uuid.uuid4(),
                program_id=wallet.program_id,
                member_id=member_id,
                entry_id=entry_id,
                points=points,
                remaining=points,
                available_at=now,
                expires_at=None,
                created_at=now,
                held=False,
            )
        )
        await uow.conn.execute(
            wallets.update()
            .where(wallets.c.member_id == member_id)
            .values(balance=wallet.balance + points, version=wallet.version + 1)
        )
        await uow.commit()
