"""Idempotency: the same key and request replays the answer; a different request conflicts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import IdempotencyConflict, InvalidInput

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class IdempotencyRecord:
    """A key already used in this program and scope: what was asked, what was answered."""

    scope: str
    key: str
    fingerprint: str
    response: Mapping[str, Any]


def validate_key(key: str, field: tuple[str, ...]) -> str:
    """Keys are opaque non-blank strings of printable characters, at most 200 long."""
    stripped = key.strip()
    if not stripped:
        raise InvalidInput("The key must not be blank.", field)
    if len(stripped) > MAX_KEY_LENGTH:
        raise InvalidInput(f"The key may have at most {MAX_KEY_LENGTH} characters.", field)
    if not stripped.isprintable():
        raise InvalidInput("The key must be printable text.", field)
    return stripped


def fingerprint(request: Mapping[str, Any]) -> str:
    """A stable digest of a request's meaning (key order and whitespace do not matter)."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(
    record: IdempotencyRecord, request_fingerprint: str, field: tuple[str, ...]
) -> Mapping[str, Any]:
    """The stored answer for a repeated request, or IDEMPOTENCY_CONFLICT if it differs."""
    if record.fingerprint != request_fingerprint:
        raise IdempotencyConflict(
            f"The key {record.key!r} was already used for a different request.", field
        )
    return record.response
