"""An in-memory unit of work: the ports of domain/ports.py over plain dicts, so use cases run
in milliseconds without HTTP or a database (tests/unit/test_use_cases.py).

`InMemoryStore` is the committed state; each `InMemoryUnitOfWork` works on a deep copy of
it and writes it back only on `commit`, so a use case that fails before committing leaves
nothing behind, as a rolled-back transaction does. Events recorded in the unit of work
reach `store.published` only on commit. There is no concurrency here: locks (`lock=True`,
`hold_attempts`) are no-ops, and concurrency stays with the database tests.

The fake covers what the enrollment, purchase, tier, reward, redemption, blocking and
idempotency use cases need. Ports or methods those use cases never call (paging, payments,
partner settlements, statistics) raise NotImplementedError, naming
themselves, so a test that strays there fails loudly instead of passing on a guess.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from domain.actions import ActionRecord, ActionTally, EarningAction
from domain.audit import AuditEvent
from domain.challenges import Badge, Challenge, EarnedBadge, Progress
from domain.earning import Campaign, EarnBreakdown
from domain.events import Event, posted
from domain.idempotency import IdempotencyRecord
from domain.model import (
    EntryKind,
    LedgerEntry,
    Lot,
    LotTake,
    Member,
    Posting,
    Program,
    Tier,
    Wallet,
)
from domain.ports import (
    ActionRepository,
    CampaignRepository,
    ChallengeRepository,
    IdempotencyRepository,
    InStoreRepository,
    LeaderboardRepository,
    LedgerRepository,
    MemberRepository,
    PartnerRepository,
    PaymentRepository,
    ProgramRepository,
    PurchaseRepository,
    ReferralRepository,
    RewardRepository,
    TierRepository,
    UnitOfWork,
)
from domain.purchases import PurchaseRecord
from domain.rewards import Partner, Redemption, RedemptionCounts, RedemptionStatus, Reward
from domain.times import Period

LIVE = (RedemptionStatus.ISSUED, RedemptionStatus.USED)


def _missing(what: str) -> NoReturn:
    raise NotImplementedError(f"{what} is not faked (tests/fakes.py); test it on a database")


class FixedClock:
    """A clock that stands still until moved."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


@dataclass
class InMemoryStore:
    """The committed state of every table the faked ports use."""

    programs: dict[uuid.UUID, Program] = field(default_factory=dict)
    tiers: dict[uuid.UUID, Tier] = field(default_factory=dict)
    members: dict[uuid.UUID, Member] = field(default_factory=dict)
    wallets: dict[uuid.UUID, Wallet] = field(default_factory=dict)
    entries: list[LedgerEntry] = field(default_factory=list)
    lots: dict[uuid.UUID, Lot] = field(default_factory=dict)
    keys: dict[tuple[uuid.UUID, str, str], IdempotencyRecord] = field(default_factory=dict)
    partners: dict[uuid.UUID, Partner] = field(default_factory=dict)
    rewards: dict[uuid.UUID, Reward] = field(default_factory=dict)
    redemptions: dict[uuid.UUID, Redemption] = field(default_factory=dict)
    redemption_takes: dict[uuid.UUID, list[LotTake]] = field(default_factory=dict)
    purchases: dict[tuple[uuid.UUID, str], PurchaseRecord] = field(default_factory=dict)
    campaigns: dict[uuid.UUID, Campaign] = field(default_factory=dict)
    challenges: dict[uuid.UUID, Challenge] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    windows: dict[tuple[uuid.UUID, str, uuid.UUID], datetime] = field(default_factory=dict)
    spent_steps: dict[uuid.UUID, tuple[int, int]] = field(default_factory=dict)
    actions: dict[uuid.UUID, EarningAction] = field(default_factory=dict)
    action_records: list[ActionRecord] = field(default_factory=list)
    published: list[Event] = field(default_factory=list)
    commits: int = 0


class _Repository:
    def __init__(self, state: InMemoryStore) -> None:
        self.state = state


