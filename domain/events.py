"""What happened, for live updates. Produced inside a unit of work and delivered only
after it commits (never for a rollback), in commit order per member."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.model import Posting, Wallet


@dataclass(frozen=True)
class WalletChanged:
    """One committed change of a wallet; `version` is consecutive per wallet (a change that
    moves no points, such as a tier evaluation, repeats the version)."""

    program_id: uuid.UUID
    member_id: uuid.UUID
    version: int
    delta: int
    balance: int
    pending: int
    entry_id: uuid.UUID | None


def wallet_changed(wallet: Wallet, delta: int, entry_id: uuid.UUID | None = None) -> WalletChanged:
    """The wallet as it is now, changed by `delta` (by the ledger entry `entry_id`, if any)."""
    return WalletChanged(
        program_id=wallet.program_id,
        member_id=wallet.member_id,
        version=wallet.version,
        delta=delta,
        balance=wallet.balance,
        pending=wallet.pending,
        entry_id=entry_id,
    )


def posted(posting: Posting) -> WalletChanged:
    """What a posting announces once its transaction commits: every posting does."""
    return wallet_changed(posting.wallet, posting.entry.points, posting.entry.id)


class TierChangeReason(StrEnum):
    UPGRADE = "upgrade"  # qualifying points reached a higher tier
    EVALUATION = "evaluation"  # a period ended
    REFUND = "refund"  # a refund took back the points that reached it
    PAID = "paid"  # the member bought a tier


@dataclass(frozen=True)
class TierChanged:
    """A member moved to another tier (up or down)."""

    program_id: uuid.UUID
    member_id: uuid.UUID
    tier_id: uuid.UUID
    previous_tier_id: uuid.UUID
    reason: TierChangeReason
    at: datetime


@dataclass(frozen=True)
class RedemptionChanged:
    """A redemption was issued, used or cancelled (for the member and the reward's partner)."""

    program_id: uuid.UUID
    member_id: uuid.UUID
    redemption_id: uuid.UUID
    status: str
    partner_id: uuid.UUID | None = None


Event = WalletChanged | TierChanged | RedemptionChanged


def wallet_topic(member_id: uuid.UUID) -> str:
    return f"w:{member_id.hex}"


def tier_topic(member_id: uuid.UUID) -> str:
    return f"t:{member_id.hex}"


def member_redemptions_topic(member_id: uuid.UUID) -> str:
    return f"r:{member_id.hex}"


def partner_redemptions_topic(partner_id: uuid.UUID) -> str:
    return f"p:{partner_id.hex}"


def topics(event: Event) -> list[str]:
    """Where an event is delivered."""
    if isinstance(event, WalletChanged):
        return [wallet_topic(event.member_id)]
    if isinstance(event, TierChanged):
        return [tier_topic(event.member_id)]
    found = [member_redemptions_topic(event.member_id)]
    if event.partner_id is not None:
        found.append(partner_redemptions_topic(event.partner_id))
    return found
