"""Referral rules: the program's settings, who counts as the same person, what a new
referral starts as, and which milestones a referrer has reached. Pure: no storage."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidInput

MAX_MILESTONES = 20
MAX_DOMAINS = 20
MAX_TEMPLATE = 300
MAX_SIGNAL = 200  # a device id or payment fingerprint as the app or shop sends it
CODE_PLACEHOLDER = "{code}"
MAX_POINTS = 1_000_000  # any one referral payment; more is a typo, not a campaign


class ReferralStatus(StrEnum):
    PENDING = "PENDING"  # waiting for the referee's first qualifying purchase
    QUALIFIED = "QUALIFIED"  # the referee's purchase qualified; the referrer was paid
    REJECTED = "REJECTED"  # an admin refused it
    VOID = "VOID"  # recorded, never pays: see the reason
    HELD_FOR_REVIEW = "HELD_FOR_REVIEW"  # suspicious: an admin approves or rejects it


class ReferralReason(StrEnum):
    """Why a referral is not (or not yet) paying."""

    MONTHLY_CAP = "MONTHLY_CAP"
    REFERRER_BLOCKED = "REFERRER_BLOCKED"
    SAME_DEVICE = "SAME_DEVICE"
    SAME_PAYMENT = "SAME_PAYMENT"
    REJECTED_BY_ADMIN = "REJECTED_BY_ADMIN"


class SignalKind(StrEnum):
    DEVICE = "DEVICE"
    PAYMENT = "PAYMENT"


@dataclass(frozen=True)
class Milestone:
    """After `count` successful referrals the referrer gets `points` and/or a reward."""

    count: int
    points: int = 0
    reward_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ReferralSettings:
    welcome_points: int = 0
    welcome_reward_id: uuid.UUID | None = None  # issued to the referee as a free voucher
    referrer_points: int = 0
    min_purchase_minor: int = 0
    monthly_cap: int | None = None  # referrals per referrer per month (program zone)
    milestones: tuple[Milestone, ...] = ()
    # Domains whose mailboxes ignore dots and +tags (e.g. gmail.com): those are removed
    # before two addresses are compared. Case is always ignored.
    normalised_domains: tuple[str, ...] = ()
    link_template: str | None = None  # e.g. https://brand.example/r/{code}


@dataclass
class Referral:
    """One referee's referral: at most one per member."""

    id: uuid.UUID
    program_id: uuid.UUID
    referrer_id: uuid.UUID
    referee_id: uuid.UUID
    status: ReferralStatus
    created_at: datetime
    reason: ReferralReason | None = None
    qualified_at: datetime | None = None
    referrer_points: int = 0  # what the referrer was paid for it
    welcome_paid: bool = False
    order_id: str | None = None  # the referee's qualifying purchase
    note: str | None = None  # the admin's words on review


def comparable_email(email: str | None, domains: Collection[str]) -> str | None:
    """The address as the mailbox sees it: lower case; for `domains`, without dots and a
    +tag in the local part (j.o.e+x@gmail.com is joe@gmail.com)."""
    if email is None:
        return None
    local, _, domain = email.casefold().rpartition("@")
    if domain in domains:
        local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}"


def same_person(
    email: str | None,
    phone: str | None,
    other_email: str | None,
    other_phone: str | None,
    domains: Collection[str],
) -> bool:
    """Whether two members share a normalised email or an (E.164) phone."""
    mine = comparable_email(email, domains)
    if mine is not None and mine == comparable_email(other_email, domains):
        return True
    return phone is not None and phone == other_phone


def signal_hash(value: str) -> str:
    """Device ids and payment fingerprints are compared, never shown: keep a digest only."""
    return hashlib.sha256(value.encode()).hexdigest()


def initial_status(
    *, referrer_blocked: bool, over_cap: bool, same_device: bool
) -> tuple[ReferralStatus, ReferralReason | None]:
    """What a referral starts as at the referee's enrollment."""
    if referrer_blocked:
        return ReferralStatus.VOID, ReferralReason.REFERRER_BLOCKED
    if over_cap:
        return ReferralStatus.VOID, ReferralReason.MONTHLY_CAP
    if same_device:
        return ReferralStatus.HELD_FOR_REVIEW, ReferralReason.SAME_DEVICE
    return ReferralStatus.PENDING, None