class InMemoryProgramRepository(_Repository):
    async def get_by_slug(self, slug: str) -> Program | None:
        return next((p for p in self.state.programs.values() if p.slug == slug), None)

    async def add(self, program: Program) -> bool:
        if await self.get_by_slug(program.slug) is not None:
            return False
        self.state.programs[program.id] = replace(program)
        return True

    async def get_with_tiers(self, slug: str) -> tuple[Program, list[Tier]] | None:
        program = await self.get_by_slug(slug)
        return None if program is None else (program, self._tiers(program.id))

    async def get_with_tiers_by_id(
        self, program_id: uuid.UUID
    ) -> tuple[Program, list[Tier]] | None:
        program = self.state.programs.get(program_id)
        return None if program is None else (program, self._tiers(program.id))

    async def update(self, program: Program) -> None:
        self.state.programs[program.id] = replace(program)

    def _tiers(self, program_id: uuid.UUID) -> list[Tier]:
        found = [t for t in self.state.tiers.values() if t.program_id == program_id]
        return sorted(found, key=lambda t: t.rank)


class InMemoryTierRepository(_Repository):
    async def all(self, program_id: uuid.UUID) -> list[Tier]:
        found = [t for t in self.state.tiers.values() if t.program_id == program_id]
        return sorted(found, key=lambda t: t.rank)

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Tier]:
        return [t for t in await self.all(program_id) if t.id in set(ids)]

    async def add(self, tier: Tier) -> bool:
        others = await self.all(tier.program_id)
        if any(t.rank == tier.rank or t.name == tier.name for t in others):
            return False
        self.state.tiers[tier.id] = replace(tier)
        return True

    async def update(self, tier: Tier) -> None:
        self.state.tiers[tier.id] = replace(tier)

    async def remove(self, program_id: uuid.UUID, tier_id: uuid.UUID) -> None:
        tier = self.state.tiers.get(tier_id)
        if tier is not None and tier.program_id == program_id:
            del self.state.tiers[tier_id]

    async def set_rank(self, program_id: uuid.UUID, tier_id: uuid.UUID, rank: int) -> None:
        tier = self.state.tiers.get(tier_id)
        if tier is not None and tier.program_id == program_id:
            self.state.tiers[tier_id] = replace(tier, rank=rank)


class InMemoryMemberRepository(_Repository):
    def _of(self, program_id: uuid.UUID) -> list[Member]:
        return [m for m in self.state.members.values() if m.program_id == program_id]

    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        for member in self._of(program_id):
            if member.tier_id == from_tier_id:
                self.state.members[member.id] = replace(member, tier_id=to_tier_id)

    def _first(self, program_id: uuid.UUID, **match: object) -> Member | None:
        for member in self._of(program_id):
            if all(getattr(member, name) == value for name, value in match.items()):
                return replace(member)
        return None

    async def get(self, program_id: uuid.UUID, member_id: uuid.UUID) -> Member | None:
        return self._first(program_id, id=member_id)

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Member]:
        return [replace(m) for m in self._of(program_id) if m.id in set(ids)]

    async def get_by_subject(self, program_id: uuid.UUID, subject: str) -> Member | None:
        return self._first(program_id, subject=subject)

    async def get_with_wallet_by_subject(
        self, program_id: uuid.UUID, subject: str
    ) -> tuple[Member, Wallet] | None:
        member = self._first(program_id, subject=subject)
        return None if member is None else (member, replace(self.state.wallets[member.id]))

    async def get_by_referral_code(self, program_id: uuid.UUID, code: str) -> Member | None:
        return self._first(program_id, referral_code=code)

    async def get_by_card_number(self, program_id: uuid.UUID, number: str) -> Member | None:
        return self._first(program_id, card_number=number)

    async def get_by_phone(self, program_id: uuid.UUID, phone: str) -> Member | None:
        return self._first(program_id, phone=phone)  # dicts keep enrollment order

    async def set_blocked(self, program_id: uuid.UUID, member_id: uuid.UUID, blocked: bool) -> None:
        self.state.members[member_id].blocked = blocked

    async def set_paid_tier(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        tier_id: uuid.UUID,
        valid_until: datetime,
        paid_until: datetime,
    ) -> None:
        member = self.state.members[member_id]
        member.tier_id, member.tier_valid_until = tier_id, valid_until
        member.paid_tier_until = paid_until

    async def set_tier(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        tier_id: uuid.UUID,
        valid_until: datetime | None,
    ) -> None:
        member = self.state.members[member_id]
        member.tier_id, member.tier_valid_until = tier_id, valid_until

    async def add(self, member: Member, wallet: Wallet) -> bool:
        unique = ("subject", "card_number", "referral_code")
        clash = any(
            getattr(other, name) == getattr(member, name)
            for other in self._of(member.program_id)
            for name in unique
        )
        if clash:
            return False
        self.state.members[member.id] = replace(member)
        self.state.wallets[member.id] = replace(wallet)
        return True

    async def set_birthday_once(
        self, program_id: uuid.UUID, member_id: uuid.UUID, birthday: date, now: datetime
    ) -> bool:
        member = self.state.members.get(member_id)
        if member is None or member.program_id != program_id or member.birthday is not None:
            return False
        self.state.members[member_id] = replace(member, birthday=birthday, birthday_set_at=now)
        return True


