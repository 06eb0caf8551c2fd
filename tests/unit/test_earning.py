"""Earn arithmetic: floor, never round up; integers only, however large."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.earning import apply_multiplier, base_points, validate_earn_rate
from domain.errors import InvalidInput
from domain.model import EarnRate

TEN_PER_EURO = EarnRate(points=10, per_amount_minor=100)


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (1299, TEN_PER_EURO, 129),  # 12.99 EUR -> 129.9 -> 129
        (99, TEN_PER_EURO, 9),
        (9, TEN_PER_EURO, 0),
        (0, TEN_PER_EURO, 0),
        (-500, TEN_PER_EURO, 0),
        (999, EarnRate(3, 250), 11),  # 11.988
        (1_000_000_000, EarnRate(1_000_000, 1), 1_000_000_000_000_000),
    ],
)
def test_base_points_floor(amount: int, rate: EarnRate, expected: int) -> None:
    assert base_points(amount, rate) == expected


def test_tier_multiplier_floors_after_the_base() -> None:
    # 129 base points at 1.25x = 161.25 -> 161
    assert apply_multiplier(base_points(1299, TEN_PER_EURO), 1250) == 161
    assert apply_multiplier(base_points(1299, TEN_PER_EURO), 1000) == 129


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    points=st.integers(min_value=0, max_value=10**6),
    per=st.integers(min_value=1, max_value=10**9),
)
def test_base_points_is_exact_integer_floor(amount: int, points: int, per: int) -> None:
    result = base_points(amount, EarnRate(points, per))
    assert isinstance(result, int)
    assert result * per <= amount * points < (result + 1) * per


@pytest.mark.parametrize(("points", "per"), [(-1, 100), (10, 0), (10, -5), (10**7, 100)])
def test_bad_earn_rates_are_refused(points: int, per: int) -> None:
    with pytest.raises(InvalidInput):
        validate_earn_rate(points, per, ("input", "earnRate"))
