"""What an order earned, kept so that refunds can take back exactly their share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class PurchaseRecord:
    id: uuid.UUID
    member_id: uuid.UUID
    order_id: str
    amount_minor: int
    currency: str
    points: int  # EARN plus BONUS
    refunded_minor: int
    reversed_points: int
    entry_ids: tuple[uuid.UUID, ...]
