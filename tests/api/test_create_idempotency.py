"""The create mutations are idempotent by an optional client key, like every other write."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from api.ids import decode
from persistence.tables import CampaignRow, PartnerRow, RewardRow, TierRow
from tests.support import Api

# mutation, input type, payload field, a valid input, the same with one field changed, table
CASES: dict[str, tuple[str, str, str, dict[str, Any], dict[str, Any], Any]] = {
    "reward": (
        "createReward",
        "CreateRewardInput",
        "reward",
        {"name": "Coffee", "kind": "FREE_PRODUCT", "pointsCost": 100, "sku": "coffee"},
        {"pointsCost": 120},
        RewardRow,
    ),
    "campaign": (
        "createCampaign",
        "CreateCampaignInput",
        "campaign",
        {
            "name": "Black Friday",
            "startsAt": "2026-11-27T00:00:00+00:00",
            "endsAt": "2026-11-28T00:00:00+00:00",
            "multiplier": 2,
        },
        {"multiplier": 3},
        CampaignRow,
    ),
    "tier": (
        "createTier",
        "CreateTierInput",
        "tier",
        {"name": "Silver", "threshold": 500},
        {"threshold": 600},
        TierRow,
    ),
    "partner": (
        "createPartner",
        "CreatePartnerInput",
        "partner",
        {"slug": "cinema", "name": "Cinema City"},
        {"name": "Cinema Town"},
        PartnerRow,
    ),
}


async def rows(api: Api, table: Any) -> int:
    program = (await api.ok("{ program { id } }", token=api.admin()))["program"]["id"]
    program_id = decode(program, "Program", ("id",))
    async with api.runtime.reader() as uow:
        result = await uow.conn.execute(
            select(func.count()).where(table.__table__.c.program_id == program_id)
        )
        return int(result.scalar_one())


async def create(api: Api, case: str, values: dict[str, Any]) -> dict[str, Any]:
    mutation, input_type, field, *_ = CASES[case]
    query = f"""mutation($i: {input_type}!) {{ {mutation}(input: $i) {{
      {field} {{ id }} errors {{ code field message }} }} }}"""
    return (await api.ok(query, {"i": values}, api.admin()))[mutation]


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_retried_create_returns_the_first_result(api: Api, case: str) -> None:
    _, _, field, values, changed, table = CASES[case]
    before = await rows(api, table)
    # given a create whose answer was lost
    first = await create(api, case, {**values, "idempotencyKey": "k-1"})
    assert first["errors"] == [], first
    # when it is sent again with the same key
    again = await create(api, case, {**values, "idempotencyKey": "k-1"})
    # then the answer is the same object, and there is one of it
    assert again == first
    assert await rows(api, table) == before + 1
    # the same key with different input is a conflict, and writes nothing
    conflict = await create(api, case, {**values, **changed, "idempotencyKey": "k-1"})
    assert conflict[field] is None
    assert conflict["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert conflict["errors"][0]["field"] == ["input", "idempotencyKey"]
    assert await rows(api, table) == before + 1
    # a blank key is refused with its field
    blank = await create(api, case, {**values, "idempotencyKey": "  "})
    assert blank["errors"][0]["field"] == ["input", "idempotencyKey"]


@pytest.mark.asyncio
@pytest.mark.parametrize("case", sorted(CASES))
async def test_identical_creates_at_once_make_one_object(api: Api, case: str) -> None:
    _, _, field, values, _, table = CASES[case]
    before = await rows(api, table)
    results = await asyncio.gather(
        *(create(api, case, {**values, "idempotencyKey": "same"}) for _ in range(6))
    )
    assert all(r["errors"] == [] for r in results), results
    assert len({r[field]["id"] for r in results}) == 1
    assert await rows(api, table) == before + 1


@pytest.mark.asyncio
async def test_creates_without_a_key_stay_as_they_were(api: Api) -> None:
    _, _, _, values, _, table = CASES["reward"]
    first = await create(api, "reward", values)
    second = await create(api, "reward", values)
    assert first["reward"]["id"] != second["reward"]["id"]
    assert await rows(api, table) == 2
