"""Claiming idempotency keys in the transaction of their effect (see domain/idempotency.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.idempotency import fingerprint, replay, validate_key
from domain.model import Program
from domain.ports import UnitOfWork

KEY_FIELD = ("input", "idempotencyKey")


async def claim(
    uow: UnitOfWork,
    program: Program,
    scope: str,
    key: str,
    request: Mapping[str, object],
    now: datetime,
    field: tuple[str, ...],
) -> dict[str, Any] | None:
    """None when the key is new (and now ours); the stored answer when it is a retry."""
    digest = fingerprint(request)
    record = await uow.idempotency.claim(program.id, scope, key, digest, now)
    if record is None:
        return None
    return dict(replay(record, digest, field))


async def claim_optional(
    uow: UnitOfWork,
    program: Program,
    scope: str,
    key: str | None,
    request: Mapping[str, object],
    now: datetime,
) -> tuple[str | None, dict[str, Any] | None]:
    """For writes whose key is optional (the create mutations): the validated key (None
    without one) and, on a retry with the same request, the first answer. The same key
    for a different request is IDEMPOTENCY_CONFLICT."""
    if key is None:
        return None, None
    valid = validate_key(key, KEY_FIELD)
    return valid, await claim(uow, program, scope, valid, request, now, KEY_FIELD)


async def complete_optional(
    uow: UnitOfWork, program: Program, scope: str, key: str | None, response: Mapping[str, Any]
) -> None:
    """Store the answer for a claimed optional key (nothing without a key)."""
    if key is not None:
        await uow.idempotency.complete(program.id, scope, key, response)