def link(template: str | None, code: str) -> str | None:
    """The member's referral link from the program's template; None without one."""
    return template.replace(CODE_PLACEHOLDER, code) if template else None


def due_milestones(
    milestones: Sequence[Milestone], successful: int, paid: Collection[int]
) -> list[Milestone]:
    """Milestones reached with `successful` referrals and not paid yet, lowest first."""
    return [m for m in milestones if m.count <= successful and m.count not in paid]


def next_milestone(milestones: Sequence[Milestone], successful: int) -> Milestone | None:
    """The lowest milestone not reached yet."""
    return next((m for m in milestones if m.count > successful), None)


def _points(value: int, field: tuple[str, ...]) -> int:
    if not 0 <= value <= MAX_POINTS:
        raise InvalidInput(f"Must be 0 to {MAX_POINTS:,}.", field)
    return value


def validate_settings(settings: ReferralSettings, field: tuple[str, ...]) -> ReferralSettings:
    """Settings within bounds: points, amounts, a cap of 1 or more, an ascending ladder of
    distinct counts each paying something, domains and an https link with `{code}`."""
    _points(settings.welcome_points, (*field, "welcomePoints"))
    _points(settings.referrer_points, (*field, "referrerPoints"))
    if not 0 <= settings.min_purchase_minor <= 1_000_000_000:
        raise InvalidInput("Must be 0 to 1,000,000,000.", (*field, "minPurchaseMinor"))
    if settings.monthly_cap is not None and not 1 <= settings.monthly_cap <= 10_000:
        raise InvalidInput("Must be 1 to 10,000, or null for no cap.", (*field, "monthlyCap"))
    ladder = sorted(settings.milestones, key=lambda m: m.count)
    if len(ladder) > MAX_MILESTONES:
        raise InvalidInput(f"At most {MAX_MILESTONES} milestones.", (*field, "milestones"))
    for index, milestone in enumerate(ladder):
        at = (*field, "milestones", str(index))
        if not 1 <= milestone.count <= 100_000:
            raise InvalidInput("count must be 1 to 100,000.", (*at, "count"))
        if index and ladder[index - 1].count == milestone.count:
            raise InvalidInput("Each count once.", (*at, "count"))
        _points(milestone.points, (*at, "points"))
        if milestone.points == 0 and milestone.reward_id is None:
            raise InvalidInput("A milestone pays points or a reward.", (*at, "points"))
    domains = tuple(sorted({d.strip().casefold() for d in settings.normalised_domains}))
    if len(domains) > MAX_DOMAINS or any(
        not d or len(d) > 100 or "@" in d or " " in d for d in domains
    ):
        raise InvalidInput(
            f"At most {MAX_DOMAINS} domain names like gmail.com.", (*field, "normalisedDomains")
        )
    template = settings.link_template.strip() if settings.link_template else None
    if template is not None and (
        len(template) > MAX_TEMPLATE
        or not template.startswith("https://")
        or CODE_PLACEHOLDER not in template
        or any(ord(ch) <= 32 for ch in template)
    ):
        raise InvalidInput(
            "An https:// address with {code} in it, e.g. https://brand.example/r/{code}.",
            (*field, "linkTemplate"),
        )
    return ReferralSettings(
        welcome_points=settings.welcome_points,
        welcome_reward_id=settings.welcome_reward_id,
        referrer_points=settings.referrer_points,
        min_purchase_minor=settings.min_purchase_minor,
        monthly_cap=settings.monthly_cap,
        milestones=tuple(ladder),
        normalised_domains=domains,
        link_template=template,
    )


def clean_signal(value: str | None, field: tuple[str, ...]) -> str | None:
    """A device id or payment fingerprint: 1 to 200 printable characters, or None."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > MAX_SIGNAL or any(ord(ch) < 32 for ch in text):
        raise InvalidInput(f"1 to {MAX_SIGNAL} printable characters.", field)
    return text