class InMemoryLedgerRepository(_Repository):
    def __init__(self, state: InMemoryStore, record: Callable[[Event], None]) -> None:
        super().__init__(state)
        self._record = record

    async def wallet(
        self, program_id: uuid.UUID, member_id: uuid.UUID, *, lock: bool = False
    ) -> Wallet | None:
        wallet = self.state.wallets.get(member_id)
        return replace(wallet) if wallet is not None and wallet.program_id == program_id else None

    async def wallets(self, program_id: uuid.UUID, member_ids: Sequence[uuid.UUID]) -> list[Wallet]:
        found = [await self.wallet(program_id, member_id) for member_id in member_ids]
        return [w for w in found if w is not None]

    async def open_lots(self, program_id: uuid.UUID, member_id: uuid.UUID) -> list[Lot]:
        return [
            replace(lot)
            for lot in self.state.lots.values()
            if lot.program_id == program_id and lot.member_id == member_id and lot.remaining > 0
        ]

    async def post(self, posting: Posting, previous_version: int) -> None:
        entry, wallet = posting.entry, posting.wallet
        stored = self.state.wallets[wallet.member_id]
        if stored.version != previous_version:
            raise AssertionError(f"wallet {wallet.member_id} changed during the transaction")
        self.state.entries.append(entry)
        for lot in posting.new_lots:
            self.state.lots[lot.id] = replace(lot, entry_id=entry.id)
        for take in posting.takes:
            lot = self.state.lots[take.lot_id]
            if lot.remaining < take.points:
                raise AssertionError(f"lot {take.lot_id} changed during the transaction")
            lot.remaining -= take.points
        self.state.wallets[wallet.member_id] = replace(wallet)
        self._record(posted(posting))

    def _entries(self, program_id: uuid.UUID, member_id: uuid.UUID) -> list[LedgerEntry]:
        return [
            e for e in self.state.entries if e.program_id == program_id and e.member_id == member_id
        ]

    async def history(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        limit: int,
        before_version: int | None,
    ) -> list[LedgerEntry]:
        older = [
            e
            for e in self._entries(program_id, member_id)
            if before_version is None or e.version < before_version
        ]
        return sorted(older, key=lambda e: e.version, reverse=True)[:limit]

    async def expiring(
        self, program_id: uuid.UUID, member_id: uuid.UUID, now: datetime, limit: int
    ) -> list[tuple[datetime, int]]:
        due = [
            (lot.expires_at, lot.remaining)
            for lot in await self.open_lots(program_id, member_id)
            if lot.expires_at is not None and lot.expires_at > now
        ]
        return sorted(due)[:limit]

    async def qualifying_points(
        self,
        program_id: uuid.UUID,
        member_ids: Sequence[uuid.UUID],
        since: datetime,
        kinds: Collection[EntryKind],
    ) -> dict[uuid.UUID, int]:
        """As the SQL does: entries of `kinds` since `since`, less what is still held."""
        totals: dict[uuid.UUID, int] = {}
        for member_id in set(member_ids):
            earned = sum(
                e.points
                for e in self._entries(program_id, member_id)
                if e.kind in kinds and e.occurred_at >= since
            )
            held = sum(
                lot.remaining
                for lot in self.state.lots.values()
                if lot.program_id == program_id
                and lot.member_id == member_id
                and lot.held
                and lot.created_at >= since
            )
            if self._entries(program_id, member_id):
                totals[member_id] = max(0, earned - held)
        return totals

    async def lots_of_entries(
        self, program_id: uuid.UUID, entry_ids: Sequence[uuid.UUID]
    ) -> list[Lot]:
        return [
            replace(lot)
            for lot in self.state.lots.values()
            if lot.program_id == program_id and lot.entry_id in set(entry_ids)
        ]

    async def entries(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[LedgerEntry]:
        return [e for e in self.state.entries if e.program_id == program_id and e.id in set(ids)]


class InMemoryIdempotencyRepository(_Repository):
    async def claim(
        self, program_id: uuid.UUID, scope: str, key: str, fingerprint: str, now: datetime
    ) -> IdempotencyRecord | None:
        found = self.state.keys.get((program_id, scope, key))
        if found is not None:
            return found
        self.state.keys[(program_id, scope, key)] = IdempotencyRecord(scope, key, fingerprint, {})
        return None

    async def complete(
        self, program_id: uuid.UUID, scope: str, key: str, response: Mapping[str, Any]
    ) -> None:
        claimed = self.state.keys[(program_id, scope, key)]
        self.state.keys[(program_id, scope, key)] = replace(claimed, response=dict(response))

    async def release(self, program_id: uuid.UUID, scope: str, key: str) -> None:
        self.state.keys.pop((program_id, scope, key), None)


class InMemoryRewardRepository(_Repository):
    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        for reward in list(self.state.rewards.values()):
            if reward.program_id != program_id:
                continue
            moved = replace(
                reward,
                min_tier_id=to_tier_id
                if reward.min_tier_id == from_tier_id
                else reward.min_tier_id,
                early_access_tier_id=to_tier_id
                if reward.early_access_tier_id == from_tier_id
                else reward.early_access_tier_id,
            )
            self.state.rewards[reward.id] = moved

    async def add_partner(self, partner: Partner) -> bool:
        if await self.partner_by_slug(partner.program_id, partner.slug) is not None:
            return False
        self.state.partners[partner.id] = partner
        return True

    async def partners(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Partner]:
        return [
            p for p in self.state.partners.values() if p.program_id == program_id and p.id in ids
        ]

    async def partner_by_slug(self, program_id: uuid.UUID, slug: str) -> Partner | None:
        return next(
            (
                p
                for p in self.state.partners.values()
                if p.program_id == program_id and p.slug == slug
            ),
            None,
        )

    async def add(self, reward: Reward) -> None:
        self.state.rewards[reward.id] = replace(reward)

    async def update(self, reward: Reward) -> None:
        self.state.rewards[reward.id] = replace(reward)

    async def get(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> Reward | None:
        reward = self.state.rewards.get(reward_id)
        return replace(reward) if reward is not None and reward.program_id == program_id else None

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Reward]:
        found = [await self.get(program_id, reward_id) for reward_id in ids]
        return [r for r in found if r is not None]

    async def catalog(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[int, uuid.UUID] | None,
        partner_id: uuid.UUID | None,
        include_archived: bool,
        open_after: datetime | None,
    ) -> list[Reward]:
        _missing("RewardRepository.catalog")

    async def catalog_count(
        self,
        program_id: uuid.UUID,
        *,
        partner_id: uuid.UUID | None,
        include_archived: bool,
        open_after: datetime | None,
    ) -> int:
        _missing("RewardRepository.catalog_count")

    async def take_stock(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> bool:
        reward = self.state.rewards[reward_id]
        if reward.stock is None or reward.stock <= 0:
            return False
        reward.stock -= 1
        return True

    async def return_stock(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> None:
        reward = self.state.rewards[reward_id]
        if reward.stock is not None:
            reward.stock += 1

    async def counts(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        reward_ids: Sequence[uuid.UUID],
        period_starts: dict[uuid.UUID, datetime],
    ) -> dict[uuid.UUID, RedemptionCounts]:
        totals: dict[uuid.UUID, RedemptionCounts] = {}
        for r in self.state.redemptions.values():
            mine = r.program_id == program_id and r.member_id == member_id
            if not mine or r.reward_id not in reward_ids or r.status not in LIVE:
                continue
            counted = totals.get(r.reward_id, RedemptionCounts())
            in_period = r.created_at >= period_starts.get(r.reward_id, r.created_at)
            totals[r.reward_id] = RedemptionCounts(
                counted.total + 1, counted.in_period + int(in_period)
            )
        return totals

    async def add_redemption(self, redemption: Redemption, takes: Sequence[LotTake]) -> None:
        self.state.redemptions[redemption.id] = replace(redemption)
        self.state.redemption_takes[redemption.id] = list(takes)

    async def redemption(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID
    ) -> Redemption | None:
        found = self.state.redemptions.get(redemption_id)
        return replace(found) if found is not None and found.program_id == program_id else None

    async def redemptions(
        self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> list[Redemption]:
        found = [await self.redemption(program_id, redemption_id) for redemption_id in ids]
        return [r for r in found if r is not None]

    async def redemption_by_code(self, program_id: uuid.UUID, code: str) -> Redemption | None:
        return next(
            (
                replace(r)
                for r in self.state.redemptions.values()
                if r.program_id == program_id and r.voucher_code == code
            ),
            None,
        )

    async def mark_used(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID, now: datetime, actor: str
    ) -> bool:
        found = self.state.redemptions[redemption_id]
        if found.status_at(now) is not RedemptionStatus.ISSUED:
            return False
        found.status, found.used_at, found.used_by = RedemptionStatus.USED, now, actor
        return True

    async def mark_cancelled(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID, now: datetime
    ) -> bool:
        found = self.state.redemptions[redemption_id]
        if found.status is not RedemptionStatus.ISSUED:
            return False
        found.status, found.cancelled_at = RedemptionStatus.CANCELLED, now
        return True

    async def takes(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID
    ) -> list[tuple[int, datetime | None]]:
        return [
            (take.points, self.state.lots[take.lot_id].expires_at)
            for take in self.state.redemption_takes.get(redemption_id, [])
        ]

    async def member_redemptions(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        statuses: Sequence[RedemptionStatus] | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Redemption]:
        _missing("RewardRepository.member_redemptions")

    async def member_redemptions_count(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        statuses: Sequence[RedemptionStatus] | None,
    ) -> int:
        _missing("RewardRepository.member_redemptions_count")

    async def donated_points(
        self, program_id: uuid.UUID, reward_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        _missing("RewardRepository.donated_points")


class InMemoryInStoreRepository(_Repository):
    async def accept_step(
        self, program_id: uuid.UUID, member_id: uuid.UUID, generation: int, step: int
    ) -> bool:
        if self.state.members[member_id].card_generation != generation:
            return False  # the secret was replaced meanwhile
        spent_generation, spent_step = self.state.spent_steps.get(member_id, (generation, -1))
        if spent_generation == generation and step <= spent_step:
            return False
        self.state.spent_steps[member_id] = (generation, step)
        return True

    async def next_card_generation(self, program_id: uuid.UUID, member_id: uuid.UUID) -> int:
        member = self.state.members[member_id]
        member.card_generation += 1
        return member.card_generation

    async def open_window(
        self,
        program_id: uuid.UUID,
        store: str,
        member_id: uuid.UUID,
        opened_by: str,
        expires_at: datetime,
    ) -> None:
        self.state.windows[(program_id, store, member_id)] = expires_at

    async def window_expires(
        self, program_id: uuid.UUID, store: str, member_id: uuid.UUID
    ) -> datetime | None:
        return self.state.windows.get((program_id, store, member_id))

    async def add_audit(self, event: AuditEvent) -> None:
        self.state.audit.append(event)

    async def hold_attempts(self, program_id: uuid.UUID, actor: str, action: str) -> None:
        """Nothing to hold: one unit of work runs at a time here."""

    async def failures_since(
        self, program_id: uuid.UUID, actor: str, action: str, since: datetime
    ) -> int:
        return sum(
            1
            for e in self.state.audit
            if e.program_id == program_id
            and e.actor == actor
            and e.action == action
            and e.outcome != "OK"
            and e.occurred_at >= since
        )

    async def audit_page(
        self,
        program_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[AuditEvent]:
        _missing("InStoreRepository.audit_page")


class InMemoryPurchaseRepository(_Repository):
    async def add(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        order_id: str,
        amount_minor: int,
        currency: str,
        points: int,
        entry_ids: list[uuid.UUID],
        occurred_at: datetime,
        earning: EarnBreakdown | None = None,
    ) -> None:
        self.state.purchases[(program_id, order_id)] = PurchaseRecord(
            id=uuid.uuid4(),
            member_id=member_id,
            order_id=order_id,
            amount_minor=amount_minor,
            currency=currency,
            points=points,
            refunded_minor=0,
            reversed_points=0,
            entry_ids=tuple(entry_ids),
            earning=earning,
            refunded_quantities=tuple(0 for _ in earning.lines) if earning else (),
        )

    async def get(self, program_id: uuid.UUID, order_id: str) -> PurchaseRecord | None:
        return self.state.purchases.get((program_id, order_id))

    async def add_refund(
        self,
        program_id: uuid.UUID,
        purchase_id: uuid.UUID,
        refunded_minor: int,
        points: int,
        refunded_quantities: tuple[int, ...] | None = None,
    ) -> None:
        _missing("PurchaseRepository.add_refund")

    async def campaigns(self, program_id: uuid.UUID, at: datetime) -> list[Campaign]:
        return [
            c
            for c in self.state.campaigns.values()
            if c.program_id == program_id and c.starts_at <= at < c.ends_at
        ]


class InMemoryCampaignRepository(_Repository):
    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        for campaign in list(self.state.campaigns.values()):
            if campaign.program_id == program_id and campaign.min_tier_id == from_tier_id:
                self.state.campaigns[campaign.id] = replace(campaign, min_tier_id=to_tier_id)

    async def add(self, campaign: Campaign) -> None:
        self.state.campaigns[campaign.id] = campaign

    async def get(
        self, program_id: uuid.UUID, campaign_id: uuid.UUID, *, lock: bool = False
    ) -> Campaign | None:
        found = self.state.campaigns.get(campaign_id)
        return found if found is not None and found.program_id == program_id else None

    async def update(self, campaign: Campaign) -> None:
        self.state.campaigns[campaign.id] = campaign

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        active: bool | None,
        now: datetime,
    ) -> list[Campaign]:
        _missing("CampaignRepository.page")

    async def count(self, program_id: uuid.UUID, *, active: bool | None, now: datetime) -> int:
        _missing("CampaignRepository.count")


class InMemoryChallengeRepository(_Repository):
    """Definitions only: purchases look for open challenges; progress is tested on a
    database (tests/api/test_challenges.py)."""

    async def add(self, challenge: Challenge) -> None:
        self.state.challenges[challenge.id] = challenge

    async def update(self, challenge: Challenge) -> None:
        self.state.challenges[challenge.id] = challenge

    async def get(
        self, program_id: uuid.UUID, challenge_id: uuid.UUID, *, lock: bool = False
    ) -> Challenge | None:
        found = self.state.challenges.get(challenge_id)
        return found if found is not None and found.program_id == program_id else None

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        archived: bool | None,
    ) -> list[Challenge]:
        _missing("ChallengeRepository.page")

    async def open_at(self, program_id: uuid.UUID, at: datetime) -> list[Challenge]:
        return [
            c
            for c in self.state.challenges.values()
            if c.program_id == program_id
            and c.archived_at is None
            and c.starts_at <= at
            and (c.ends_at is None or at < c.ends_at)
        ]

    async def advance(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        steps: Sequence[tuple[uuid.UUID, str, int]],
        now: datetime,
    ) -> list[Progress]:
        _missing("ChallengeRepository.advance")

    async def complete(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        challenge_id: uuid.UUID,
        period_key: str,
        target: int,
        now: datetime,
    ) -> bool:
        _missing("ChallengeRepository.complete")

    async def progress_of(
        self, program_id: uuid.UUID, member_id: uuid.UUID, keys: Sequence[tuple[uuid.UUID, str]]
    ) -> list[Progress]:
        _missing("ChallengeRepository.progress_of")

    async def add_badge(self, badge: Badge) -> None:
        _missing("ChallengeRepository.add_badge")

    async def update_badge(self, badge: Badge) -> None:
        _missing("ChallengeRepository.update_badge")

    async def badges(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Badge]:
        _missing("ChallengeRepository.badges")

    async def all_badges(self, program_id: uuid.UUID, limit: int) -> list[Badge]:
        _missing("ChallengeRepository.all_badges")

    async def award_badge(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        badge_id: uuid.UUID,
        challenge_id: uuid.UUID | None,
        now: datetime,
    ) -> bool:
        _missing("ChallengeRepository.award_badge")

    async def member_badges(
        self, program_id: uuid.UUID, member_id: uuid.UUID, limit: int
    ) -> list[EarnedBadge]:
        _missing("ChallengeRepository.member_badges")


class InMemoryActionRepository(_Repository):
    """Earning actions and their records, as persistence/repositories/actions.py keeps them."""

    def _of(self, program_id: uuid.UUID) -> list[EarningAction]:
        found = [a for a in self.state.actions.values() if a.program_id == program_id]
        return sorted(found, key=lambda a: (a.created_at, a.id))

    async def add(self, action: EarningAction) -> bool:
        taken = any(
            a.key == action.key or (action.slot is not None and a.slot == action.slot)
            for a in self._of(action.program_id)
        )
        if not taken:
            self.state.actions[action.id] = action
        return not taken

    async def update(self, action: EarningAction) -> bool:
        if action.slot is not None and any(
            a.slot == action.slot and a.id != action.id for a in self._of(action.program_id)
        ):
            return False
        self.state.actions[action.id] = action
        return True

    async def get(
        self, program_id: uuid.UUID, action_id: uuid.UUID, *, lock: bool = False
    ) -> EarningAction | None:
        return next((a for a in self._of(program_id) if a.id == action_id), None)

    async def by_key(self, program_id: uuid.UUID, key: str) -> EarningAction | None:
        return next((a for a in self._of(program_id) if a.key == key), None)

    async def by_slot(self, program_id: uuid.UUID, slot: str) -> EarningAction | None:
        return next((a for a in self._of(program_id) if a.slot == slot), None)

    async def live(self, program_id: uuid.UUID, now: datetime) -> list[EarningAction]:
        return [a for a in self._of(program_id) if a.active_at(now)]

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        archived: bool,
    ) -> list[EarningAction]:
        listed = [a for a in self._of(program_id) if archived or a.archived_at is None]
        if after is not None:
            listed = [a for a in listed if (a.created_at, a.id) > after]
        return listed[:limit]

    async def count(self, program_id: uuid.UUID, *, archived: bool) -> int:
        return len([a for a in self._of(program_id) if archived or a.archived_at is None])

    async def tallies(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        action_ids: Sequence[uuid.UUID],
        windows: Mapping[Period, tuple[datetime, datetime]],
    ) -> dict[uuid.UUID, ActionTally]:
        found: dict[uuid.UUID, ActionTally] = {}
        for action_id in action_ids:
            records = [
                r
                for r in self.state.action_records
                if r.program_id == program_id
                and r.member_id == member_id
                and r.action_id == action_id
            ]
            if records:
                by_period = tuple(
                    (period, sum(1 for r in records if start <= r.occurred_at < end))
                    for period, (start, end) in windows.items()
                )
                found[action_id] = ActionTally(lifetime=len(records), by_period=by_period)
        return found

    async def add_record(self, record: ActionRecord) -> bool:
        if record.grant_key is not None and any(
            (r.program_id, r.member_id, r.action_id, r.grant_key)
            == (record.program_id, record.member_id, record.action_id, record.grant_key)
            for r in self.state.action_records
        ):
            return False
        self.state.action_records.append(record)
        return True

    async def record(self, program_id: uuid.UUID, record_id: uuid.UUID) -> ActionRecord | None:
        return next(
            (
                r
                for r in self.state.action_records
                if r.program_id == program_id and r.id == record_id
            ),
            None,
        )


class _NotFaked:
    """A port no faked use case calls (payments, partner settlements): every method raises."""

    def __init__(self, port: str) -> None:
        self._port = port

    def __getattr__(self, name: str) -> NoReturn:
        _missing(f"{self._port}.{name}")


class InMemoryUnitOfWork:
    """One transaction over a copy of the store: `commit` writes it back and publishes the
    recorded events; leaving without committing forgets both."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._begin()

    def _begin(self) -> None:
        self.state = copy.deepcopy(self._store)
        self.state.published = []
        self.events: list[Event] = []
        self.programs: ProgramRepository = InMemoryProgramRepository(self.state)
        self.tiers: TierRepository = InMemoryTierRepository(self.state)
        self.members: MemberRepository = InMemoryMemberRepository(self.state)
        self.ledger: LedgerRepository = InMemoryLedgerRepository(self.state, self.record)
        self.idempotency: IdempotencyRepository = InMemoryIdempotencyRepository(self.state)
        self.rewards: RewardRepository = InMemoryRewardRepository(self.state)
        self.instore: InStoreRepository = InMemoryInStoreRepository(self.state)
        self.purchases: PurchaseRepository = InMemoryPurchaseRepository(self.state)
        self.campaigns: CampaignRepository = InMemoryCampaignRepository(self.state)
        self.payments: PaymentRepository = _NotFaked("PaymentRepository")  # raises on use
        self.partners: PartnerRepository = _NotFaked("PartnerRepository")  # raises on use
        self.leaderboard: LeaderboardRepository = _NotFaked("LeaderboardRepository")
        self.challenges: ChallengeRepository = InMemoryChallengeRepository(self.state)
        self.actions: ActionRepository = InMemoryActionRepository(self.state)
        # Enrolling without a code and buying without a fingerprint never reach it.
        self.referrals: ReferralRepository = _NotFaked("ReferralRepository")

    def record(self, event: Event) -> None:
        self.events.append(event)

    async def commit(self) -> None:
        published = [*self._store.published, *self.events]
        for name in vars(self._store):
            setattr(self._store, name, getattr(self.state, name))
        self._store.published = published
        self._store.commits += 1
        self._begin()  # later writes of this unit of work start from what was committed

    async def __aenter__(self) -> InMemoryUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._begin()  # roll back whatever was not committed


def _implements_the_port(uow: InMemoryUnitOfWork) -> UnitOfWork:
    """mypy checks here that the fake offers every repository the UnitOfWork port names."""
    return uow
