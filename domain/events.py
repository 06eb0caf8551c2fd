"""What happened, for live updates. Produced inside a unit of work and delivered only
after it commits (never for a rollback), in commit order per member."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class WalletChanged:
    """One committed change of a wallet; `version` is consecutive per wallet."""

    program_id: uuid.UUID
    member_id: uuid.UUID
    version: int
    delta: int
    balance: int
    pending: int
    entry_id: uuid.UUID | None
    tier_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RedemptionChanged:
    """A redemption was issued, used or cancelled (for the member and the reward's partner)."""

    program_id: uuid.UUID
    member_id: uuid.UUID
    redemption_id: uuid.UUID
    status: str
    partner_id: uuid.UUID | None = None


Event = WalletChanged | RedemptionChanged


def wallet_topic(member_id: uuid.UUID) -> str:
    return f"w:{member_id.hex}"


def member_redemptions_topic(member_id: uuid.UUID) -> str:
    return f"r:{member_id.hex}"


def partner_redemptions_topic(partner_id: uuid.UUID) -> str:
    return f"p:{partner_id.hex}"


def topics(event: Event) -> list[str]:
    """Where an event is delivered."""
    if isinstance(event, WalletChanged):
        return [wallet_topic(event.member_id)]
    found = [member_redemptions_topic(event.member_id)]
    if event.partner_id is not None:
        found.append(partner_redemptions_topic(event.partner_id))
    return found
