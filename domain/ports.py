"""What the use cases need from the outside world, as protocols. persistence/ implements them."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from domain.actions import ActionRecord, ActionTally, EarningAction
from domain.audit import AuditEvent
from domain.challenges import Badge, Challenge, EarnedBadge, Progress
from domain.earning import Campaign, EarnBreakdown
from domain.events import Event
from domain.idempotency import IdempotencyRecord
from domain.leaderboard import LeaderboardSettings, Standing
from domain.ledger import Release
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
from domain.partners import (
    PartnerRedemptionRow,
    PartnerTerms,
    RewardStats,
    SettlementEntry,
    Statement,
)
from domain.payments import PaymentTake, PointsPayment
from domain.purchases import PurchaseRecord
from domain.referrals import Referral, ReferralSettings, ReferralStatus, SignalKind
from domain.rewards import Partner, Redemption, RedemptionCounts, RedemptionStatus, Reward
from domain.times import Period


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class ProgramRepository(Protocol):
    async def get_by_slug(self, slug: str) -> Program | None: ...

    async def add(self, program: Program) -> bool:
        """Insert; False when the slug is taken."""
        ...

    async def get_with_tiers(self, slug: str) -> tuple[Program, list[Tier]] | None:
        """The program and its tiers, lowest rank first (one round trip)."""
        ...

    async def get_with_tiers_by_id(
        self, program_id: uuid.UUID
    ) -> tuple[Program, list[Tier]] | None: ...

    async def update(self, program: Program) -> None: ...


class TierRepository(Protocol):
    async def all(self, program_id: uuid.UUID) -> list[Tier]:
        """All tiers of the program, lowest rank first."""
        ...

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Tier]: ...

    async def add(self, tier: Tier) -> bool:
        """Insert; False when the rank or name is taken."""
        ...

    async def update(self, tier: Tier) -> None: ...

    async def remove(self, program_id: uuid.UUID, tier_id: uuid.UUID) -> None:
        """Delete the tier (nothing may name it any more)."""
        ...

    async def set_rank(self, program_id: uuid.UUID, tier_id: uuid.UUID, rank: int) -> None: ...


class MemberRepository(Protocol):
    async def get(self, program_id: uuid.UUID, member_id: uuid.UUID) -> Member | None: ...

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Member]: ...

    async def get_by_subject(self, program_id: uuid.UUID, subject: str) -> Member | None: ...

    async def get_with_wallet_by_subject(
        self, program_id: uuid.UUID, subject: str
    ) -> tuple[Member, Wallet] | None:
        """The member and their wallet (one round trip)."""
        ...

    async def get_by_referral_code(self, program_id: uuid.UUID, code: str) -> Member | None: ...

    async def get_by_card_number(self, program_id: uuid.UUID, number: str) -> Member | None: ...

    async def set_blocked(
        self, program_id: uuid.UUID, member_id: uuid.UUID, blocked: bool
    ) -> None: ...

    async def set_paid_tier(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        tier_id: uuid.UUID,
        valid_until: datetime,
        paid_until: datetime,
    ) -> None: ...

    async def set_tier(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        tier_id: uuid.UUID,
        valid_until: datetime | None,
    ) -> None: ...

    async def get_by_phone(self, program_id: uuid.UUID, phone: str) -> Member | None:
        """The member who claimed this phone first (earliest enrollment) of those who did."""
        ...

    async def add(self, member: Member, wallet: Wallet) -> bool:
        """Insert the member and their empty wallet; False on any uniqueness clash."""
        ...

    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        """Every member of the one tier into the other (validity dates unchanged)."""
        ...

    async def set_birthday_once(
        self, program_id: uuid.UUID, member_id: uuid.UUID, birthday: date, now: datetime
    ) -> bool:
        """Set the member's birthday (given `now`) when none is on record; False when one
        is."""
        ...


class LedgerRepository(Protocol):
    async def wallet(
        self, program_id: uuid.UUID, member_id: uuid.UUID, *, lock: bool = False
    ) -> Wallet | None:
        """The wallet; with `lock`, held against concurrent writers until commit."""
        ...

    async def wallets(
        self, program_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
    ) -> list[Wallet]: ...

    async def open_lots(self, program_id: uuid.UUID, member_id: uuid.UUID) -> list[Lot]:
        """Lots with points remaining, any availability or expiry."""
        ...

    async def post(self, posting: Posting, previous_version: int) -> None:
        """Write the entry, lot changes and wallet; fails if the version moved meanwhile."""
        ...

    async def history(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        limit: int,
        before_version: int | None,
    ) -> list[LedgerEntry]:
        """Entries newest first, strictly older than `before_version` when given."""
        ...

    async def expiring(
        self, program_id: uuid.UUID, member_id: uuid.UUID, now: datetime, limit: int
    ) -> list[tuple[datetime, int]]:
        """(expires_at, points) of lots still to expire, soonest first."""
        ...

    async def qualifying_points(
        self,
        program_id: uuid.UUID,
        member_ids: Sequence[uuid.UUID],
        since: datetime,
        kinds: Collection[EntryKind],
    ) -> dict[uuid.UUID, int]:
        """Sum of the entries of `kinds` since `since`, per member (never below 0)."""
        ...

    async def lots_of_entries(
        self, program_id: uuid.UUID, entry_ids: Sequence[uuid.UUID]
    ) -> list[Lot]:
        """The lots the given credit entries created."""
        ...

    async def entries(
        self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> list[LedgerEntry]: ...


class IdempotencyRepository(Protocol):
    async def claim(
        self, program_id: uuid.UUID, scope: str, key: str, fingerprint: str, now: datetime
    ) -> IdempotencyRecord | None:
        """Take the key for this transaction; the existing record if it was used before.

        Concurrent claims of one key wait for each other, so exactly one proceeds.
        """
        ...

    async def complete(
        self, program_id: uuid.UUID, scope: str, key: str, response: Mapping[str, Any]
    ) -> None:
        """Store the answer to replay for the key (same transaction as the effect)."""
        ...

    async def release(self, program_id: uuid.UUID, scope: str, key: str) -> None:
        """Give back a key this transaction claimed, when the request failed after claiming
        it but the transaction still commits (to record the failure)."""
        ...


class RewardRepository(Protocol):
    async def add_partner(self, partner: Partner) -> bool:
        """Insert; False when the slug is taken in the program."""
        ...

    async def partners(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Partner]: ...

    async def partner_by_slug(self, program_id: uuid.UUID, slug: str) -> Partner | None: ...

    async def add(self, reward: Reward) -> None: ...

    async def update(self, reward: Reward) -> None: ...

    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        """Rewards whose minimum or early-access tier is the one name the other instead."""
        ...

    async def get(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> Reward | None: ...

    async def get_many(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Reward]: ...

    async def catalog(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[int, uuid.UUID] | None,
        partner_id: uuid.UUID | None,
        include_archived: bool,
        open_after: datetime | None,
    ) -> list[Reward]: ...

    async def catalog_count(
        self,
        program_id: uuid.UUID,
        *,
        partner_id: uuid.UUID | None,
        include_archived: bool,
        open_after: datetime | None,
    ) -> int:
        """How many rewards `catalog` would list over all its pages."""
        ...

    async def take_stock(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> bool:
        """Take one unit of a limited reward; False when none is left."""
        ...

    async def return_stock(self, program_id: uuid.UUID, reward_id: uuid.UUID) -> None: ...

    async def counts(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        reward_ids: Sequence[uuid.UUID],
        period_starts: dict[uuid.UUID, datetime],
    ) -> dict[uuid.UUID, RedemptionCounts]: ...

    async def add_redemption(self, redemption: Redemption, takes: Sequence[LotTake]) -> None: ...

    async def redemption(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID
    ) -> Redemption | None: ...

    async def redemptions(
        self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> list[Redemption]: ...

    async def redemption_by_code(self, program_id: uuid.UUID, code: str) -> Redemption | None: ...

    async def mark_used(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID, now: datetime, actor: str
    ) -> bool:
        """ISSUED and unexpired -> USED; False if it was not (any more)."""
        ...

    async def mark_cancelled(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID, now: datetime
    ) -> bool:
        """ISSUED -> CANCELLED; False if it was not (any more)."""
        ...

    async def takes(
        self, program_id: uuid.UUID, redemption_id: uuid.UUID
    ) -> list[tuple[int, datetime | None]]:
        """(points, original expiry) of the lots a redemption drew on."""
        ...

    async def member_redemptions(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        statuses: Sequence[RedemptionStatus] | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Redemption]: ...

    async def member_redemptions_count(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        *,
        statuses: Sequence[RedemptionStatus] | None,
    ) -> int:
        """How many redemptions `member_redemptions` would list over all its pages."""
        ...

    async def donated_points(
        self, program_id: uuid.UUID, reward_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]: ...


class InStoreRepository(Protocol):
    async def accept_step(
        self, program_id: uuid.UUID, member_id: uuid.UUID, generation: int, step: int
    ) -> bool:
        """Mark the codes up to `step` of the card's secret `generation` spent; False if
        `step` was spent already or that secret has been replaced meanwhile."""
        ...

    async def next_card_generation(self, program_id: uuid.UUID, member_id: uuid.UUID) -> int:
        """Replace the card secret (a new generation, with no code of it spent yet)."""
        ...

    async def open_window(
        self,
        program_id: uuid.UUID,
        store: str,
        member_id: uuid.UUID,
        opened_by: str,
        expires_at: datetime,
    ) -> None: ...

    async def window_expires(
        self, program_id: uuid.UUID, store: str, member_id: uuid.UUID
    ) -> datetime | None: ...

    async def add_audit(self, event: AuditEvent) -> None: ...

    async def hold_attempts(self, program_id: uuid.UUID, actor: str, action: str) -> None:
        """Serialise one actor's attempts of `action` until the transaction ends."""
        ...

    async def failures_since(
        self, program_id: uuid.UUID, actor: str, action: str, since: datetime
    ) -> int: ...

    async def audit_page(
        self,
        program_id: uuid.UUID,
        *,
        member_id: uuid.UUID | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[AuditEvent]: ...


class PurchaseRepository(Protocol):
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
    ) -> None: ...

    async def get(self, program_id: uuid.UUID, order_id: str) -> PurchaseRecord | None: ...

    async def add_refund(
        self,
        program_id: uuid.UUID,
        purchase_id: uuid.UUID,
        refunded_minor: int,
        points: int,
        refunded_quantities: tuple[int, ...] | None = None,
    ) -> None:
        """Add a refund's money and points; `refunded_quantities`: the lines' new totals."""
        ...

    async def campaigns(self, program_id: uuid.UUID, at: datetime) -> list[Campaign]:
        """Campaigns running at `at`."""
        ...


