"""Challenge rules (domain/challenges.py): what a purchase or action counts for a goal, the
period an event falls in, and who sees a challenge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.challenges import (
    Challenge,
    Goal,
    GoalKind,
    PurchaseFacts,
    action_step,
    purchase_step,
    visible_to,
    window_at,
)
from domain.earning import LineEarning
from domain.times import Period

BERLIN = "Europe/Berlin"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _challenge(goal: Goal, **fields: object) -> Challenge:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "program_id": uuid.uuid4(),
        "name": "C",
        "description": "",
        "goal": goal,
        "starts_at": T0,
        "created_at": T0,
        **fields,
    }
    return Challenge(**values)  # type: ignore[arg-type]


def _line(category: str | None, amount: int) -> LineEarning:
    return LineEarning(
        sku="x" if category else None,
        category=category,
        quantity=1,
        unit_price_minor=amount,
        amount_minor=amount,
        category_permille=1000,
        campaign=None,
        campaign_permille=1000,
        points=0,
        reasons=(),
    )


ORDER = PurchaseFacts(9000, [_line("Shoes", 6000), _line("socks", 500), _line(None, 2500)])


def test_each_goal_counts_its_part_of_a_purchase() -> None:
    assert purchase_step(Goal(GoalKind.PURCHASE_COUNT, 3), ORDER) == 1
    assert purchase_step(Goal(GoalKind.SPEND, 100), ORDER) == 9000
    shoes = Goal(GoalKind.CATEGORY_PURCHASES, 3, category="shoes")
    assert purchase_step(shoes, ORDER) == 1
    assert purchase_step(Goal(GoalKind.CATEGORY_SPEND, 3, category="shoes"), ORDER) == 6000
    # an order without a line in the category counts nothing for it
    assert purchase_step(shoes, PurchaseFacts(500, [_line("socks", 500)])) == 0
    assert purchase_step(Goal(GoalKind.ACTION_COUNT, 3, action_kind="SHARE"), ORDER) == 0


def test_actions_count_only_for_their_kind() -> None:
    review = Goal(GoalKind.ACTION_COUNT, 2, action_kind="PRODUCT_REVIEW")
    assert action_step(review, "PRODUCT_REVIEW") == 1
    assert action_step(review, "product_review") == 1
    assert action_step(review, "SHARE") == 0
    assert action_step(Goal(GoalKind.PURCHASE_COUNT, 2), "PRODUCT_REVIEW") == 0


def test_a_monthly_period_begins_at_local_midnight_of_the_first() -> None:
    monthly = _challenge(Goal(GoalKind.PURCHASE_COUNT, 3), period=Period.MONTH)
    # 23:30 UTC on 31 March is 01:30 on 1 April in Berlin (summer time)
    late = window_at(monthly, datetime(2026, 3, 31, 21, 59, tzinfo=UTC), BERLIN)
    early = window_at(monthly, datetime(2026, 3, 31, 22, 0, tzinfo=UTC), BERLIN)
    assert late.key == "MONTH:2026-03-01"
    assert late.ends_at == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert early.key == "MONTH:2026-04-01"
    # in UTC the same moment is still March
    assert window_at(monthly, datetime(2026, 3, 31, 22, 0, tzinfo=UTC), "UTC").key == (
        "MONTH:2026-03-01"
    )


def test_a_weekly_period_starts_on_monday_and_a_fixed_window_is_one_period() -> None:
    weekly = _challenge(Goal(GoalKind.PURCHASE_COUNT, 3), period=Period.WEEK)
    sunday_night = datetime(2026, 3, 29, 21, 59, tzinfo=UTC)  # 23:59 Sunday in Berlin
    assert window_at(weekly, sunday_night, BERLIN).key == "WEEK:2026-03-23"
    monday = datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # 00:00 Monday in Berlin
    assert window_at(weekly, monday, BERLIN).key == "WEEK:2026-03-30"
    # a recurring period never ends after the challenge itself
    ends = datetime(2026, 4, 1, tzinfo=UTC)
    clipped = _challenge(Goal(GoalKind.PURCHASE_COUNT, 3), period=Period.WEEK, ends_at=ends)
    assert window_at(clipped, monday, BERLIN).ends_at == ends
    fixed = _challenge(Goal(GoalKind.PURCHASE_COUNT, 3), ends_at=ends)
    assert window_at(fixed, monday, BERLIN).key == ""
    assert window_at(fixed, monday, BERLIN).ends_at == ends


def test_members_see_challenges_of_their_tier_and_hidden_ones_once_started() -> None:
    silver, gold = uuid.uuid4(), uuid.uuid4()
    everyone = _challenge(Goal(GoalKind.PURCHASE_COUNT, 3))
    for_gold = _challenge(Goal(GoalKind.PURCHASE_COUNT, 3), tier_ids=(gold,))
    hidden = _challenge(Goal(GoalKind.PURCHASE_COUNT, 3), hidden=True)
    assert visible_to(everyone, silver, 0)
    assert visible_to(for_gold, gold, 0) and not visible_to(for_gold, silver, 5)
    assert not visible_to(hidden, silver, 0) and visible_to(hidden, silver, 1)
