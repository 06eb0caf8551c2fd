"""Entities and value objects of a loyalty program: plain dataclasses, no persistence."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


def new_id() -> uuid.UUID:
    """A fresh identifier; random, so it reveals nothing about volume or order."""
    return uuid.uuid4()


class Role(StrEnum):
    MEMBER = "member"
    STAFF = "staff"
    PARTNER = "partner"
    ADMIN = "admin"
    # The brand's web shop backend, server to server: credits, refunds and prices online
    # orders for any member of its program, and reads the program and catalog; nothing
    # else (domain/access.py).
    SHOP = "shop"


@dataclass(frozen=True)
class Principal:
    """Who is calling: taken from a verified token, scoped to one program."""

    role: Role
    program_slug: str
    subject: str
    store: str | None = None
    partner: str | None = None
    expires_at: datetime | None = None  # when the token runs out (live updates end then)

    @property
    def actor(self) -> str:
        """How the ledger and audit log name this caller."""
        at = self.store or self.partner  # a partner's user names are the partner's own
        where = f"@{at}" if at else ""
        return f"{self.role.value}:{self.subject}{where}"


class EntryKind(StrEnum):
    EARN = "EARN"
    BONUS = "BONUS"
    REDEEM = "REDEEM"
    EXPIRE = "EXPIRE"
    ADJUST = "ADJUST"
    REVERSAL = "REVERSAL"
    CHALLENGE = "CHALLENGE"  # a completed challenge's points
    ACTION = "ACTION"  # an earning action: review, follow, signup, birthday ...
    REFERRAL = "REFERRAL"  # a referee's welcome, a referrer's reward, a milestone


@dataclass(frozen=True)
class EarnRate:
    """`points` for every `per_amount_minor` of spend, e.g. 10 points per 100 cents."""

    points: int
    per_amount_minor: int


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class PointValue:
    """What points are worth at the till: `points` buy `value_minor`, within min and max."""

    points: int = 100
    value_minor: int = 100
    min_points: int = 100
    max_points: int | None = None


class QualifyingPeriod(StrEnum):
    CALENDAR_YEAR = "CALENDAR_YEAR"
    ROLLING_12_MONTHS = "ROLLING_12_MONTHS"


class ExpiryPolicy(StrEnum):
    NONE = "NONE"
    AFTER_EARNING = "AFTER_EARNING"  # each lot N months after it was earned
    INACTIVITY = "INACTIVITY"  # everything after N months without activity


@dataclass(frozen=True)
class PointsPolicy:
    """How long points are held, when they expire, and how tiers qualify."""

    hold_days: int = 0
    expiry: ExpiryPolicy = ExpiryPolicy.NONE
    expiry_months: int = 12
    expiry_month_end: bool = False
    qualifying: QualifyingPeriod = QualifyingPeriod.CALENDAR_YEAR


@dataclass(frozen=True)
class EarnRules:
    """Category multipliers (thousandths; 0 excludes the category) and a spend bonus."""

    category_multipliers: tuple[tuple[str, int], ...] = ()
    bonus_threshold_minor: int | None = None
    bonus_points: int = 0

    def multiplier_for(self, category: str | None) -> int:
        for name, permille in self.category_multipliers:
            if category is not None and name == category.casefold():
                return permille
        return 1000


@dataclass(frozen=True)
class InStoreRules:
    """How staff may find members: by card number or phone (besides the QR scan), and how
    long a scan lets a store act for the member."""

    card_number_lookup: bool = True
    phone_lookup: bool = False
    window_minutes: int = 10


@dataclass
class Program:
    id: uuid.UUID
    slug: str
    name: str
    points_name: str
    currency: str
    earn_rate: EarnRate
    created_at: datetime
    point_value: PointValue = field(default_factory=PointValue)
    in_store: InStoreRules = field(default_factory=InStoreRules)
    policy: PointsPolicy = field(default_factory=PointsPolicy)
    earn_rules: EarnRules = field(default_factory=EarnRules)
    # IANA zone the program's calendar runs in: days, weeks and months of limits, birthdays,
    # calendar qualifying years, partner months and the jobs (domain/times.py).
    time_zone: str = "UTC"


@dataclass
class Tier:
    id: uuid.UUID
    program_id: uuid.UUID
    name: str
    rank: int
    threshold: int
    # Stored as thousandths so earning stays integer arithmetic: 1500 = 1.5x.
    multiplier_permille: int
    benefits: tuple[str, ...] = ()
    # A paid VIP tier can be bought for a year: `paid_fee_minor`, or the reduced fee for
    # members holding at least `reduced_from_points` points. None: not for sale.
    paid_fee_minor: int | None = None
    reduced_fee_minor: int | None = None
    reduced_from_points: int | None = None

    @property
    def earn_multiplier(self) -> float:
        return self.multiplier_permille / 1000


@dataclass
class Member:
    id: uuid.UUID
    program_id: uuid.UUID
    subject: str
    card_number: str
    referral_code: str
    joined_at: datetime
    tier_id: uuid.UUID
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: date | None = None
    referred_by: uuid.UUID | None = None
    birthday_set_at: datetime | None = None  # when the birthday was given (notice period)
    blocked: bool = False
    card_generation: int = 0
    tier_valid_until: datetime | None = None  # evaluated (maybe downgraded) from then on
    paid_tier_until: datetime | None = None  # end of a bought VIP year


@dataclass
class Wallet:
    """The running totals of one member; `version` grows by one with every change."""

    program_id: uuid.UUID
    member_id: uuid.UUID
    balance: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    version: int = 0


@dataclass(frozen=True)
class LedgerEntry:
    """One immutable change of a wallet. `version` is the wallet version it produced."""

    id: uuid.UUID
    program_id: uuid.UUID
    member_id: uuid.UUID
    version: int
    kind: EntryKind
    points: int
    balance_after: int
    description: str
    reference: str
    actor: str
    occurred_at: datetime


@dataclass
class Lot:
    """Points credited together: spendable from `available_at`, gone at `expires_at`."""

    id: uuid.UUID
    program_id: uuid.UUID
    member_id: uuid.UUID
    points: int
    remaining: int
    available_at: datetime
    expires_at: datetime | None
    created_at: datetime
    # Held lots are pending: counted in `wallet.pending`, not spendable until released.
    held: bool = False
    entry_id: uuid.UUID | None = None


@dataclass(frozen=True)
class LotTake:
    lot_id: uuid.UUID
    points: int


@dataclass
class Posting:
    """Everything one ledger change writes, in one transaction: entry, lot changes, wallet."""

    entry: LedgerEntry
    wallet: Wallet
    new_lots: list[Lot] = field(default_factory=list)
    takes: list[LotTake] = field(default_factory=list)