class CampaignRepository(Protocol):
    async def add(self, campaign: Campaign) -> None: ...

    async def get(
        self, program_id: uuid.UUID, campaign_id: uuid.UUID, *, lock: bool = False
    ) -> Campaign | None:
        """The campaign; with `lock`, held against concurrent changes until commit."""
        ...

    async def update(self, campaign: Campaign) -> None: ...

    async def move_tier(
        self, program_id: uuid.UUID, from_tier_id: uuid.UUID, to_tier_id: uuid.UUID
    ) -> None:
        """Campaigns whose minimum tier is the one name the other instead."""
        ...

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        active: bool | None,
        now: datetime,
    ) -> list[Campaign]:
        """Latest start first (then id), strictly after the `after` position; `active`
        True keeps campaigns running at `now`, False those that are not."""
        ...

    async def count(self, program_id: uuid.UUID, *, active: bool | None, now: datetime) -> int:
        """How many campaigns `page` would list over all its pages."""
        ...


class PaymentRepository(Protocol):
    async def add(self, payment: PointsPayment, takes: Sequence[PaymentTake]) -> None: ...

    async def get(self, program_id: uuid.UUID, order_id: str) -> PointsPayment | None:
        """The points payment of an order, if it was paid with points."""
        ...

    async def takes(
        self, program_id: uuid.UUID, payment_id: uuid.UUID
    ) -> list[tuple[int, datetime | None]]:
        """(points, original expiry) of the lots a payment drew on."""
        ...

    async def mark_refunded(
        self, program_id: uuid.UUID, payment_id: uuid.UUID, now: datetime
    ) -> bool:
        """Mark the payment refunded; False if it was refunded already."""
        ...


