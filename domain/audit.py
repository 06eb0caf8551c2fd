"""The audit trail of in-store, partner and web shop actions: who, from where, on whom, what,
outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain.model import Principal, new_id

OK = "OK"


@dataclass(frozen=True)
class AuditEvent:
    id: uuid.UUID
    program_id: uuid.UUID
    actor: str
    role: str
    store: str | None
    member_id: uuid.UUID | None
    action: str
    outcome: str
    detail: str
    occurred_at: datetime


def event(
    principal: Principal,
    program_id: uuid.UUID,
    member_id: uuid.UUID | None,
    action: str,
    outcome: str,
    now: datetime,
    detail: str = "",
) -> AuditEvent:
    """An audit event for what `principal` just did (outcome OK or an error code)."""
    return AuditEvent(
        id=new_id(),
        program_id=program_id,
        actor=principal.actor,
        role=principal.role.value,
        store=principal.store,
        member_id=member_id,
        action=action,
        outcome=outcome,
        detail=detail[:500],
        occurred_at=now,
    )
