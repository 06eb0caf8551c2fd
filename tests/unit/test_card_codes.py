"""The member card's one-time codes without a database: payload format and step window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from domain import cards
from domain.errors import CardExpired, CardInvalid

KEY = b"k" * 32
PROGRAM, MEMBER = uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 11, 23, 10, 0, 15, tzinfo=UTC)


def test_secrets_differ_per_member_and_generation_and_match_rfc6238() -> None:
    first = cards.card_secret(KEY, PROGRAM, MEMBER, 0)
    assert first != cards.card_secret(KEY, PROGRAM, MEMBER, 1)
    assert first != cards.card_secret(KEY, PROGRAM, uuid.uuid4(), 0)
    assert first != cards.card_secret(b"other-key" * 4, PROGRAM, MEMBER, 0)
    reference = pyotp.TOTP(cards.secret_base32(first), digits=8, interval=30)
    assert cards.code_for_step(first, cards.step_at(NOW)) == reference.at(NOW)


def test_payload_round_trip_and_length() -> None:
    number = cards.new_card_number()
    secret = cards.card_secret(KEY, PROGRAM, MEMBER, 0)
    text, expires = cards.card_payload(number, secret, NOW)
    assert len(text) == 28 < 100
    assert expires == datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    scanned = cards.parse_payload(text)
    assert scanned.card_number == number
    assert cards.verify_code(secret, scanned.code, NOW) == cards.step_at(NOW)


@pytest.mark.parametrize(
    ("offset_steps", "outcome"),
    [
        (-1, "ok"),
        (0, "ok"),
        (1, "ok"),
        (-2, "expired"),
        (-20, "expired"),
        (-21, "invalid"),
        (2, "invalid"),
    ],
)
def test_verification_window(offset_steps: int, outcome: str) -> None:
    secret = cards.card_secret(KEY, PROGRAM, MEMBER, 0)
    step = cards.step_at(NOW) + offset_steps
    code = cards.code_for_step(secret, step)
    if outcome == "ok":
        assert cards.verify_code(secret, code, NOW) == step
    else:
        with pytest.raises(CardExpired if outcome == "expired" else CardInvalid):
            cards.verify_code(secret, code, NOW + timedelta(0))


@pytest.mark.parametrize(
    "text", ["", "L1:1234:12345678", "L1:9000000000000001:1234567", "L1:x:y:z", "l1:9:1"]
)
def test_malformed_payloads_are_invalid(text: str) -> None:
    with pytest.raises(CardInvalid):
        cards.parse_payload(text)