class PartnerRepository(Protocol):
    async def terms(self, program_id: uuid.UUID, partner_id: uuid.UUID) -> PartnerTerms: ...

    async def set_terms(
        self, program_id: uuid.UUID, partner_id: uuid.UUID, terms: PartnerTerms
    ) -> None: ...

    async def add_settlement(self, entry: SettlementEntry) -> None: ...

    async def settlement(
        self, program_id: uuid.UUID, partner_id: uuid.UUID, start: datetime, end: datetime
    ) -> list[SettlementEntry]: ...

    async def closed(
        self, program_id: uuid.UUID, partner_id: uuid.UUID, period: str
    ) -> Statement | None: ...

    async def close(
        self, program_id: uuid.UUID, statement: Statement, at: datetime, by: str
    ) -> bool:
        """Freeze a period's statement; False when it was frozen already."""
        ...

    async def redemptions(
        self,
        program_id: uuid.UUID,
        partner_id: uuid.UUID,
        *,
        statuses: list[str] | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[PartnerRedemptionRow]: ...

    async def reward_stats(
        self, program_id: uuid.UUID, partner_id: uuid.UUID, limit: int
    ) -> list[RewardStats]: ...


class ChallengeRepository(Protocol):
    async def add(self, challenge: Challenge) -> None: ...

    async def update(self, challenge: Challenge) -> None: ...

    async def get(
        self, program_id: uuid.UUID, challenge_id: uuid.UUID, *, lock: bool = False
    ) -> Challenge | None: ...

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        archived: bool | None,
    ) -> list[Challenge]:
        """Latest start first (then id), strictly after `after`; `archived` filters."""
        ...

    async def open_at(self, program_id: uuid.UUID, at: datetime) -> list[Challenge]:
        """Challenges not archived whose fixed window holds `at`."""
        ...

    async def advance(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        steps: Sequence[tuple[uuid.UUID, str, int]],
        now: datetime,
    ) -> list[Progress]:
        """Add each (challenge, period key, step) to the member's progress atomically
        (concurrent advances all count); the progress after, in any order."""
        ...

    async def complete(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        challenge_id: uuid.UUID,
        period_key: str,
        target: int,
        now: datetime,
    ) -> bool:
        """Mark the period complete if it reached `target` and was not complete; True only
        for the one call that did (completion pays once)."""
        ...

    async def progress_of(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        keys: Sequence[tuple[uuid.UUID, str]],
    ) -> list[Progress]: ...

    async def add_badge(self, badge: Badge) -> None: ...

    async def update_badge(self, badge: Badge) -> None: ...

    async def badges(self, program_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Badge]: ...

    async def all_badges(self, program_id: uuid.UUID, limit: int) -> list[Badge]:
        """The program's badges, oldest first."""
        ...

    async def award_badge(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        badge_id: uuid.UUID,
        challenge_id: uuid.UUID | None,
        now: datetime,
    ) -> bool:
        """Give the member the badge; False if they had it (each badge once)."""
        ...

    async def member_badges(
        self, program_id: uuid.UUID, member_id: uuid.UUID, limit: int
    ) -> list[EarnedBadge]:
        """The member's badges, latest first."""


