"""Tier rules without a database: periods, upgrade, evaluation, progress, month arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import tiers
from domain.model import QualifyingPeriod, Tier, new_id

P = new_id()
BASE, SILVER, GOLD = (
    Tier(new_id(), P, "Member", 0, 0, 1000),
    Tier(new_id(), P, "Silver", 1, 1000, 1250),
    Tier(new_id(), P, "Gold", 2, 5000, 1500),
)
ALL = [BASE, SILVER, GOLD]


@pytest.mark.parametrize(
    ("moment", "months", "month_end", "expected"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), 1, False, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 1, 31, tzinfo=UTC), 1, False, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), 3, False, datetime(2027, 2, 15, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), 3, True, datetime(2027, 3, 1, tzinfo=UTC)),
        (datetime(2026, 3, 15, tzinfo=UTC), -12, False, datetime(2025, 3, 15, tzinfo=UTC)),
    ],
)
def test_add_months(moment: datetime, months: int, month_end: bool, expected: datetime) -> None:
    assert tiers.add_months(moment, months, to_month_end=month_end) == expected


@pytest.mark.parametrize(
    ("current", "points", "expected"),
    [
        (BASE, 999, None),
        (BASE, 1000, SILVER),
        (BASE, 7000, GOLD),
        (GOLD, 1200, None),
        (SILVER, 5000, GOLD),
    ],
)
def test_upgrade_at_once_never_down(current: Tier, points: int, expected: Tier | None) -> None:
    assert tiers.upgrade(ALL, current, points) == expected


@pytest.mark.parametrize(
    ("current", "ended", "now", "expected"),
    [
        (GOLD, 1200, 0, SILVER),  # downgrade to what the ended period earned
        (GOLD, 0, 0, BASE),
        (SILVER, 6000, 0, GOLD),
        (GOLD, 200, 5200, GOLD),  # reached again in the new period already
    ],
)
def test_evaluation_at_period_end(current: Tier, ended: int, now: int, expected: Tier) -> None:
    assert tiers.evaluate(ALL, current, ended, now) == expected


def test_tier_kept_for_the_whole_next_period() -> None:
    reached = datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert tiers.kept_until(QualifyingPeriod.CALENDAR_YEAR, reached, "UTC") == datetime(
        2028, 1, 1, tzinfo=UTC
    )
    assert tiers.kept_until(QualifyingPeriod.ROLLING_12_MONTHS, reached, "UTC") == datetime(
        2027, 12, 31, 23, tzinfo=UTC
    )


def test_windows() -> None:
    now = datetime(2026, 6, 10, tzinfo=UTC)
    assert tiers.qualifying_window(QualifyingPeriod.CALENDAR_YEAR, now, "UTC") == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert tiers.qualifying_window(QualifyingPeriod.ROLLING_12_MONTHS, now, "UTC") == (
        datetime(2025, 6, 10, tzinfo=UTC),
        None,
    )


def test_progress_numbers() -> None:
    progress = tiers.progress(ALL, SILVER, 2500, None)
    assert (progress.next, progress.points_to_next, progress.percent) == (GOLD, 2500, 50.0)
    top = tiers.progress(ALL, GOLD, 9000, None)
    assert (top.next, top.points_to_next, top.percent) == (None, None, 100.0)
    assert tiers.points_to_keep(GOLD, 4200) == 800 and tiers.points_to_keep(GOLD, 6000) == 0


def test_floor_window_only_for_a_tier_reached_in_this_period() -> None:
    now = datetime(2027, 3, 1, tzinfo=UTC)
    calendar, rolling = QualifyingPeriod.CALENDAR_YEAR, QualifyingPeriod.ROLLING_12_MONTHS
    # reached this year (kept until the end of next year): last year's points are the floor
    assert tiers.floor_window(calendar, now, datetime(2029, 1, 1, tzinfo=UTC), "UTC") == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    # kept from last year: a refund does not take it
    assert tiers.floor_window(calendar, now, datetime(2028, 1, 1, tzinfo=UTC), "UTC") is None
    assert tiers.floor_window(calendar, now, None, "UTC") is None
    # rolling: the 12 months before the tier was reached
    reached = datetime(2027, 2, 1, tzinfo=UTC)
    assert tiers.floor_window(rolling, now, tiers.add_months(reached, 12), "UTC") == (
        datetime(2026, 2, 1, tzinfo=UTC),
        reached,
    )


@pytest.mark.parametrize(
    ("current", "points", "floor", "expected"),
    [
        (SILVER, 0, 0, (BASE, None)),  # the order that made Silver refunded
        (GOLD, 1500, 0, (SILVER, datetime(2029, 1, 1, tzinfo=UTC))),  # still reached now
        (GOLD, 0, 1200, (SILVER, datetime(2028, 1, 1, tzinfo=UTC))),  # last year's Silver
        (GOLD, 5000, 0, None),  # still Gold
        (SILVER, 200, 1000, None),  # never below last year's tier
    ],
)
def test_after_a_refund(current: Tier, points: int, floor: int, expected: tuple | None) -> None:
    now = datetime(2027, 3, 1, tzinfo=UTC)
    valid_until = datetime(2029, 1, 1, tzinfo=UTC)
    result = tiers.after_refund(
        ALL, current, points, floor, QualifyingPeriod.CALENDAR_YEAR, now, valid_until, "UTC"
    )
    assert result == expected


def test_current_tier_is_the_members_or_else_the_entry_tier() -> None:
    from domain.model import Member

    def holding(tier_id: object) -> Member:
        return Member(new_id(), P, "s", "c", "r", datetime(2026, 1, 1, tzinfo=UTC), tier_id)  # type: ignore[arg-type]

    assert tiers.current_tier(ALL, holding(SILVER.id)) is SILVER
    assert tiers.current_tier(ALL, holding(new_id())) is BASE  # retired since it was read


def test_evaluation_keeps_a_tier_twelve_months_and_the_entry_tier_for_good() -> None:
    at = datetime(2027, 1, 1, tzinfo=UTC)
    assert tiers.ended_period(at) == (datetime(2026, 1, 1, tzinfo=UTC), at)
    assert tiers.evaluation(ALL, GOLD, at, 1200, 0) == tiers.Evaluation(
        SILVER, datetime(2028, 1, 1, tzinfo=UTC)
    )
    assert tiers.evaluation(ALL, GOLD, at, 0, 5000) == tiers.Evaluation(
        GOLD, datetime(2028, 1, 1, tzinfo=UTC)
    )
    assert tiers.evaluation(ALL, SILVER, at, 10, 0) == tiers.Evaluation(BASE, None)


def test_retiring_a_tier_hands_it_to_the_tier_below_and_moves_those_above_down() -> None:
    # given / when
    change = tiers.retirement(ALL, SILVER)
    # then
    assert change.retired == SILVER and change.successor == BASE
    assert [(t.id, t.rank) for t in change.moved_down] == [(GOLD.id, 1)]


def test_retiring_the_top_tier_moves_nothing_down() -> None:
    assert tiers.retirement(ALL, GOLD).moved_down == ()


def test_the_entry_tier_cannot_be_retired() -> None:
    with pytest.raises(ValueError, match="entry tier"):
        tiers.retirement(ALL, BASE)
