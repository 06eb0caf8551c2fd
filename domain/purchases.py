"""What an order earned, kept so that refunds can take back exactly their share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.earning import EarnBreakdown


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
    # How it earned, line by line (None for orders recorded before lines were kept), and
    # how many units of each line refunds have taken back so far.
    earning: EarnBreakdown | None = None
    refunded_quantities: tuple[int, ...] = ()

    @property
    def line_refunded_minor(self) -> int:
        """Money of the units refunded by line (the rest of `refunded_minor` named no lines)."""
        if self.earning is None:
            return 0
        return sum(
            line.amount_minor - line.amount_for(line.quantity - refunded)
            for line, refunded in zip(self.earning.lines, self.refunded_quantities, strict=True)
        )
