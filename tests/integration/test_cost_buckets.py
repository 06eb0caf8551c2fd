"""Where cost budgets live: a table every process shares on PostgreSQL, the process's
memory with SQLite; either way, idle callers do not pile up."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from api.limits import CostBudget, MemoryBuckets
from api.runtime import Runtime
from persistence import budget as sql_budget


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.asyncio
async def test_concurrent_charges_never_overdraw_a_shared_bucket(runtime: Runtime) -> None:
    clock = Clock()
    # two budgets over the same database stand for two processes
    first = CostBudget.for_database(runtime.db, runtime.settings, clock)
    second = CostBudget.for_database(runtime.db, runtime.settings, clock)
    first.capacity = second.capacity = 1_000
    caller = f"race/{uuid.uuid4().hex}"
    charges = await asyncio.gather(*(budget.spend(caller, 100) for budget in [first, second] * 10))
    taken = sum(c.charged for c in charges)
    if runtime.db.is_sqlite:  # one budget per process: each grants its own 1,000
        assert taken == 20
    else:
        assert taken == 10
        assert min(c.available for c in charges) == pytest.approx(0)


@pytest.mark.asyncio
async def test_idle_buckets_are_forgotten(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    budget = CostBudget.for_database(runtime.db, runtime.settings, clock)
    if runtime.db.is_sqlite:
        assert isinstance(budget.store, MemoryBuckets)
        budget.store = MemoryBuckets(max_buckets=2)
        for caller in ("a", "b", "c"):
            await budget.spend(caller, 10)
        assert list(budget.store._buckets) == ["b", "c"]
        return
    monkeypatch.setattr(sql_budget, "CLEANUP_EVERY", 2)
    idle, busy = f"idle/{uuid.uuid4().hex}", f"busy/{uuid.uuid4().hex}"
    await budget.spend(idle, 10)
    # long after the idle bucket has filled up again, the second charge cleans up
    clock.now += budget.capacity / budget.refill + 3_600
    await budget.spend(busy, 10)
    async with runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT caller FROM cost_bucket WHERE caller IN (:a, :b)"),
            {"a": idle, "b": busy},
        )
        assert [r.caller for r in rows] == [busy]


@pytest.mark.asyncio
async def test_sharing_can_be_turned_off(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"cost_budget_shared": False})
    budget = CostBudget.for_database(runtime.db, settings)
    assert isinstance(budget.store, MemoryBuckets)
