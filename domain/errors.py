"""Every business or input failure the domain can report, each with one stable code.

The API turns these into payload `errors` (code, message, field path). Access
failures are separate (`AccessDenied`, `NotAuthenticated`): they become top-level
GraphQL errors, not payload errors.
"""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """A rule said no. Carries a stable code, a readable message and the input field."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field: tuple[str, ...] | None = tuple(field) if field else None


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class AlreadyEnrolled(DomainError):
    code = "ALREADY_ENROLLED"


class NotEnrolled(DomainError):
    code = "NOT_ENROLLED"


class MemberBlocked(DomainError):
    code = "MEMBER_BLOCKED"


class InsufficientPoints(DomainError):
    code = "INSUFFICIENT_POINTS"


class RewardUnavailable(DomainError):
    code = "REWARD_UNAVAILABLE"


class OutOfStock(DomainError):
    code = "OUT_OF_STOCK"


class LimitReached(DomainError):
    code = "LIMIT_REACHED"


class TierRequired(DomainError):
    code = "TIER_REQUIRED"


class CardInvalid(DomainError):
    code = "CARD_INVALID"


class CardExpired(DomainError):
    code = "CARD_EXPIRED"


class CardAlreadyUsed(DomainError):
    code = "CARD_ALREADY_USED"


class VoucherInvalid(DomainError):
    code = "VOUCHER_INVALID"


class VoucherAlreadyUsed(DomainError):
    code = "VOUCHER_ALREADY_USED"


class VoucherExpired(DomainError):
    code = "VOUCHER_EXPIRED"


class IdempotencyConflict(DomainError):
    code = "IDEMPOTENCY_CONFLICT"


class ReferralInvalid(DomainError):
    code = "REFERRAL_INVALID"


class ReferralNotHeld(DomainError):
    code = "REFERRAL_NOT_HELD"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class VoucherNotApplicable(DomainError):
    code = "VOUCHER_NOT_APPLICABLE"


class PaymentRefunded(DomainError):
    code = "PAYMENT_REFUNDED"


# Earning actions (domain/actions.py)


class ActionLimitReached(DomainError):
    code = "ACTION_LIMIT_REACHED"


class ActionInactive(DomainError):
    code = "ACTION_INACTIVE"


class ActionNotAllowed(DomainError):
    code = "ACTION_NOT_ALLOWED"


class BirthdayAlreadySet(DomainError):
    code = "BIRTHDAY_ALREADY_SET"


class AccessError(Exception):
    """The caller may not do this at all; reported as a top-level error, never a payload."""

    code = "FORBIDDEN"

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)
        self.message = message


class NotAuthenticated(AccessError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "A valid bearer token is required.") -> None:
        super().__init__(message)


class AccessDenied(AccessError):
    code = "FORBIDDEN"
