"""One request's overlapping reads share a pooled connection; the fast path reads the same
values as SQLAlchemy does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import event

from api.runtime import Runtime
from domain.model import EntryKind
from persistence.unit_of_work import SharedReads, SqlUnitOfWork
from tests.support import Api


@dataclass
class Checkouts:
    taken: int = 0
    held: int = 0
    most: int = 0


@contextmanager
def checkouts(runtime: Runtime) -> Iterator[Checkouts]:
    seen = Checkouts()

    def out(*_: object) -> None:
        seen.taken += 1
        seen.held += 1
        seen.most = max(seen.most, seen.held)

    def back(*_: object) -> None:
        seen.held -= 1

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "checkout", out)
    event.listen(engine, "checkin", back)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", out)
        event.remove(engine, "checkin", back)


async def _read_slowly(reader: SqlUnitOfWork, slug: str) -> str:
    async with reader as uow:
        await asyncio.sleep(0.01)  # still inside the block when the others start
        found = await uow.programs.get_with_tiers(slug)
        assert found is not None
        return found[0].slug


@pytest.mark.asyncio
async def test_overlapping_read_blocks_take_one_connection(runtime: Runtime, program: str) -> None:
    shared = SharedReads(runtime.db)
    with checkouts(runtime) as seen:
        slugs = await asyncio.gather(*(_read_slowly(shared.reader(), program) for _ in range(5)))
        assert slugs == [program] * 5
        assert seen.held == 0  # the last block gave it back
        if runtime.db.is_sqlite:
            assert seen.taken == 5  # SQLite: a connection (and transaction) per read block
        else:
            assert (seen.taken, seen.most) == (1, 1)
        # a later block takes one again, and the end of the request leaves nothing out
        await _read_slowly(shared.reader(), program)
        await shared.close()
        assert seen.held == 0


@pytest.mark.asyncio
async def test_separate_readers_would_take_a_connection_each(
    runtime: Runtime, program: str
) -> None:
    # the baseline the sharing is measured against (and what subscriptions still do)
    with checkouts(runtime) as seen:
        await asyncio.gather(*(_read_slowly(runtime.reader(), program) for _ in range(5)))
    assert seen.taken == 5
    assert seen.held == 0


@pytest.mark.asyncio
async def test_a_failing_read_gives_the_shared_connection_back(
    runtime: Runtime, program: str
) -> None:
    shared = SharedReads(runtime.db)
    with checkouts(runtime) as seen:
        with pytest.raises(RuntimeError, match="boom"):
            async with shared.reader():
                raise RuntimeError("boom")
        assert seen.held == 0
        assert await _read_slowly(shared.reader(), program) == program


@pytest.mark.asyncio
async def test_fast_path_reads_what_sqlalchemy_reads(api: Api, runtime: Runtime) -> None:
    # given a member with earned points and a history
    member = await api.enroll("dora")
    for n in range(3):
        await api.purchase(member["id"], f"o-{n}", 1000 * (n + 1))
    slug = api.program
    # when the same reads run outside a transaction (PostgreSQL: on the driver directly)
    # and inside a write transaction (always through SQLAlchemy)
    results = []
    for uow in (runtime.reader(), runtime.uow()):
        async with uow:
            found = await uow.programs.get_with_tiers(slug)
            assert found is not None
            prog, tiers = found
            by_id = await uow.programs.get_with_tiers_by_id(prog.id)
            pair = await uow.members.get_with_wallet_by_subject(prog.id, "dora")
            assert pair is not None
            who, wallet = pair
            history = await uow.ledger.history(prog.id, who.id, limit=10, before_version=None)
            since = history[-1].occurred_at
            qualifying = await uow.ledger.qualifying_points(
                prog.id, [who.id], since, [EntryKind.EARN, EntryKind.BONUS]
            )
            results.append((prog, tiers, by_id, who, wallet, history, qualifying))
    # then both give equal domain objects, down to the time zones
    assert results[0] == results[1]
    prog, tiers, _, who, wallet, history, qualifying = results[0]
    assert [e.points for e in history] == [300, 200, 100]
    assert all(e.occurred_at.tzinfo is not None for e in history)
    assert wallet.balance == 600
    assert qualifying == {who.id: 600}


@pytest.mark.asyncio
async def test_a_block_outliving_the_request_leaves_nothing_out(
    runtime: Runtime, program: str
) -> None:
    shared = SharedReads(runtime.db)
    with checkouts(runtime) as seen:
        late = shared.reader()
        await late.__aenter__()
        await shared.close()  # the request ended while that block was still open
        await late.__aexit__(None, None, None)
        assert await _read_slowly(shared.reader(), program) == program
        assert seen.held == 0
