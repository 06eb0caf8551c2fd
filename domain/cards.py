"""Card numbers (Luhn), referral codes, and the QR member card's one-time codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp

from domain.errors import CardExpired, CardInvalid

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


# --- The QR member card: a time-based one-time code (RFC 6238) from a per-card secret. ---

PAYLOAD_VERSION = "L1"
TOTP_DIGITS = 8
TOTP_STEP_SECONDS = 30
TOTP_ALGORITHM = "SHA1"  # what every authenticator library implements
DRIFT_STEPS = 1  # a till clock or phone clock may be one step off either way
EXPIRED_STEPS = 20  # a code up to ten minutes old is "expired", older is "invalid"


def card_secret(key: bytes, program_id: uuid.UUID, member_id: uuid.UUID, generation: int) -> bytes:
    """The card's TOTP secret, derived from the server's card key: nothing to leak in a dump.

    A new `generation` (the member asked for a new secret) makes a new, unrelated secret.
    """
    message = f"card:{program_id.hex}:{member_id.hex}:{generation}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:20]


def secret_base32(secret: bytes) -> str:
    return base64.b32encode(secret).decode().rstrip("=")


def _totp(secret: bytes) -> pyotp.TOTP:
    return pyotp.TOTP(
        secret_base32(secret), digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS, digest=hashlib.sha1
    )


def step_at(now: datetime) -> int:
    """The RFC 6238 time step containing `now`."""
    return int(now.timestamp()) // TOTP_STEP_SECONDS


def code_for_step(secret: bytes, step: int) -> str:
    return _totp(secret).generate_otp(step)


def card_payload(card_number: str, secret: bytes, now: datetime) -> tuple[str, datetime]:
    """The text for the QR code now, e.g. `L1:9123456789012345:48213377`, and when it turns."""
    step = step_at(now)
    expires = datetime.fromtimestamp((step + 1) * TOTP_STEP_SECONDS, tz=UTC)
    return f"{PAYLOAD_VERSION}:{card_number}:{code_for_step(secret, step)}", expires


@dataclass(frozen=True)
class ScannedCode:
    card_number: str
    code: str


def parse_payload(text: str) -> ScannedCode:
    """Split a scanned payload; CARD_INVALID for anything that is not one of ours."""
    parts = text.strip().split(":") if len(text) <= 100 else []
    if (
        len(parts) != 3
        or parts[0] != PAYLOAD_VERSION
        or not is_valid_card_number(parts[1])
        or len(parts[2]) != TOTP_DIGITS
        or not parts[2].isdigit()
    ):
        raise CardInvalid("This is not a member card code.", ("input", "payload"))
    return ScannedCode(card_number=parts[1], code=parts[2])


def verify_code(secret: bytes, code: str, now: datetime) -> int:
    """The step the code belongs to, within one step of drift.

    CARD_EXPIRED for a code of this card up to ten minutes old (the app showed a stale
    code), CARD_INVALID for anything else. Comparisons are constant-time.
    """
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_for_step(secret, step), code):
            return step
    for step in range(current - EXPIRED_STEPS, current - DRIFT_STEPS):
        if hmac.compare_digest(code_for_step(secret, step), code):
            raise CardExpired("This code is too old; ask for a fresh one.", ("input", "payload"))
    raise CardInvalid("This code does not verify.", ("input", "payload"))
