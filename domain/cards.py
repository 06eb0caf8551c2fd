"""Card numbers (digits with a Luhn check digit) and personal referral codes."""

from __future__ import annotations

import secrets

CARD_NUMBER_LENGTH = 16
# Loyalty cards start with 9 so a till never mistakes one for a payment card.
CARD_PREFIX = "9"
# No 0/O, 1/I/L: codes are read aloud and typed from screens.
UNAMBIGUOUS_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERRAL_CODE_LENGTH = 8


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits + check` pass the Luhn (mod 10) test."""
    if not digits.isdigit():
        raise ValueError("Luhn needs digits")
    total = 0
    # Double every second digit counting from the right of the final number,
    # i.e. starting with the rightmost digit of the payload.
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    """Whether a string is a card number of ours: 16 digits with a valid check digit."""
    return (
        len(number) == CARD_NUMBER_LENGTH
        and number.isdigit()
        and number.startswith(CARD_PREFIX)
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def new_card_number() -> str:
    """A random card number; uniqueness within a program is the database's job."""
    body_length = CARD_NUMBER_LENGTH - len(CARD_PREFIX) - 1
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(body_length))
    return body + luhn_check_digit(body)


def new_referral_code() -> str:
    """A random personal referral code, e.g. `K7M2QX9D`."""
    return "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))
