"""Validation and normalisation of what a member tells us about themself."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from domain.errors import InvalidInput

MAX_DISPLAY_NAME = 80
MAX_EMAIL = 254
MAX_PHONE_INPUT = 32
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def validate_slug(slug: str, field: tuple[str, ...]) -> str:
    """Lower-case letters, digits and inner hyphens, 1 to 40 characters."""
    if not SLUG.match(slug):
        raise InvalidInput(
            "Use 1-40 lower-case letters, digits and inner hyphens, e.g. 'coffee-club'.", field
        )
    return slug


def clean_text(
    value: str | None, field: tuple[str, ...], *, max_length: int, required: bool = False
) -> str | None:
    """Strip a free-text value; reject control characters and oversize input."""
    if value is None:
        if required:
            raise InvalidInput("This field is required.", field)
        return None
    text = value.strip()
    if not text:
        if required:
            raise InvalidInput("This field must not be blank.", field)
        return None
    if len(text) > max_length:
        raise InvalidInput(f"At most {max_length} characters are allowed.", field)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidInput("Control characters are not allowed.", field)
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InvalidInput("Text must be valid Unicode (a lone surrogate is not).", field)
    return text


def normalise_email(value: str | None, field: tuple[str, ...]) -> str | None:
    """A syntactically valid address, domain lower-cased; None stays None."""
    text = clean_text(value, field, max_length=MAX_EMAIL)
    if text is None:
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(f"Not a valid email address: {error}", field) from None
    return str(result.normalized)


def normalise_phone(value: str | None, field: tuple[str, ...]) -> str | None:
    """A phone number in E.164 (`+4915123456789`). International format is required."""
    text = clean_text(value, field, max_length=MAX_PHONE_INPUT)
    if text is None:
        return None
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            "Not a phone number; use international format, e.g. +4915123456789.", field
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("Not a valid phone number.", field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_birthday(value: date | None, today: date, field: tuple[str, ...]) -> date | None:
    """A birthday in the past, and not before 1900."""
    if value is None:
        return None
    if value > today:
        raise InvalidInput("A birthday cannot be in the future.", field)
    if value.year < 1900:
        raise InvalidInput("A birthday before 1900 is not plausible.", field)
    return value
