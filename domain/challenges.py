"""Challenges and badges: what a goal counts, the window it counts in, who takes part.

Pure rules. A challenge counts qualifying events (purchases or actions) of a member within
its window: a fixed [starts_at, ends_at) or, when recurring, the program-local week or
month the event falls in (clipped to the fixed window). Each period has its own progress;
reaching the target completes it once and pays the challenge's reward.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.earning import LineEarning
from domain.times import Period, local_date, period_bounds

MAX_TARGET = 2_000_000_000


class GoalKind(StrEnum):
    PURCHASE_COUNT = "PURCHASE_COUNT"  # N purchases
    SPEND = "SPEND"  # spend N minor units
    CATEGORY_PURCHASES = "CATEGORY_PURCHASES"  # N purchases with a line in the category
    CATEGORY_SPEND = "CATEGORY_SPEND"  # spend N minor units on lines in the category
    ACTION_COUNT = "ACTION_COUNT"  # N earning actions of one kind


RECURRING = (Period.WEEK, Period.MONTH)


@dataclass(frozen=True)
class Goal:
    kind: GoalKind
    target: int
    category: str | None = None  # casefolded; CATEGORY_* only
    action_kind: str | None = None  # ACTION_COUNT only


@dataclass(frozen=True)
class Badge:
    id: uuid.UUID
    program_id: uuid.UUID
    name: str
    description: str
    image_url: str | None
    created_at: datetime


@dataclass(frozen=True)
class Challenge:
    id: uuid.UUID
    program_id: uuid.UUID
    name: str
    description: str
    goal: Goal
    starts_at: datetime
    created_at: datetime
    ends_at: datetime | None = None  # None: open-ended
    period: Period | None = None  # WEEK or MONTH: progress starts again each period
    tier_ids: tuple[uuid.UUID, ...] = ()  # empty: every tier
    hidden: bool = False  # members see it only once they have progress
    reward_points: int = 0
    reward_id: uuid.UUID | None = None  # a catalog reward issued as a voucher
    badge_id: uuid.UUID | None = None
    archived_at: datetime | None = None

    def for_tier(self, tier_id: uuid.UUID) -> bool:
        return not self.tier_ids or tier_id in self.tier_ids


@dataclass(frozen=True)
class Window:
    """The period an event counts in: its key (one progress per key) and when it ends."""

    key: str
    ends_at: datetime | None


def window_at(challenge: Challenge, at: datetime, zone: str) -> Window:
    """The period of `challenge` holding `at`, in the program's zone: the whole fixed window
    (key "") or the local week or month (key e.g. "MONTH:2026-11-01")."""
    if challenge.period is None:
        return Window("", challenge.ends_at)
    start, end = period_bounds(at, challenge.period, zone)
    local = local_date(start, zone)
    ends = end if challenge.ends_at is None else min(end, challenge.ends_at)
    return Window(f"{challenge.period.value}:{local.isoformat()}", ends)


@dataclass(frozen=True)
class PurchaseFacts:
    """What a purchase brings to goals: its total and its lines (categories, amounts)."""

    amount_minor: int
    lines: Sequence[LineEarning]


def purchase_step(goal: Goal, purchase: PurchaseFacts) -> int:
    """How far one purchase moves `goal` (0: it does not count)."""
    if goal.kind is GoalKind.PURCHASE_COUNT:
        return 1
    if goal.kind is GoalKind.SPEND:
        return max(purchase.amount_minor, 0)
    matching = [
        line
        for line in purchase.lines
        if line.category is not None and line.category.casefold() == goal.category
    ]
    if goal.kind is GoalKind.CATEGORY_PURCHASES:
        return 1 if matching else 0
    if goal.kind is GoalKind.CATEGORY_SPEND:
        return sum(max(line.amount_minor, 0) for line in matching)
    return 0


def action_step(goal: Goal, action_kind: str) -> int:
    """How far one earning action of `action_kind` moves `goal`."""
    if goal.kind is GoalKind.ACTION_COUNT and goal.action_kind == action_kind.upper():
        return 1
    return 0


def visible_to(challenge: Challenge, tier_id: uuid.UUID, progress: int) -> bool:
    """Members see challenges of their tier; hidden ones only once started."""
    return challenge.for_tier(tier_id) and (not challenge.hidden or progress > 0)


@dataclass(frozen=True)
class Progress:
    """A member's progress in one period of a challenge."""

    challenge_id: uuid.UUID
    member_id: uuid.UUID
    period_key: str
    progress: int
    started_at: datetime
    completed_at: datetime | None = None


@dataclass(frozen=True)
class EarnedBadge:
    badge: Badge
    awarded_at: datetime