class ActionRepository(Protocol):
    """The earning actions catalog and members' records of them (domain/actions.py)."""

    async def add(self, action: EarningAction) -> bool:
        """Insert; False when the key or the slot (signup, birthday, a follow per network)
        is taken."""
        ...

    async def update(self, action: EarningAction) -> bool:
        """Save; False when another live action holds the slot."""
        ...

    async def get(
        self, program_id: uuid.UUID, action_id: uuid.UUID, *, lock: bool = False
    ) -> EarningAction | None: ...

    async def by_key(self, program_id: uuid.UUID, key: str) -> EarningAction | None: ...

    async def by_slot(self, program_id: uuid.UUID, slot: str) -> EarningAction | None:
        """The live action holding `slot` ("SIGNUP", "BIRTHDAY", "SOCIAL_FOLLOW:instagram")."""
        ...

    async def live(self, program_id: uuid.UUID, now: datetime) -> list[EarningAction]:
        """Actions not archived and within their window at `now`, oldest first."""
        ...

    async def page(
        self,
        program_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        archived: bool,
    ) -> list[EarningAction]:
        """Oldest first (then id), strictly after `after`; archived ones only with `archived`."""
        ...

    async def count(self, program_id: uuid.UUID, *, archived: bool) -> int: ...

    async def tallies(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        action_ids: Sequence[uuid.UUID],
        windows: Mapping[Period, tuple[datetime, datetime]],
    ) -> dict[uuid.UUID, ActionTally]:
        """The member's records of each action: ever, and within each window."""
        ...

    async def add_record(self, record: ActionRecord) -> bool:
        """Insert; False when an automatic grant with the same key exists already."""
        ...

    async def record(self, program_id: uuid.UUID, record_id: uuid.UUID) -> ActionRecord | None: ...


