"""The rules of the points ledger: how credits and debits change a wallet and its lots.

Pure functions: they take the current wallet and lots, and return the `Posting` a
repository writes in one transaction. Invariants they keep:

* `wallet.balance == sum(entry.points)` over the member's available entries;
* `wallet.balance == sum(lot.remaining) - debt`, where debt is what a reversal
  took beyond the remaining lots (a negative balance that later credits repay first);
* an ordinary debit never takes the balance below zero;
* `wallet.balance + wallet.pending <= MAX_BALANCE` after every credit and release.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.errors import InsufficientPoints, InvalidInput, LimitReached
from domain.model import (
    EntryKind,
    ExpiryPolicy,
    LedgerEntry,
    Lot,
    LotTake,
    PointsPolicy,
    Posting,
    Wallet,
    new_id,
)
from domain.tiers import add_months

# A single change beyond this is a typo or an attack, not a loyalty transaction.
MAX_POINTS_PER_CHANGE = 1_000_000_000
# Balances are GraphQL Ints (32-bit); no wallet may grow past this, counting what is
# pending: a held credit becomes balance when the release job runs, so a credit that
# fits only while its points wait would later make an unreadable wallet.
MAX_BALANCE = 2_000_000_000

# REDEEM credits only when a redemption is cancelled and its points come back.
CREDIT_KINDS = frozenset(
    {
        EntryKind.EARN,
        EntryKind.BONUS,
        EntryKind.ADJUST,
        EntryKind.REDEEM,
        EntryKind.REFERRAL,
        EntryKind.CHALLENGE,
        EntryKind.ACTION,
    }
)
DEBIT_KINDS = frozenset({EntryKind.REDEEM, EntryKind.EXPIRE, EntryKind.ADJUST, EntryKind.REVERSAL})
# Kinds that count towards lifetime earned points.
EARNING_KINDS = frozenset(
    {EntryKind.EARN, EntryKind.BONUS, EntryKind.REFERRAL, EntryKind.CHALLENGE, EntryKind.ACTION}
)


def _entry(
    wallet: Wallet,
    kind: EntryKind,
    points: int,
    description: str,
    reference: str,
    actor: str,
    now: datetime,
) -> LedgerEntry:
    return LedgerEntry(
        id=new_id(),
        program_id=wallet.program_id,
        member_id=wallet.member_id,
        version=wallet.version,
        kind=kind,
        points=points,
        balance_after=wallet.balance,
        description=description,
        reference=reference,
        actor=actor,
        occurred_at=now,
    )


def credit(
    wallet: Wallet,
    points: int,
    *,
    kind: EntryKind,
    now: datetime,
    description: str,
    reference: str,
    actor: str,
    expires_at: datetime | None = None,
    available_at: datetime | None = None,
) -> Posting:
    """Add points as a new lot; a negative balance (debt) is repaid first.

    With `available_at` in the future the points are pending (a hold period): counted in
    `pending`, not spendable, and released by the jobs when the hold ends.
    """
    if available_at is not None and available_at > now:
        return _held_credit(
            wallet, points, kind, now, description, reference, actor, expires_at, available_at
        )
    return credit_portions(
        wallet,
        [(points, expires_at)],
        kind=kind,
        now=now,
        description=description,
        reference=reference,
        actor=actor,
    )


def _check_room(wallet: Wallet, points: int, lifetime: int) -> None:
    """LIMIT_REACHED when `points` more (spendable or pending) would not fit the wallet."""
    if wallet.balance + wallet.pending + points > MAX_BALANCE or lifetime > MAX_BALANCE:
        raise LimitReached(
            f"A wallet cannot hold more than {MAX_BALANCE} points, pending ones included."
        )


def _held_credit(
    wallet: Wallet,
    points: int,
    kind: EntryKind,
    now: datetime,
    description: str,
    reference: str,
    actor: str,
    expires_at: datetime | None,
    available_at: datetime,
) -> Posting:
    if kind not in CREDIT_KINDS:
        raise ValueError(f"{kind} is not a credit")
    if not 0 < points <= MAX_POINTS_PER_CHANGE:
        raise InvalidInput(f"A credit must be between 1 and {MAX_POINTS_PER_CHANGE} points.")
    lifetime = wallet.lifetime_earned + (points if kind in EARNING_KINDS else 0)
    _check_room(wallet, points, lifetime)
    after = replace(
        wallet,
        pending=wallet.pending + points,
        lifetime_earned=lifetime,
        version=wallet.version + 1,
    )
    entry = _entry(after, kind, points, description, reference, actor, now)
    lot = Lot(
        id=new_id(),
        program_id=wallet.program_id,
        member_id=wallet.member_id,
        points=points,
        remaining=points,
        available_at=available_at,
        expires_at=expires_at,
        created_at=now,
        held=True,
    )
    return Posting(entry=entry, wallet=after, new_lots=[lot])


def credit_portions(
    wallet: Wallet,
    portions: Sequence[tuple[int, datetime | None]],
    *,
    kind: EntryKind,
    now: datetime,
    description: str,
    reference: str,
    actor: str,
) -> Posting:
    """One credit entry whose points land in several lots, each with its own expiry
    (a cancelled redemption gives points back with the expiries they had)."""
    if kind not in CREDIT_KINDS:
        raise ValueError(f"{kind} is not a credit")
    if not portions or any(p <= 0 for p, _ in portions):
        raise InvalidInput("Every portion of a credit must be positive.")
    points = sum(p for p, _ in portions)
    if points > MAX_POINTS_PER_CHANGE:
        raise InvalidInput(f"A credit must be between 1 and {MAX_POINTS_PER_CHANGE} points.")
    debt = max(0, -wallet.balance)
    lifetime = wallet.lifetime_earned + (points if kind in EARNING_KINDS else 0)
    _check_room(wallet, points, lifetime)
    after = replace(
        wallet,
        balance=wallet.balance + points,
        lifetime_earned=lifetime,
        version=wallet.version + 1,
    )
    entry = _entry(after, kind, points, description, reference, actor, now)
    lots = []
    for portion, expires_at in portions:
        repaid = min(debt, portion)  # debt is repaid from the first portions
        debt -= repaid
        lots.append(
            Lot(
                id=new_id(),
                program_id=wallet.program_id,
                member_id=wallet.member_id,
                points=portion,
                remaining=portion - repaid,
                available_at=now,
                expires_at=expires_at,
                created_at=now,
            )
        )
    return Posting(entry=entry, wallet=after, new_lots=lots)


def spend_order(lots: Sequence[Lot], now: datetime) -> list[Lot]:
    """Available lots in the order debits consume them: soonest expiry first, then oldest."""
    usable = [lot for lot in lots if lot.remaining > 0 and not lot.held]
    far_future = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(usable, key=lambda lot: (lot.expires_at or far_future, lot.created_at))


def plan_takes(lots: Sequence[Lot], points: int, now: datetime) -> list[LotTake]:
    """Which lots a debit of `points` draws on, and how much from each (may fall short)."""
    takes: list[LotTake] = []
    left = points
    for lot in spend_order(lots, now):
        if left == 0:
            break
        take = min(lot.remaining, left)
        takes.append(LotTake(lot_id=lot.id, points=take))
        left -= take
    return takes


def debit(
    wallet: Wallet,
    lots: Sequence[Lot],
    points: int,
    *,
    kind: EntryKind,
    now: datetime,
    description: str,
    reference: str,
    actor: str,
    allow_negative: bool = False,
) -> Posting:
    """Take points, soonest-expiring lots first.

    Only a reversal (`allow_negative`) may take more than the balance: the shortfall
    becomes a visible negative balance instead of silently vanishing.
    """
    if kind not in DEBIT_KINDS:
        raise ValueError(f"{kind} is not a debit")
    if not 0 < points <= MAX_POINTS_PER_CHANGE:
        raise InvalidInput(f"A debit must be between 1 and {MAX_POINTS_PER_CHANGE} points.")
    if not allow_negative and wallet.balance < points:
        raise InsufficientPoints(
            f"The balance is {max(wallet.balance, 0)} points; {points} are needed."
        )
    takes = plan_takes(lots, points, now)
    lifetime = wallet.lifetime_earned
    if kind is EntryKind.REVERSAL:
        lifetime = max(0, lifetime - points)
    after = replace(
        wallet,
        balance=wallet.balance - points,
        lifetime_earned=lifetime,
        version=wallet.version + 1,
    )
    entry = _entry(after, kind, -points, description, reference, actor, now)
    return Posting(entry=entry, wallet=after, takes=takes)


def reverse(
    wallet: Wallet,
    own_lots: Sequence[Lot],
    other_lots: Sequence[Lot],
    points: int,
    *,
    now: datetime,
    description: str,
    reference: str,
    actor: str,
) -> Posting:
    """Take back points a refunded purchase earned: from that purchase's own lots first
    (pending ones lower `pending`), then from other spendable lots; what was already spent
    becomes a visible negative balance that later credits repay first."""
    if not 0 < points <= MAX_POINTS_PER_CHANGE:
        raise InvalidInput(f"A reversal must be between 1 and {MAX_POINTS_PER_CHANGE} points.")
    takes: list[LotTake] = []
    left = points
    from_pending = 0
    for lot in sorted(own_lots, key=lambda lot: lot.created_at):
        take = min(lot.remaining, left)
        if take > 0:
            takes.append(LotTake(lot_id=lot.id, points=take))
            left -= take
            from_pending += take if lot.held else 0
    own_ids = {lot.id for lot in own_lots}
    rest = [lot for lot in other_lots if lot.id not in own_ids]
    takes += plan_takes(rest, left, now) if left else []
    from_balance = points - from_pending
    after = replace(
        wallet,
        balance=wallet.balance - from_balance,
        pending=wallet.pending - from_pending,
        lifetime_earned=max(0, wallet.lifetime_earned - points),
        version=wallet.version + 1,
    )
    entry = _entry(after, EntryKind.REVERSAL, -points, description, reference, actor, now)
    return Posting(entry=entry, wallet=after, takes=takes)


@dataclass(frozen=True)
class Release:
    """Held lots whose hold has ended become spendable (debt is repaid from them first)."""

    wallet: Wallet
    released: dict[uuid.UUID, int]  # lot id -> remaining after repaying debt
    points: int


def release(wallet: Wallet, held_lots: Sequence[Lot], now: datetime) -> Release | None:
    """Move the points of lots whose hold ended from `pending` to `balance`.

    A due lot that would take the balance past MAX_BALANCE stays pending (oldest lots are
    released first): capping would destroy earned points without an entry to show for
    them, while a pending lot stays visible and is released by a later run once spending
    has made room. Credits check balance + pending, so only wallets written before that
    rule can hold such lots; `fits_release` tells the jobs which wallets can move at all.
    """
    due = sorted(
        (lot for lot in held_lots if lot.held and lot.available_at <= now),
        key=lambda lot: (lot.available_at, lot.created_at),
    )
    room = MAX_BALANCE - wallet.balance
    fitting = []
    for lot in due:
        if fits_release(lot.remaining, room):
            fitting.append(lot)
            room -= lot.remaining
    if not fitting:
        return None
    points = sum(lot.remaining for lot in fitting)
    debt = max(0, -wallet.balance)
    remaining: dict[uuid.UUID, int] = {}
    for lot in fitting:
        repaid = min(debt, lot.remaining)
        debt -= repaid
        remaining[lot.id] = lot.remaining - repaid
    after = replace(
        wallet,
        balance=wallet.balance + points,
        pending=wallet.pending - points,
        version=wallet.version + 1,
    )
    return Release(wallet=after, released=remaining, points=points)


def fits_release(lot_points: int, room: int) -> bool:
    """A held lot of `lot_points` may be released into a wallet with `room` left
    (MAX_BALANCE - balance); the release job's due query states the same in SQL."""
    return lot_points <= room


