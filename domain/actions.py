"""Earning actions ("360 degree"): what members earn besides purchases, and how often.

An action of the program's catalog pays points (or a reward's voucher) when it is
reported: by the brand's backend, by the member where the program trusts them, or by the
backend itself (signup on enrollment, birthday by the jobs). Its limits count the
member's records of it: ever (a lifetime cap; 1 is once ever) and within the program-local
day, week, month or year (domain/times.py). Pure rules; the use cases in
domain/services/actions.py apply them under the wallet lock.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from domain.errors import ActionLimitReached, ActionNotAllowed, InvalidInput
from domain.times import Period, birthday_in, local_date, period_bounds


class ActionKind(StrEnum):
    SIGNUP = "SIGNUP"
    BIRTHDAY = "BIRTHDAY"
    PRODUCT_REVIEW = "PRODUCT_REVIEW"
    SOCIAL_FOLLOW = "SOCIAL_FOLLOW"
    SHARE = "SHARE"
    NEWSLETTER_SIGNUP = "NEWSLETTER_SIGNUP"
    SMS_SIGNUP = "SMS_SIGNUP"
    WISHLIST_ADD = "WISHLIST_ADD"
    SURVEY = "SURVEY"
    APP_DOWNLOAD = "APP_DOWNLOAD"
    CUSTOM = "CUSTOM"


# Granted by the backend itself (enroll, the birthday job), never reported by anyone.
AUTOMATIC_KINDS = frozenset({ActionKind.SIGNUP, ActionKind.BIRTHDAY})
# Kinds that name a network (instagram, tiktok ...); a follow needs one.
NETWORK_KINDS = frozenset({ActionKind.SOCIAL_FOLLOW, ActionKind.SHARE})


class Reporter(StrEnum):
    BACKEND = "BACKEND"  # the brand's backend: admin, staff (after a scan) or web shop token
    MEMBER = "MEMBER"  # the member themself (the backend may report it too)
    AUTOMATIC = "AUTOMATIC"  # SIGNUP and BIRTHDAY: the loyalty backend grants them


@dataclass(frozen=True)
class ActionLimits:
    """At most `lifetime` times ever (1: once ever), and `per_period` times in each
    program-local `period`; None: no such limit."""

    lifetime: int | None = None
    period: Period | None = None
    per_period: int | None = None


@dataclass
class EarningAction:
    id: uuid.UUID
    program_id: uuid.UUID
    key: str
    kind: ActionKind
    name: str
    created_at: datetime
    points: int | None = None  # exactly one of points and reward_id
    reward_id: uuid.UUID | None = None
    description: str = ""
    limits: ActionLimits = field(default_factory=ActionLimits)
    reported_by: Reporter = Reporter.BACKEND
    network: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    archived_at: datetime | None = None

    def active_at(self, now: datetime) -> bool:
        """Not archived, and within its window [starts_at, ends_at)."""
        if self.archived_at is not None:
            return False
        if self.starts_at is not None and now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at

    @property
    def slot(self) -> str | None:
        """What no two live actions of a program may share: one signup, one birthday, one
        follow per network (None: any number)."""
        if self.archived_at is not None:
            return None
        if self.kind in AUTOMATIC_KINDS:
            return self.kind.value
        if self.kind is ActionKind.SOCIAL_FOLLOW:
            return f"{self.kind.value}:{self.network}"
        return None


@dataclass(frozen=True)
class ActionRecord:
    """One time a member earned an action: its points or the voucher it issued."""

    id: uuid.UUID
    program_id: uuid.UUID
    member_id: uuid.UUID
    action_id: uuid.UUID
    points: int
    occurred_at: datetime
    actor: str
    event_id: str | None = None  # the reporter's event id
    grant_key: str | None = None  # automatic grants: "signup", "birthday:2027"
    entry_id: uuid.UUID | None = None
    redemption_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ActionCounts:
    """A member's records of one action: ever, and in the period containing now."""

    lifetime: int = 0
    in_period: int = 0


@dataclass(frozen=True)
class ActionTally:
    """A member's records of one action: ever, and in the current day, week, month and year
    (one read for the whole catalog; `counts` picks the action's own period)."""

    lifetime: int = 0
    by_period: tuple[tuple[Period, int], ...] = ()

    def counts(self, action: EarningAction) -> ActionCounts:
        period = action.limits.period
        in_period = dict(self.by_period).get(period, 0) if period is not None else 0
        return ActionCounts(lifetime=self.lifetime, in_period=in_period)


def period_windows(now: datetime, zone: str) -> dict[Period, tuple[datetime, datetime]]:
    """[start, end) in UTC of the program-local day, week, month and year holding `now`."""
    return {period: period_bounds(now, period, zone) for period in Period}


@dataclass(frozen=True)
class Allowance:
    """What is left of an action's limits for one member now (None: unlimited)."""

    remaining_in_period: int | None
    period_resets_at: datetime | None
    lifetime_remaining: int | None

    @property
    def can_earn_now(self) -> bool:
        return self.remaining_in_period != 0 and self.lifetime_remaining != 0


MAX_LIMIT = 1_000_000
# Live (not archived) actions a program may have: what `me { actions }` lists at most.
MAX_LIVE_ACTIONS = 100
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NETWORK_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


def normalise_key(key: str, field: tuple[str, ...]) -> str:
    """An action key: a slug of lowercase letters, digits, '-' and '_', at most 64 long."""
    text = key.strip().casefold()
    if not KEY_PATTERN.match(text):
        raise InvalidInput(
            "An action key is a slug: lowercase letters, digits, '-' and '_', at most 64.",
            field,
        )
    return text


