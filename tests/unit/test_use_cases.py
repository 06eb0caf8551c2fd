"""Use cases through the in-memory unit of work (tests/fakes.py): no HTTP, no database.

The API tests keep checking the GraphQL side; these check the rules of enrolling, earning,
tiers, redeeming, idempotency and blocking in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from domain.errors import IdempotencyConflict, InsufficientPoints, MemberBlocked
from domain.events import RedemptionChanged, TierChanged, WalletChanged
from domain.model import EntryKind, Member, Principal, Program, Role, Tier
from domain.rewards import RedemptionStatus, Reward, RewardKind
from domain.services import catalog, members, programs, purchases, redemptions
from tests.fakes import FixedClock, InMemoryStore, InMemoryUnitOfWork

SLUG = "coffee"
ADMIN = Principal(Role.ADMIN, SLUG, "admin-1")
ALICE = Principal(Role.MEMBER, SLUG, "alice")


@dataclass
class World:
    store: InMemoryStore
    clock: FixedClock
    program: Program
    gold: Tier

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)


async def _world() -> World:
    """A program earning 10 points per 100 cents, with Gold (2x) from 100 qualifying points."""
    store = InMemoryStore()
    clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    program = await programs.create_program(
        InMemoryUnitOfWork(store), clock, slug=SLUG, name="Coffee Club", currency="EUR"
    )
    gold = await programs.create_tier(
        InMemoryUnitOfWork(store),
        clock,
        ADMIN,
        programs.NewTier(name="Gold", threshold=100, earn_multiplier=2.0),
    )
    return World(store, clock, program, gold)


async def _enroll(world: World, who: Principal = ALICE) -> Member:
    return await members.enroll(
        world.uow(), world.clock, who, members.Enrollment(display_name=who.subject.title())
    )


async def _buy(
    world: World, member: Member, order_id: str, amount_minor: int
) -> purchases.PurchaseResult:
    command = purchases.RecordPurchase(
        member_id=member.id, order_id=order_id, amount_minor=amount_minor, currency="EUR"
    )
    return await purchases.record_purchase(world.uow(), world.clock, ADMIN, command)


async def _reward(world: World, points_cost: int) -> Reward:
    fields = catalog.RewardFields(name="Free coffee", points_cost=points_cost, value_minor=300)
    return await catalog.create_reward(
        world.uow(), world.clock, ADMIN, RewardKind.FIXED_DISCOUNT, fields
    )


@pytest.mark.asyncio
async def test_enrolling_starts_in_the_entry_tier_with_an_empty_wallet() -> None:
    # given a program
    world = await _world()
    # when Alice enrolls
    member = await _enroll(world)
    # then she is in the entry tier with an empty wallet, and a retry answers the same member
    entry_tier = min(world.store.tiers.values(), key=lambda t: t.rank)
    assert member.tier_id == entry_tier.id
    assert world.store.wallets[member.id].balance == 0
    assert (await _enroll(world)).id == member.id
    assert len(world.store.members) == 1


@pytest.mark.asyncio
async def test_a_purchase_earns_at_the_rate_times_the_tier_multiplier() -> None:
    # given Alice in Gold (2x)
    world = await _world()
    member = await _enroll(world)
    uow = world.uow()
    await uow.members.set_tier(world.program.id, member.id, world.gold.id, None)
    await uow.commit()
    # when she spends 12.50
    result = await _buy(world, member, "A-1", 1250)
    # then 125 points at 10 per 100 cents, doubled
    assert result.points_earned == 250
    assert result.wallet.balance == 250
    (entry,) = world.store.entries
    assert (entry.kind, entry.points, entry.reference) == (EntryKind.EARN, 250, "order:A-1")
    assert [e.balance for e in world.store.published if isinstance(e, WalletChanged)] == [250]


@pytest.mark.asyncio
async def test_crossing_the_threshold_upgrades_at_once_and_the_next_purchase_earns_more() -> None:
    # given Alice in the entry tier with 90 qualifying points
    world = await _world()
    member = await _enroll(world)
    await _buy(world, member, "A-1", 900)
    assert world.store.members[member.id].tier_id != world.gold.id
    # when a purchase takes her to 100
    await _buy(world, member, "A-2", 100)
    # then she is Gold now, kept until the end of next year, and earns double from here
    upgraded = world.store.members[member.id]
    assert upgraded.tier_id == world.gold.id
    assert upgraded.tier_valid_until is not None
    assert upgraded.tier_valid_until > world.clock.now()
    assert (await _buy(world, member, "A-3", 1000)).points_earned == 200
    changes = [e for e in world.store.published if isinstance(e, TierChanged)]
    assert [(e.member_id, e.tier_id) for e in changes] == [(member.id, world.gold.id)]


@pytest.mark.asyncio
async def test_redeeming_debits_the_points_and_issues_a_voucher() -> None:
    # given Alice with 100 points and a reward of 60
    world = await _world()
    member = await _enroll(world)
    await _buy(world, member, "A-1", 1000)
    reward = await _reward(world, 60)
    # when she redeems it
    result = await redemptions.redeem(
        world.uow(), world.clock, ALICE, redemptions.Redeem(reward.id, "redeem-1")
    )
    # then 40 points are left and an issued voucher stands for the 60 spent
    assert result.wallet.balance == 40
    assert world.store.wallets[member.id].balance == 40
    redemption = world.store.redemptions[result.redemption.id]
    assert redemption.status is RedemptionStatus.ISSUED
    assert (redemption.points_spent, redemption.member_id) == (60, member.id)
    assert redemption.voucher_code
    assert any(isinstance(e, RedemptionChanged) for e in world.store.published)


@pytest.mark.asyncio
async def test_redeeming_more_than_the_balance_writes_nothing() -> None:
    # given Alice with 30 points and a reward of 60
    world = await _world()
    member = await _enroll(world)
    await _buy(world, member, "A-1", 300)
    reward = await _reward(world, 60)
    commits = world.store.commits
    # when she tries to redeem it
    with pytest.raises(InsufficientPoints):
        await redemptions.redeem(
            world.uow(), world.clock, ALICE, redemptions.Redeem(reward.id, "redeem-1")
        )
    # then nothing was committed: balance, redemptions and the key are as they were
    assert world.store.commits == commits
    assert world.store.wallets[member.id].balance == 30
    assert world.store.redemptions == {}
    assert not any(scope.startswith("redeem:") for _, scope, _ in world.store.keys)


@pytest.mark.asyncio
async def test_a_replayed_key_answers_the_first_result_without_a_second_effect() -> None:
    # given a purchase and a redemption made once
    world = await _world()
    member = await _enroll(world)
    first_purchase = await _buy(world, member, "A-1", 1000)
    reward = await _reward(world, 60)
    redeem = redemptions.Redeem(reward.id, "redeem-1")
    first = await redemptions.redeem(world.uow(), world.clock, ALICE, redeem)
    entries = len(world.store.entries)
    # when both are sent again with the same order id and key
    again_purchase = await _buy(world, member, "A-1", 1000)
    again = await redemptions.redeem(world.uow(), world.clock, ALICE, redeem)
    # then the answers are the first ones and nothing more was posted
    assert again_purchase.points_earned == first_purchase.points_earned == 100
    assert again.redemption.id == first.redemption.id
    assert again.wallet.balance == 40
    assert len(world.store.entries) == entries
    assert len(world.store.redemptions) == 1


@pytest.mark.asyncio
async def test_the_same_order_id_with_another_amount_is_a_conflict() -> None:
    # given order A-1 credited
    world = await _world()
    member = await _enroll(world)
    await _buy(world, member, "A-1", 1000)
    # when A-1 comes again for another amount
    with pytest.raises(IdempotencyConflict) as raised:
        await _buy(world, member, "A-1", 2000)
    # then it is refused on the order id and the wallet keeps the first credit only
    assert raised.value.field == ("input", "orderId")
    assert world.store.wallets[member.id].balance == 100


@pytest.mark.asyncio
async def test_a_blocked_member_neither_earns_nor_redeems() -> None:
    # given Alice with 100 points, then blocked by an admin
    world = await _world()
    member = await _enroll(world)
    await _buy(world, member, "A-1", 1000)
    reward = await _reward(world, 60)
    await members.set_blocked(world.uow(), world.clock, ADMIN, member.id, True, "card fraud")
    entries, commits = len(world.store.entries), world.store.commits
    # when a purchase is recorded for her and she tries to redeem
    with pytest.raises(MemberBlocked):
        await _buy(world, member, "A-2", 1000)
    with pytest.raises(MemberBlocked):
        await redemptions.redeem(
            world.uow(), world.clock, ALICE, redemptions.Redeem(reward.id, "redeem-1")
        )
    # then both are refused and nothing was written, not even the keys
    assert world.store.commits == commits
    assert len(world.store.entries) == entries
    assert world.store.wallets[member.id].balance == 100
    assert (world.program.id, "purchase", "A-2") not in world.store.keys
    assert [e.action for e in world.store.audit if e.member_id == member.id] == ["block"]


@pytest.mark.asyncio
async def test_retiring_a_tier_moves_its_members_and_its_rewards_to_the_tier_below() -> None:
    # given Alice in Gold and a reward for Gold members
    world = await _world()
    member = await _enroll(world)
    await _buy(world, member, "o-1", 1000)
    fields = catalog.RewardFields(
        name="Gold mug", points_cost=10, value_minor=300, min_tier_id=world.gold.id
    )
    reward = await catalog.create_reward(
        world.uow(), world.clock, ADMIN, RewardKind.FIXED_DISCOUNT, fields
    )
    # when the admin retires Gold
    left = await programs.retire_tier(world.uow(), ADMIN, world.gold.id)
    # then only the entry tier is left, and it holds Alice and names the reward
    assert [tier.name for tier in left] == ["Member"]
    entry = left[0]
    assert world.store.members[member.id].tier_id == entry.id
    assert world.store.rewards[reward.id].min_tier_id == entry.id
