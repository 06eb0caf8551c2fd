"""The in-process event bus: mailboxes deliver in order, overflow and expiry close them."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domain.events import WalletChanged, wallet_topic
from persistence.events import SUBSCRIBER_QUEUE, EventBus, decode, encode

MEMBER = uuid.uuid4()
PROGRAM = uuid.uuid4()


def changed(version: int, member: uuid.UUID = MEMBER) -> WalletChanged:
    return WalletChanged(
        program_id=PROGRAM,
        member_id=member,
        version=version,
        delta=10,
        balance=10 * version,
        pending=0,
        entry_id=uuid.uuid4(),
    )


@pytest.mark.asyncio
async def test_events_arrive_in_order_and_only_on_their_topic() -> None:
    bus = EventBus()
    other = uuid.uuid4()
    async with (
        bus.subscribe(wallet_topic(MEMBER)) as mine,
        bus.subscribe(wallet_topic(other)) as theirs,
    ):
        assert bus.subscriber_count == 2
        waiting = asyncio.create_task(mine.get())
        await asyncio.sleep(0)
        bus.deliver([changed(1), changed(2), changed(1, other)])
        assert (await waiting).version == 1  # type: ignore[union-attr]
        assert (await mine.get()).version == 2  # type: ignore[union-attr]
        assert len(mine) == 0
        assert (await theirs.get()).member_id == other  # type: ignore[union-attr]
    assert bus.subscriber_count == 0


@pytest.mark.asyncio
async def test_a_subscriber_that_falls_too_far_behind_is_closed() -> None:
    bus = EventBus()
    async with bus.subscribe(wallet_topic(MEMBER)) as mailbox:
        bus.deliver([changed(v) for v in range(1, SUBSCRIBER_QUEUE + 2)])
        assert await mailbox.get() is None
        bus.deliver([changed(SUBSCRIBER_QUEUE + 2)])
        assert await mailbox.get() is None


@pytest.mark.asyncio
async def test_stop_ends_a_waiting_subscriber() -> None:
    bus = EventBus()
    async with bus.subscribe(wallet_topic(MEMBER)) as mailbox:
        waiting = asyncio.create_task(mailbox.get())
        await asyncio.sleep(0)
        await bus.stop()
        assert await asyncio.wait_for(waiting, timeout=2) is None


def test_notify_payloads_round_trip_and_stay_under_the_limit() -> None:
    events = [changed(v) for v in range(1, 200)]
    payloads = encode(events)
    assert len(payloads) > 1
    assert all(len(p) <= 7000 for p in payloads)
    assert [e for p in payloads for e in decode(p)] == events


def test_tier_changes_travel_through_notify_payloads_on_their_own_topic() -> None:
    from datetime import UTC, datetime

    from domain.events import TierChanged, TierChangeReason, tier_topic, topics
    from persistence.events import decode, encode

    event = TierChanged(
        uuid.uuid4(),
        MEMBER,
        uuid.uuid4(),
        uuid.uuid4(),
        TierChangeReason.UPGRADE,
        datetime(2026, 5, 1, 12, tzinfo=UTC),
    )
    wallet = changed(1)
    [payload] = encode([event, wallet])
    assert decode(payload) == [event, wallet]
    assert topics(event) == [tier_topic(MEMBER)]
