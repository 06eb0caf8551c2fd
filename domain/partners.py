"""Partner deals: terms, what each side owes, and monthly statements."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvalidInput
from domain.model import EarnRate
from domain.rewards import Redemption
from domain.times import check_year, month_bounds

PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class PartnerTerms:
    """The deal: what purchases at the partner earn, and what each side pays the other."""

    earn_rate: EarnRate = field(default_factory=lambda: EarnRate(10, 100))
    # The partner pays the brand this much (minor units) per 100 points issued at it.
    price_per_100_points_minor: int = 0
    # The brand pays the partner this much (minor units) per voucher of its rewards used.
    payout_per_redemption_minor: int = 0
    # Whether the partner may edit its rewards' offer text and stock.
    may_edit_rewards: bool = False


@dataclass(frozen=True)
class SettlementEntry:
    """One line of the partner ledger, valued exactly at the terms of the day.

    `amount_hundredths` is in hundredths of a minor unit (> 0: the partner owes the brand):
    points are priced per 100, so an order of 1 point at 0.50 per 100 is worth exactly 0.5
    cent. Rounding happens once, on a period's total (`statement`), never per order.
    """

    id: uuid.UUID
    program_id: uuid.UUID
    partner_id: uuid.UUID
    kind: str  # POINTS_ISSUED | REDEMPTION
    points: int
    amount_hundredths: int
    reference: str
    occurred_at: datetime


@dataclass(frozen=True)
class Statement:
    partner_id: uuid.UUID
    period: str
    points_issued: int
    owed_by_partner_minor: int
    redemptions: int
    owed_to_partner_minor: int
    closed: bool

    @property
    def net_minor(self) -> int:
        """Positive: the partner pays the brand; negative: the brand pays the partner."""
        return self.owed_by_partner_minor - self.owed_to_partner_minor


def period_bounds(
    period: str, zone: str = "UTC", at: Sequence[str] = ("period",)
) -> tuple[datetime, datetime]:
    """A settlement period `YYYY-MM`: the month in the program's time zone, as [start, end)
    in UTC; INVALID_INPUT on the field `at`."""
    match = PERIOD.fullmatch(period)
    if not match:
        raise InvalidInput("period must look like 2026-11.", at)
    year, month = int(match.group(1)), int(match.group(2))
    check_year(year, at)
    return month_bounds(year, month, zone)


def issued_hundredths(points: int, terms: PartnerTerms) -> int:
    """The exact price of points issued at the partner, in hundredths of a minor unit."""
    return points * terms.price_per_100_points_minor


def to_minor(hundredths: int) -> int:
    """A period's total in minor units, rounded half up.

    Rounding each order (as once done) lost up to a cent per order: 40 orders of one point
    at 0.50 per 100 points owed nothing, one order of 40 points 0.20. Rounded once per
    period, the amount is the price of the period's points whatever the orders were, off
    by at most half a cent; half up, as commercial invoices round.
    """
    return (hundredths + 50) // 100


def statement(
    partner_id: uuid.UUID, period: str, entries: list[SettlementEntry], closed: bool
) -> Statement:
    """Totals of a period's settlement entries, each side priced once (`to_minor`). The
    open statement and the one frozen by closing the period come from here alike."""
    issued = [e for e in entries if e.kind == "POINTS_ISSUED"]
    redeemed = [e for e in entries if e.kind == "REDEMPTION"]
    return Statement(
        partner_id=partner_id,
        period=period,
        points_issued=sum(e.points for e in issued),
        owed_by_partner_minor=to_minor(sum(e.amount_hundredths for e in issued)),
        redemptions=len(redeemed),
        owed_to_partner_minor=to_minor(-sum(e.amount_hundredths for e in redeemed)),
        closed=closed,
    )


@dataclass(frozen=True)
class PartnerRedemptionRow:
    """A redemption of a partner's reward with only what a voucher needs of the member."""

    redemption: Redemption
    card_number: str
    display_name: str | None


@dataclass(frozen=True)
class RewardStats:
    reward_id: uuid.UUID
    redemptions: int
    points_spent: int
    used: int
    issued: int