class ReferralRepository(Protocol):
    async def settings(self, program_id: uuid.UUID) -> ReferralSettings:
        """The program's referral settings (defaults when never set)."""
        ...

    async def save_settings(
        self, program_id: uuid.UUID, settings: ReferralSettings, now: datetime
    ) -> None: ...

    async def add(self, referral: Referral) -> None: ...

    async def get(
        self, program_id: uuid.UUID, referral_id: uuid.UUID, *, lock: bool = False
    ) -> Referral | None:
        """The referral; with `lock`, held against concurrent changes until commit."""
        ...

    async def of_referee(
        self, program_id: uuid.UUID, referee_id: uuid.UUID, *, lock: bool = False
    ) -> Referral | None: ...

    async def update(self, referral: Referral, expected: ReferralStatus) -> bool:
        """Write the referral if it is still in `expected`; False if it moved meanwhile."""
        ...

    async def counted_since(
        self, program_id: uuid.UUID, referrer_id: uuid.UUID, since: datetime
    ) -> int:
        """The referrer's referrals made since `since` that count towards the cap (not
        void or rejected)."""
        ...

    async def qualified_count(self, program_id: uuid.UUID, referrer_id: uuid.UUID) -> int: ...

    async def qualified_counts(
        self, program_id: uuid.UUID, referrer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]: ...

    async def of_referrer(
        self,
        program_id: uuid.UUID,
        referrer_id: uuid.UUID,
        *,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[tuple[Referral, str | None]]:
        """The referrer's referrals newest first, each with the referee's display name."""
        ...

    async def for_review(
        self, program_id: uuid.UUID, *, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[Referral]:
        """Referrals held for review, oldest first."""
        ...

    async def milestones_paid(self, program_id: uuid.UUID, referrer_id: uuid.UUID) -> set[int]: ...

    async def add_milestone(
        self, program_id: uuid.UUID, referrer_id: uuid.UUID, count: int, now: datetime
    ) -> bool:
        """Mark a milestone paid; False when it was paid already (unique per count)."""
        ...

    async def add_signal(
        self,
        program_id: uuid.UUID,
        member_id: uuid.UUID,
        kind: SignalKind,
        digest: str,
        now: datetime,
    ) -> None: ...

    async def has_signal(
        self, program_id: uuid.UUID, member_id: uuid.UUID, kind: SignalKind, digest: str
    ) -> bool: ...

    async def qualifying_purchases(
        self, program_id: uuid.UUID, member_id: uuid.UUID, min_minor: int
    ) -> list[tuple[str, tuple[uuid.UUID, ...]]]:
        """(order id, credit entry ids) of the member's purchases whose amount left after
        refunds is at least `min_minor`, earliest first."""
        ...

    async def due(
        self,
        program_id: uuid.UUID,
        min_minor: int,
        *,
        limit: int,
        after: uuid.UUID | None,
    ) -> list[uuid.UUID]:
        """Referees (in id order, after `after`) of pending referrals who have a purchase
        of at least `min_minor` after refunds."""


class LeaderboardRepository(Protocol):
    async def settings(self, program_id: uuid.UUID) -> LeaderboardSettings:
        """The program's leaderboard settings (the defaults, disabled, until first set)."""
        ...

    async def save_settings(
        self, program_id: uuid.UUID, settings: LeaderboardSettings, now: datetime
    ) -> None: ...

    async def opted_in(self, program_id: uuid.UUID, member_id: uuid.UUID) -> bool: ...

    async def set_opt_in(
        self, program_id: uuid.UUID, member_id: uuid.UUID, opt_in: bool, now: datetime
    ) -> None:
        """Opt the member in (keeping the first time they did) or out."""
        ...

    async def standings(
        self,
        program_id: uuid.UUID,
        start: datetime,
        end: datetime,
        *,
        first: int | None = None,
        me: uuid.UUID | None = None,
        max_rank: int | None = None,
    ) -> list[Standing]:
        """The month's ranked members in board order, in one statement over the ledger
        (domain/leaderboard.py says what counts): the first `first` of them and `me`, or
        those ranked within `max_rank`."""
        ...

    async def round_paid(self, program_id: uuid.UUID, month: str) -> bool:
        """Whether the month's bonuses were paid (committed) already."""
        ...

    async def claim_round(self, program_id: uuid.UUID, month: str, now: datetime) -> bool:
        """Take the month's payout for this transaction; False when it was taken already
        (concurrent claims wait for each other, so exactly one gets True)."""
        ...

    async def add_payout(
        self,
        program_id: uuid.UUID,
        month: str,
        standing: Standing,
        points: int,
        entry_id: uuid.UUID,
        now: datetime,
    ) -> None: ...


class JobBatches(Protocol):
    """What the background jobs (domain/services/jobs.py) claim and save, a batch at a time.

    A claim locks the wallets of up to `limit` due members of the program, in member id
    order after `after`, that no other transaction holds (those are skipped: another runner
    has them, or the next run will); the caller's transaction keeps them until it ends.
    """

    async def claim_releasable(
        self, program_id: uuid.UUID, now: datetime, after: uuid.UUID | None, limit: int
    ) -> list[Wallet]:
        """Wallets with a held lot whose hold ended and that fits (`ledger.fits_release`)."""
        ...

    async def held_lots(
        self, program_id: uuid.UUID, member_id: uuid.UUID, now: datetime
    ) -> list[Lot]:
        """The member's held lots, and those refunded to nothing whose hold ended."""
        ...

    async def save_release(self, before: Wallet, release: Release, now: datetime) -> None:
        """The released lots, and the wallet when points moved."""
        ...

    async def claim_expiring(
        self,
        program: Program,
        now: datetime,
        idle_since: datetime | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[Wallet]:
        """Wallets with a positive balance and an expired lot (`ledger.expired_lots`); with
        `idle_since` (INACTIVITY), only those without activity since."""
        ...

    async def expiry_due(
        self, program: Program, member_ids: Sequence[uuid.UUID], now: datetime
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """Per member: the points left in expired lots, and how many such lots."""
        ...

    async def save_expiries(
        self,
        program: Program,
        emptied: Sequence[uuid.UUID],
        emptied_lots: int,
        postings: Sequence[Posting],
        now: datetime,
    ) -> None:
        """Every expired lot of the `emptied` members (`emptied_lots` of them) to zero, and
        their EXPIRE postings (no takes), for the whole batch at once."""
        ...

    async def claim_tier_due(
        self, program_id: uuid.UUID, now: datetime, after: uuid.UUID | None, limit: int
    ) -> list[Wallet]:
        """Wallets of members whose tier is kept until `now` or before (evaluation due)."""
        ...

    async def claim_birthdays(
        self,
        program_id: uuid.UUID,
        action_id: uuid.UUID,
        today: date,
        grant_key: str,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[Wallet]:
        """Wallets of members not blocked whose birthday is `today` (29 February on
        28 February in other years) without a grant of `grant_key` of the action yet."""
        ...


class UnitOfWork(Protocol):
    """One transaction: repositories share it; nothing is written unless `commit` is called.

    programs: ProgramRepository
    tiers: TierRepository
    members: MemberRepository
    ledger: LedgerRepository
    idempotency: IdempotencyRepository
    rewards: RewardRepository
    instore: InStoreRepository
    purchases: PurchaseRepository
    campaigns: CampaignRepository
    payments: PaymentRepository
    partners: PartnerRepository
    The repositories are read-only members, so an implementation may hold its own
    repository classes (a protocol's settable attribute would demand exactly these types).
    """

    @property
    def programs(self) -> ProgramRepository: ...

    @property
    def tiers(self) -> TierRepository: ...

    @property
    def members(self) -> MemberRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def rewards(self) -> RewardRepository: ...

    @property
    def instore(self) -> InStoreRepository: ...

    @property
    def purchases(self) -> PurchaseRepository: ...

    @property
    def campaigns(self) -> CampaignRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def partners(self) -> PartnerRepository: ...

    @property
    def leaderboard(self) -> LeaderboardRepository: ...

    @property
    def challenges(self) -> ChallengeRepository: ...

    @property
    def actions(self) -> ActionRepository: ...

    @property
    def referrals(self) -> ReferralRepository: ...

    def record(self, event: Event) -> None:
        """Announce `event` once the transaction commits (never if it rolls back)."""
        ...

    async def commit(self) -> None: ...