def normalise_network(network: str | None, kind: ActionKind, field: tuple[str, ...]) -> str | None:
    """The network a follow or share is on (e.g. instagram); a follow needs one."""
    if network is None or not network.strip():
        if kind is ActionKind.SOCIAL_FOLLOW:
            raise InvalidInput("A social follow names its network, e.g. instagram.", field)
        return None
    if kind not in NETWORK_KINDS:
        raise InvalidInput("Only SOCIAL_FOLLOW and SHARE actions name a network.", field)
    text = network.strip().casefold()
    if not NETWORK_PATTERN.match(text):
        raise InvalidInput("A network is a short name such as instagram or tiktok.", field)
    return text


def rules_for_kind(
    kind: ActionKind, limits: ActionLimits, reporter: Reporter | None
) -> tuple[ActionLimits, Reporter]:
    """(limits, reporter) as stored: signup is once ever and birthday once a year, both
    AUTOMATIC; every other kind is reported by BACKEND (default) or MEMBER."""
    if kind is ActionKind.SIGNUP:
        return ActionLimits(lifetime=1), Reporter.AUTOMATIC
    if kind is ActionKind.BIRTHDAY:
        return ActionLimits(period=Period.YEAR, per_period=1), Reporter.AUTOMATIC
    if reporter is Reporter.AUTOMATIC:
        raise InvalidInput(
            "Only SIGNUP and BIRTHDAY are granted automatically; say BACKEND or MEMBER.",
            ("input", "reportedBy"),
        )
    return limits, reporter or Reporter.BACKEND


def validate_limits(limits: ActionLimits, field: tuple[str, ...]) -> ActionLimits:
    """Limits are positive counts; a per-period count needs its period and back."""
    if limits.lifetime is not None and not 1 <= limits.lifetime <= MAX_LIMIT:
        raise InvalidInput(f"lifetime must be 1 to {MAX_LIMIT}.", (*field, "lifetime"))
    if (limits.period is None) != (limits.per_period is None):
        raise InvalidInput("Give period and perPeriod together.", (*field, "perPeriod"))
    if limits.per_period is not None and not 1 <= limits.per_period <= MAX_LIMIT:
        raise InvalidInput(f"perPeriod must be 1 to {MAX_LIMIT}.", (*field, "perPeriod"))
    return limits


def allowance(action: EarningAction, counts: ActionCounts, now: datetime, zone: str) -> Allowance:
    """What the member may still earn of `action` now, given their records of it."""
    lifetime = action.limits.lifetime
    lifetime_left = None if lifetime is None else max(0, lifetime - counts.lifetime)
    period = action.limits.period
    if period is None or action.limits.per_period is None:
        return Allowance(None, None, lifetime_left)
    _, end = period_bounds(now, period, zone)
    left = max(0, action.limits.per_period - counts.in_period)
    if lifetime_left is not None:
        left = min(left, lifetime_left)
    return Allowance(left, end, lifetime_left)


def check_limits(action: EarningAction, counts: ActionCounts, now: datetime, zone: str) -> None:
    """ACTION_LIMIT_REACHED when the member has used up a limit of the action."""
    left = allowance(action, counts, now, zone)
    if left.lifetime_remaining == 0:
        raise ActionLimitReached(
            f"'{action.name}' can be earned {action.limits.lifetime} time(s) in all; "
            "that is used up.",
            ("input", "action"),
        )
    if left.remaining_in_period == 0:
        assert action.limits.period is not None
        raise ActionLimitReached(
            f"'{action.name}' can be earned {action.limits.per_period} time(s) per "
            f"{action.limits.period.value.lower()}; try again after "
            f"{left.period_resets_at.isoformat() if left.period_resets_at else 'the period'}.",
            ("input", "action"),
        )


def check_reporter(action: EarningAction, member_reports: bool) -> None:
    """ACTION_NOT_ALLOWED when the caller may not report this action."""
    if action.reported_by is Reporter.AUTOMATIC:
        raise ActionNotAllowed(
            f"'{action.name}' is granted automatically; it cannot be reported.",
            ("input", "action"),
        )
    if member_reports and action.reported_by is not Reporter.MEMBER:
        raise ActionNotAllowed(
            f"'{action.name}' is reported by the brand, not by members.", ("input", "action")
        )


def description(action: EarningAction) -> str:
    """The ledger entry's description: the action's name."""
    return f"Action: {action.name}"[:600]


def is_birthday(birthday: date, today: date) -> bool:
    """Whether `today` is the member's birthday (29 February: 28 February in other years)."""
    return birthday_in(today.year, birthday) == today


# A birthday given fewer days than this before it pays nothing that year (a member cannot
# give "today" and collect at once); the next year's pays as usual.
BIRTHDAY_NOTICE_DAYS = 30


def birthday_noticed(birthday_set_at: datetime | None, today: date, zone: str) -> bool:
    """Whether a birthday falling on the program-local day `today` was given early enough
    to pay (given on `birthday_set_at`; None: given before the date was kept)."""
    if birthday_set_at is None:
        return True
    return (today - local_date(birthday_set_at, zone)).days >= BIRTHDAY_NOTICE_DAYS


def birthday_grant_key(today: date) -> str:
    """The one birthday grant a member may have in a (program-local) year."""
    return f"birthday:{today.year}"


SIGNUP_GRANT = "signup"
