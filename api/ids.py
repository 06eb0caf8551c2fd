"""Opaque Relay global IDs: base64url of `Type:uuid`. Clients must treat them as strings."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence

from domain.errors import InvalidInput

MAX_ID_LENGTH = 100


def encode(type_name: str, value: uuid.UUID) -> str:
    raw = f"{type_name}:{value.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse(global_id: str) -> tuple[str, uuid.UUID] | None:
    """(type name, uuid), or None when the text is not one of our IDs."""
    if not global_id or len(global_id) > MAX_ID_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, value = raw.partition(":")
        return type_name, uuid.UUID(hex=value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def decode(global_id: str, type_name: str, field: Sequence[str]) -> uuid.UUID:
    """The uuid inside an ID of `type_name`, or INVALID_INPUT naming the field."""
    parsed = parse(global_id)
    if parsed is None or parsed[0] != type_name:
        raise InvalidInput(f"Not a valid {type_name} ID.", field)
    return parsed[1]