def lot_expiry(policy: PointsPolicy, now: datetime, zone: str) -> datetime | None:
    """When points credited now expire under the policy (None: not per lot); a month's end
    is midnight in the program's zone."""
    if policy.expiry is not ExpiryPolicy.AFTER_EARNING:
        return None
    return add_months(now, policy.expiry_months, to_month_end=policy.expiry_month_end, zone=zone)


def expired_lots(lots: Sequence[Lot], policy: PointsPolicy, now: datetime) -> list[Lot]:
    """The spendable lots whose points expire now: past their date (AFTER_EARNING), or all
    of them once the wallet has been idle long enough (INACTIVITY: the job asks only then)."""
    if policy.expiry is ExpiryPolicy.NONE:
        return []
    spendable = [lot for lot in lots if not lot.held and lot.remaining > 0]
    if policy.expiry is ExpiryPolicy.INACTIVITY:
        return spendable
    return [lot for lot in spendable if lot.expires_at is not None and lot.expires_at <= now]


def apply_takes(lots: Sequence[Lot], takes: Sequence[LotTake]) -> list[Lot]:
    """The lots after a posting's takes (used by in-memory models and tests)."""
    by_id: dict[uuid.UUID, int] = {}
    for take in takes:
        by_id[take.lot_id] = by_id.get(take.lot_id, 0) + take.points
    return [replace(lot, remaining=lot.remaining - by_id.get(lot.id, 0)) for lot in lots]


EXPIRY_DESCRIPTION = "Points expired"


def expiring_points(wallet: Wallet, due: int) -> int:
    """What of the `due` points left in a wallet's expired lots actually expires: never more
    than the balance, so a wallet in debt, or holding less than its lots (after reversals),
    loses only what its balance allows (and nothing at all at zero or below)."""
    return max(0, min(due, wallet.balance))


def expire(
    wallet: Wallet, expired: Sequence[Lot], points: int, *, now: datetime, actor: str
) -> Posting:
    """The EXPIRE entry for `points` (from `expiring_points`), taken from `expired`
    (`expired_lots`) soonest-expiring first. When every expired lot goes to zero
    (`points` is all that is due), a set-based caller may pass no lots and empty them itself:
    the posting then carries no takes."""
    return debit(
        wallet,
        expired,
        points,
        kind=EntryKind.EXPIRE,
        now=now,
        description=EXPIRY_DESCRIPTION,
        reference=f"expiry:{now.date().isoformat()}",
        actor=actor,
    )
