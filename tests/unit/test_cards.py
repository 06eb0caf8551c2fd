"""Card numbers carry a Luhn check digit; referral codes avoid ambiguous characters."""

from __future__ import annotations

import pytest

from domain.cards import (
    UNAMBIGUOUS_ALPHABET,
    is_valid_card_number,
    luhn_check_digit,
    new_card_number,
    new_referral_code,
)


@pytest.mark.parametrize(
    ("payload", "check"),
    [("7992739871", "3"), ("4539578763621486"[:-1], "6"), ("0", "0"), ("18", "2")],
)
def test_luhn_check_digit_matches_known_numbers(payload: str, check: str) -> None:
    assert luhn_check_digit(payload) == check


def test_new_card_numbers_are_valid_and_single_digit_errors_are_caught() -> None:
    for _ in range(200):
        number = new_card_number()
        assert len(number) == 16 and number.startswith("9")
        assert is_valid_card_number(number)
        # any single changed digit breaks the check
        position = 5
        wrong = str((int(number[position]) + 1) % 10)
        assert not is_valid_card_number(number[:position] + wrong + number[position + 1 :])


@pytest.mark.parametrize("text", ["", "abc", "9" * 15, "9" * 17, "4539578763621486"])
def test_other_strings_are_not_card_numbers(text: str) -> None:
    assert not is_valid_card_number(text)


def test_referral_codes_use_the_unambiguous_alphabet() -> None:
    codes = {new_referral_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 8 and set(c) <= set(UNAMBIGUOUS_ALPHABET) for c in codes)
    assert not set("01ILO") & set(UNAMBIGUOUS_ALPHABET)
