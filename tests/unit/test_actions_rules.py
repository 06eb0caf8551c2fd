"""The earning action rules without a database: limits, allowances, birthdays."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from domain.actions import (
    ActionCounts,
    ActionKind,
    ActionLimits,
    EarningAction,
    Reporter,
    allowance,
    check_limits,
    check_reporter,
    is_birthday,
    rules_for_kind,
    validate_limits,
)
from domain.errors import ActionLimitReached, ActionNotAllowed, InvalidInput
from domain.times import Period

NOW = datetime(2027, 1, 14, 22, 59, tzinfo=UTC)  # 23:59 in Berlin


def _action(limits: ActionLimits, reporter: Reporter = Reporter.BACKEND) -> EarningAction:
    return EarningAction(
        id=uuid.uuid4(),
        program_id=uuid.uuid4(),
        key="a",
        kind=ActionKind.CUSTOM,
        name="A",
        created_at=NOW,
        points=1,
        limits=limits,
        reported_by=reporter,
    )


def test_the_smaller_of_period_and_lifetime_is_left() -> None:
    action = _action(ActionLimits(lifetime=3, period=Period.DAY, per_period=5))
    left = allowance(action, ActionCounts(lifetime=2, in_period=1), NOW, "Europe/Berlin")
    assert (left.remaining_in_period, left.lifetime_remaining) == (1, 1)
    assert left.period_resets_at == datetime(2027, 1, 14, 23, tzinfo=UTC)
    assert left.can_earn_now


def test_limits_refuse_at_their_boundary() -> None:
    daily = _action(ActionLimits(period=Period.DAY, per_period=2))
    check_limits(daily, ActionCounts(lifetime=9, in_period=1), NOW, "UTC")
    with pytest.raises(ActionLimitReached):
        check_limits(daily, ActionCounts(lifetime=9, in_period=2), NOW, "UTC")
    once = _action(ActionLimits(lifetime=1))
    check_limits(once, ActionCounts(), NOW, "UTC")
    with pytest.raises(ActionLimitReached):
        check_limits(once, ActionCounts(lifetime=1), NOW, "UTC")


def test_unlimited_actions_say_so() -> None:
    left = allowance(_action(ActionLimits()), ActionCounts(lifetime=100), NOW, "UTC")
    assert (left.remaining_in_period, left.period_resets_at, left.lifetime_remaining) == (
        None,
        None,
        None,
    )


def test_members_report_only_member_actions_and_nobody_automatic_ones() -> None:
    check_reporter(_action(ActionLimits(), Reporter.MEMBER), member_reports=True)
    check_reporter(_action(ActionLimits(), Reporter.BACKEND), member_reports=False)
    with pytest.raises(ActionNotAllowed):
        check_reporter(_action(ActionLimits(), Reporter.BACKEND), member_reports=True)
    with pytest.raises(ActionNotAllowed):
        check_reporter(_action(ActionLimits(), Reporter.AUTOMATIC), member_reports=False)


def test_signup_is_once_ever_and_birthday_once_a_year() -> None:
    assert rules_for_kind(
        ActionKind.SIGNUP, ActionLimits(period=Period.DAY, per_period=9), None
    ) == (
        ActionLimits(lifetime=1),
        Reporter.AUTOMATIC,
    )
    limits, reporter = rules_for_kind(ActionKind.BIRTHDAY, ActionLimits(), None)
    assert limits == ActionLimits(period=Period.YEAR, per_period=1)
    assert reporter is Reporter.AUTOMATIC
    with pytest.raises(InvalidInput):
        rules_for_kind(ActionKind.CUSTOM, ActionLimits(), Reporter.AUTOMATIC)


@pytest.mark.parametrize(
    "limits",
    [
        ActionLimits(lifetime=0),
        ActionLimits(per_period=1),
        ActionLimits(period=Period.WEEK),
        ActionLimits(period=Period.WEEK, per_period=0),
    ],
)
def test_bad_limits_are_refused(limits: ActionLimits) -> None:
    with pytest.raises(InvalidInput):
        validate_limits(limits, ("input", "limits"))


def test_a_leap_day_birthday_is_kept_on_28_february_in_other_years() -> None:
    leap = date(2000, 2, 29)
    assert is_birthday(leap, date(2027, 2, 28))
    assert not is_birthday(leap, date(2027, 3, 1))
    assert is_birthday(leap, date(2028, 2, 29))
    assert not is_birthday(leap, date(2028, 2, 28))
    assert is_birthday(date(1990, 5, 17), date(2027, 5, 17))
