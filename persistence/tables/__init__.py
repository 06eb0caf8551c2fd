"""All tables, one module per concern. Importing the package registers them all for Alembic."""

from persistence.tables.core import (
    IdempotencyKeyRow,
    LedgerEntryRow,
    LotRow,
    MemberRow,
    ProgramRow,
    TierRow,
    WalletRow,
    metadata,
)
from persistence.tables.instore import AuditEventRow, StaffWindowRow
from persistence.tables.purchases import CampaignRow, PurchaseRow
from persistence.tables.rewards import PartnerRow, RedemptionRow, RedemptionTakeRow, RewardRow

__all__ = [
    "AuditEventRow",
    "CampaignRow",
    "IdempotencyKeyRow",
    "LedgerEntryRow",
    "LotRow",
    "MemberRow",
    "PartnerRow",
    "ProgramRow",
    "PurchaseRow",
    "RedemptionRow",
    "RedemptionTakeRow",
    "RewardRow",
    "StaffWindowRow",
    "TierRow",
    "WalletRow",
    "metadata",
]
