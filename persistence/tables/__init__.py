"""All tables, one module per concern. Importing the package registers them all for Alembic."""

from persistence.tables.actions import ActionRecordRow, EarningActionRow
from persistence.tables.challenges import (
    BadgeRow,
    ChallengeProgressRow,
    ChallengeRow,
    MemberBadgeRow,
)
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
from persistence.tables.leaderboard import (
    LeaderboardOptInRow,
    LeaderboardPayoutRow,
    LeaderboardRoundRow,
    LeaderboardSettingsRow,
)
from persistence.tables.limits import CostBucketRow
from persistence.tables.partners import ClosedStatementRow, PartnerTermsRow, SettlementEntryRow
from persistence.tables.payments import PointsPaymentRow, PointsPaymentTakeRow
from persistence.tables.purchases import CampaignRow, PurchaseRow
from persistence.tables.referrals import (
    MemberSignalRow,
    ReferralMilestoneRow,
    ReferralRow,
    ReferralSettingsRow,
)
from persistence.tables.rewards import PartnerRow, RedemptionRow, RedemptionTakeRow, RewardRow

__all__ = [
    "ActionRecordRow",
    "AuditEventRow",
    "BadgeRow",
    "CampaignRow",
    "ChallengeProgressRow",
    "ChallengeRow",
    "ClosedStatementRow",
    "CostBucketRow",
    "EarningActionRow",
    "IdempotencyKeyRow",
    "LeaderboardOptInRow",
    "LeaderboardPayoutRow",
    "LeaderboardRoundRow",
    "LeaderboardSettingsRow",
    "LedgerEntryRow",
    "LotRow",
    "MemberBadgeRow",
    "MemberRow",
    "MemberSignalRow",
    "PartnerRow",
    "PartnerTermsRow",
    "PointsPaymentRow",
    "PointsPaymentTakeRow",
    "ProgramRow",
    "PurchaseRow",
    "RedemptionRow",
    "RedemptionTakeRow",
    "ReferralMilestoneRow",
    "ReferralRow",
    "ReferralSettingsRow",
    "RewardRow",
    "SettlementEntryRow",
    "StaffWindowRow",
    "TierRow",
    "WalletRow",
    "metadata",
]
