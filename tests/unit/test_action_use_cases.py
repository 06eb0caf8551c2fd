"""Earning action use cases through the in-memory unit of work (tests/fakes.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.actions import ActionKind, ActionLimits, Reporter
from domain.errors import ActionLimitReached, ActionNotAllowed
from domain.model import EntryKind, Principal, Role
from domain.services import actions, members, programs
from tests.fakes import FixedClock, InMemoryStore, InMemoryUnitOfWork

SLUG = "coffee"
ADMIN = Principal(Role.ADMIN, SLUG, "admin-1")
ALICE = Principal(Role.MEMBER, SLUG, "alice")


async def _program() -> tuple[InMemoryStore, FixedClock]:
    store = InMemoryStore()
    clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    await programs.create_program(
        InMemoryUnitOfWork(store), clock, slug=SLUG, name="Coffee Club", currency="EUR"
    )
    return store, clock


@pytest.mark.asyncio
async def test_enrolling_pays_the_signup_action_in_the_same_commit() -> None:
    store, clock = await _program()
    await actions.create_earning_action(
        InMemoryUnitOfWork(store),
        clock,
        ADMIN,
        actions.NewAction(key="welcome", kind=ActionKind.SIGNUP, name="Welcome", points=100),
    )
    commits = store.commits
    member = await members.enroll(InMemoryUnitOfWork(store), clock, ALICE, members.Enrollment())
    assert store.commits == commits + 1
    assert store.wallets[member.id].balance == 100
    assert [(e.kind, e.points) for e in store.entries] == [(EntryKind.ACTION, 100)]


@pytest.mark.asyncio
async def test_a_member_reported_action_respects_its_once_ever_limit() -> None:
    store, clock = await _program()
    command = actions.NewAction(
        key="ig",
        kind=ActionKind.SOCIAL_FOLLOW,
        name="Instagram",
        points=20,
        network="instagram",
        reported_by=Reporter.MEMBER,
        limits=ActionLimits(lifetime=1),
    )
    await actions.create_earning_action(InMemoryUnitOfWork(store), clock, ADMIN, command)
    await members.enroll(InMemoryUnitOfWork(store), clock, ALICE, members.Enrollment())
    first = await actions.record_action(
        InMemoryUnitOfWork(store), clock, ALICE, actions.RecordAction("ig", "e1")
    )
    assert first.wallet.balance == 20
    with pytest.raises(ActionLimitReached):
        await actions.record_action(
            InMemoryUnitOfWork(store), clock, ALICE, actions.RecordAction("ig", "e2")
        )
    review = actions.NewAction(key="rev", kind=ActionKind.PRODUCT_REVIEW, name="R", points=5)
    await actions.create_earning_action(InMemoryUnitOfWork(store), clock, ADMIN, review)
    with pytest.raises(ActionNotAllowed):
        await actions.record_action(
            InMemoryUnitOfWork(store), clock, ALICE, actions.RecordAction("rev", "e3")
        )
    assert len(store.entries) == 1
