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

__all__ = [
    "IdempotencyKeyRow",
    "LedgerEntryRow",
    "LotRow",
    "MemberRow",
    "ProgramRow",
    "TierRow",
    "WalletRow",
    "metadata",
]
