"""The leaderboard's rules without a database: months, sizes, settings, bonus by rank."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain import leaderboard as rules
from domain.errors import InvalidInput
from domain.leaderboard import LeaderboardSettings, Month, Standing
from domain.model import EntryKind

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def test_months_are_read_as_yyyy_mm_only() -> None:
    assert rules.parse_month("2026-12", ("month",)) == Month(2026, 12)
    assert str(rules.parse_month(" 2027-01 ", ("month",))) == "2027-01"
    for bad in ("2026-13", "2026-00", "2026-1", "26-01", "2026/01", "", "0999-01", "9998-01"):
        with pytest.raises(InvalidInput) as caught:
            rules.parse_month(bad, ("month",))
        assert caught.value.field == ("month",)


def test_a_month_starts_at_local_midnight_and_the_previous_one_wraps_the_year() -> None:
    start, end = Month(2026, 1).bounds("Europe/Berlin")
    assert start == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert end == datetime(2026, 1, 31, 23, tzinfo=UTC)
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert rules.month_of(datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "Europe/Berlin") == Month(
        2026, 2
    )
    assert rules.month_of(datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "UTC") == Month(2026, 1)


def test_board_size_defaults_to_ten_and_stays_within_one_to_a_hundred() -> None:
    assert rules.board_size(None) == 10
    assert rules.board_size(1) == 1 and rules.board_size(100) == 100
    for bad in (0, -1, 101):
        with pytest.raises(InvalidInput):
            rules.board_size(bad)


def test_bonus_by_rank_repeats_the_last_value_and_stops_after_top_n() -> None:
    settings = LeaderboardSettings(enabled=True, top_n=4, bonus_points=(500, 300))
    assert [settings.bonus_for(rank) for rank in range(0, 6)] == [0, 500, 300, 300, 300, 0]


def test_winners_are_every_member_ranked_within_top_n() -> None:
    def standing(points: int, rank: int) -> Standing:
        return Standing(uuid.uuid4(), None, points, rank, position=0)

    ranked = [standing(500, 1), standing(300, 2), standing(300, 2), standing(100, 4)]
    settings = LeaderboardSettings(enabled=True, top_n=2, bonus_points=(1,))
    assert [w.points for w in rules.winners(ranked, settings)] == [500, 300, 300]


def test_settings_change_only_what_is_given_and_remember_when_switched_on() -> None:
    off = LeaderboardSettings()
    on = rules.validate_settings(off, enabled=True, top_n=None, bonus_points=None, now=NOW)
    assert on == LeaderboardSettings(
        enabled=True, top_n=3, bonus_points=(500, 300, 100), enabled_at=NOW
    )
    later = datetime(2026, 4, 1, tzinfo=UTC)
    still_on = rules.validate_settings(on, enabled=True, top_n=5, bonus_points=[9], now=later)
    assert still_on.enabled_at == NOW and still_on.top_n == 5 and still_on.bonus_points == (9,)
    with pytest.raises(InvalidInput) as caught:
        rules.validate_settings(on, enabled=None, top_n=None, bonus_points=[0], now=later)
    assert caught.value.field == ("input", "bonusPoints")


def test_the_month_to_pay_is_the_one_just_ended_when_the_board_was_on_before_its_end() -> None:
    on_in_january = LeaderboardSettings(enabled=True, enabled_at=datetime(2026, 1, 5, tzinfo=UTC))
    assert rules.month_to_pay(on_in_january, NOW, "UTC") == Month(2026, 2)
    on_in_march = LeaderboardSettings(enabled=True, enabled_at=datetime(2026, 3, 1, tzinfo=UTC))
    assert rules.month_to_pay(on_in_march, NOW, "UTC") is None
    assert rules.month_to_pay(LeaderboardSettings(), NOW, "UTC") is None


def test_earned_points_count_and_spending_expiry_and_adjustments_do_not() -> None:
    assert {EntryKind.EARN, EntryKind.BONUS, EntryKind.REVERSAL} <= rules.COUNTED_KINDS
    assert not {EntryKind.REDEEM, EntryKind.EXPIRE, EntryKind.ADJUST} & rules.COUNTED_KINDS
