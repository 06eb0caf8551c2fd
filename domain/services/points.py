"""Crediting purchases and adjusting points: every change goes through the ledger rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain import ledger
from domain.access import require_role
from domain.contact import clean_text
from domain.errors import InvalidInput
from domain.idempotency import validate_key
from domain.model import EntryKind, Posting, Principal, Role, Wallet
from domain.ports import Clock, UnitOfWork
from domain.services.usecase import claim, locked_wallet, member_for, program_of, wallet_of

MAX_REASON = 500


# A till's clock may run a little ahead; a purchase further in the future is a bug.
@dataclass(frozen=True)
class AdjustPoints:
    member_id: uuid.UUID
    points: int
    reason: str
    idempotency_key: str


async def adjust_points(
    uow: UnitOfWork, clock: Clock, principal: Principal, command: AdjustPoints
) -> Wallet:
    """Admins correct a balance up or down with a reason; never below zero."""
    require_role(principal, Role.ADMIN)
    program = await program_of(uow, principal)
    now = clock.now()
    key = validate_key(command.idempotency_key, ("input", "idempotencyKey"))
    reason = clean_text(command.reason, ("input", "reason"), max_length=MAX_REASON, required=True)
    if command.points == 0 or abs(command.points) > ledger.MAX_POINTS_PER_CHANGE:
        raise InvalidInput(
            f"points must be non-zero and at most {ledger.MAX_POINTS_PER_CHANGE} either way.",
            ("input", "points"),
        )
    member = await member_for(
        uow, principal, program, command.member_id, ("input", "memberId"), now
    )
    request = {"member": str(member.id), "points": command.points, "reason": reason}
    previous = await claim(uow, program, "adjust", key, request, now, ("input", "idempotencyKey"))
    if previous is not None:
        return await wallet_of(uow, program, member.id)
    wallet = await locked_wallet(uow, program, member.id)
    common = {
        "kind": EntryKind.ADJUST,
        "now": now,
        "description": f"Adjustment: {reason}",
        "reference": f"adjust:{key}",
        "actor": principal.actor,
    }
    if command.points > 0:
        posting = ledger.credit(wallet, command.points, **common)  # type: ignore[arg-type]
    else:
        lots = await uow.ledger.open_lots(program.id, member.id)
        posting = ledger.debit(wallet, lots, -command.points, **common)  # type: ignore[arg-type]
    wallet = await _post(uow, posting, wallet)
    await uow.idempotency.complete(program.id, "adjust", key, {"version": wallet.version})
    await uow.commit()
    return wallet


async def _post(uow: UnitOfWork, posting: Posting, before: Wallet) -> Wallet:
    await uow.ledger.post(posting, previous_version=before.version)
    return posting.wallet
