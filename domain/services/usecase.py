"""What use cases share: the caller's program, the member they may reach, the idempotency
key claimed in the transaction of its effect (see domain/idempotency.py), the wallet held
against other writers, the audit record, and the tier a member reaches at once.

Every service imports these from here, never from another service.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from domain import audit, tiers
from domain.access import ensure_may_reach_member
from domain.errors import (
    DomainError,
    InvalidInput,
    MemberBlocked,
    NotAuthenticated,
    NotFound,
    RateLimited,
)
from domain.events import TierChanged, TierChangeReason
from domain.idempotency import fingerprint, replay, validate_key
from domain.model import Member, Principal, Program, Role, Tier, Wallet
from domain.ports import UnitOfWork
from domain.times import utc_time

KEY_FIELD = ("input", "idempotencyKey")
# A till's clock may run a little ahead; a purchase further in the future is a bug.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_BACKDATE = timedelta(days=366)
MAX_FAILED_SCANS = 10  # per actor (staff member at a store, partner user) and action, a minute
FAILED_SCAN_WINDOW = timedelta(minutes=1)


# The program


async def program_of(uow: UnitOfWork, principal: Principal) -> Program:
    """The program the caller's token is scoped to; a token for no program is not valid."""
    program = await uow.programs.get_by_slug(principal.program_slug)
    if program is None:
        raise NotAuthenticated("The token's program does not exist.")
    return program


async def program_and_tiers(uow: UnitOfWork, principal: Principal) -> tuple[Program, list[Tier]]:
    """The caller's program and its tiers (lowest rank first), read together."""
    found = await uow.programs.get_with_tiers(principal.program_slug)
    if found is None:
        raise NotAuthenticated("The token's program does not exist.")
    return found


# The member and their wallet


async def member_for(
    uow: UnitOfWork,
    principal: Principal,
    program: Program,
    member_id: uuid.UUID,
    field: tuple[str, ...],
    now: datetime,
    *,
    order: bool = False,
) -> Member:
    """A member the caller may reach (`access.may_reach_member`, for an order call with
    `order`): NOT_FOUND when unknown or another member's, FORBIDDEN for staff without an
    open window."""
    member = await uow.members.get(program.id, member_id)
    hidden = NotFound("No such member.", field)
    if member is None:
        raise hidden
    await ensure_may_reach_member(uow, principal, member, now, hidden, order=order)
    return member


def ensure_active(member: Member) -> None:
    """Blocked members neither earn nor spend."""
    if member.blocked:
        raise MemberBlocked("This member is blocked.")


async def wallet_of(uow: UnitOfWork, program: Program, member_id: uuid.UUID) -> Wallet:
    """The member's wallet as committed now."""
    wallet = await uow.ledger.wallet(program.id, member_id)
    if wallet is None:
        raise NotFound("The member has no wallet.")
    return wallet


async def locked_wallet(uow: UnitOfWork, program: Program, member_id: uuid.UUID) -> Wallet:
    """The wallet, held against every other writer until this transaction ends."""
    wallet = await uow.ledger.wallet(program.id, member_id, lock=True)
    if wallet is None:
        raise NotFound("The member has no wallet.")
    return wallet


def purchase_time(occurred_at: datetime | None, now: datetime) -> datetime:
    """When a purchase happened: now unless given, a little ahead at most, a year back at most."""
    if occurred_at is None:
        return now
    field = ("input", "occurredAt")
    occurred_at = utc_time(occurred_at, field)
    if occurred_at > now + FUTURE_TOLERANCE:
        raise InvalidInput("A purchase cannot lie in the future.", field)
    if occurred_at < now - MAX_BACKDATE:
        raise InvalidInput("A purchase older than a year cannot be credited.", field)
    return occurred_at


async def upgrade_if_reached(
    uow: UnitOfWork, program: Program, member: Member, all_tiers: list[Tier], now: datetime
) -> Tier | None:
    """Lift the member at once to the tier their qualifying points now reach."""
    current = tiers.current_tier(all_tiers, member)
    if all(t.rank <= current.rank for t in all_tiers):
        return None  # already in the highest tier: nothing to count
    start, _ = tiers.qualifying_window(program.policy.qualifying, now, program.time_zone)
    qualifying = (
        await uow.ledger.qualifying_points(program.id, [member.id], start, tiers.QUALIFYING_KINDS)
    ).get(member.id, 0)
    higher = tiers.upgrade(all_tiers, current, qualifying)
    if higher is not None:
        until = tiers.kept_until(program.policy.qualifying, now, program.time_zone)
        await change_tier(uow, member, current, higher, until, TierChangeReason.UPGRADE, now)
    return higher


async def change_tier(
    uow: UnitOfWork,
    member: Member,
    current: Tier,
    new: Tier,
    valid_until: datetime | None,
    reason: TierChangeReason,
    now: datetime,
) -> None:
    """Put the member in `new` until `valid_until` (None: for good); a move to another tier
    is announced as a TierChanged once the transaction commits."""
    await uow.members.set_tier(member.program_id, member.id, new.id, valid_until)
    if new.id != current.id:
        uow.record(TierChanged(member.program_id, member.id, new.id, current.id, reason, now))


# Idempotency keys


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
    found = await uow.idempotency.claim(program.id, scope, key, digest, now)
    if found is None:
        return None
    return dict(replay(found, digest, field))


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


# The audit


async def record(
    uow: UnitOfWork,
    principal: Principal,
    program: Program,
    member: Member | None,
    action: str,
    now: datetime,
    detail: str = "",
) -> None:
    """Audit a staff, partner or web shop action in the same transaction as the action."""
    if principal.role in (Role.STAFF, Role.PARTNER, Role.SHOP):
        await uow.instore.add_audit(
            audit.event(
                principal, program.id, member.id if member else None, action, audit.OK, now, detail
            )
        )


async def refuse(
    uow: UnitOfWork,
    principal: Principal,
    program: Program,
    action: str,
    error: DomainError,
    now: datetime,
    member: Member | None = None,
) -> DomainError:
    """Record the failed attempt (and commit that record) before reporting the error.
    Whatever else the transaction wrote must be undone by the caller first."""
    await uow.instore.add_audit(
        audit.event(principal, program.id, member.id if member else None, action, error.code, now)
    )
    await uow.commit()
    return error


async def ensure_not_flooding(
    uow: UnitOfWork, principal: Principal, program: Program, action: str, now: datetime
) -> None:
    """RATE_LIMITED (and audited) after MAX_FAILED_SCANS failed `action`s of this actor in a
    minute. Call it before the attempt; report the attempt's failure through `refuse`."""
    # Held until this attempt's (success or failure) record is committed: concurrent
    # guesses are counted one after another, never all against the same old count.
    await uow.instore.hold_attempts(program.id, principal.actor, action)
    failures = await uow.instore.failures_since(
        program.id, principal.actor, action, now - FAILED_SCAN_WINDOW
    )
    if failures >= MAX_FAILED_SCANS:
        raise await refuse(
            uow,
            principal,
            program,
            action,
            RateLimited("Too many failed attempts; wait a minute.", ("input",)),
            now,
        )
