"""Paying for an order with points at the till, and what such a payment drew on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PaymentTake:
    """Points a payment took from one lot, and the expiry they had there."""

    lot_id: uuid.UUID
    points: int
    expires_at: datetime | None


@dataclass
class PointsPayment:
    """Points turned into money off one order (once per order id); refunded at most once."""

    id: uuid.UUID
    program_id: uuid.UUID
    member_id: uuid.UUID
    order_id: str
    points: int
    amount_minor: int
    currency: str
    paid_at: datetime
    refunded_at: datetime | None = None
