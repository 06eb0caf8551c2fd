"""Errors at the API edge: payload `UserError`s for rules and input, top-level codes for access,
and a mask over everything unexpected so no stack trace or SQL reaches a client."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from domain.errors import AccessError, DomainError

log = logging.getLogger("loyalty.errors")


@strawberry.enum(description="Stable machine-readable reasons a mutation was refused.")
class ErrorCode(Enum):
    INVALID_INPUT = strawberry.enum_value(
        "INVALID_INPUT", description="An input value is malformed or out of range; see `field`."
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="The referenced object does not exist in this program."
    )
    ALREADY_ENROLLED = strawberry.enum_value(
        "ALREADY_ENROLLED",
        description="The caller is already a member of this program, enrolled with other "
        "details (an identical retry of `enroll` returns the member instead).",
    )
    NOT_ENROLLED = strawberry.enum_value(
        "NOT_ENROLLED", description="The caller has not enrolled in this program yet."
    )
    MEMBER_BLOCKED = strawberry.enum_value(
        "MEMBER_BLOCKED", description="The member is blocked and can neither earn nor spend."
    )
    INSUFFICIENT_POINTS = strawberry.enum_value(
        "INSUFFICIENT_POINTS", description="The spendable balance does not cover the request."
    )
    REWARD_UNAVAILABLE = strawberry.enum_value(
        "REWARD_UNAVAILABLE",
        description="The reward is archived or outside its availability window.",
    )
    OUT_OF_STOCK = strawberry.enum_value(
        "OUT_OF_STOCK", description="The reward has no stock left."
    )
    LIMIT_REACHED = strawberry.enum_value(
        "LIMIT_REACHED", description="A per-member or per-period limit has been reached."
    )
    TIER_REQUIRED = strawberry.enum_value(
        "TIER_REQUIRED", description="The member's tier is below the reward's minimum tier."
    )
    CARD_INVALID = strawberry.enum_value(
        "CARD_INVALID", description="The scanned code is malformed or does not verify."
    )
    CARD_EXPIRED = strawberry.enum_value(
        "CARD_EXPIRED", description="The scanned code was valid but is too old; show a fresh one."
    )
    CARD_ALREADY_USED = strawberry.enum_value(
        "CARD_ALREADY_USED",
        description="This code (or a newer one of the card) was already scanned.",
    )
    VOUCHER_INVALID = strawberry.enum_value(
        "VOUCHER_INVALID", description="No usable voucher has this code for the caller."
    )
    VOUCHER_ALREADY_USED = strawberry.enum_value(
        "VOUCHER_ALREADY_USED", description="The voucher was already used."
    )
    VOUCHER_EXPIRED = strawberry.enum_value(
        "VOUCHER_EXPIRED", description="The voucher is past its expiry date."
    )
    IDEMPOTENCY_CONFLICT = strawberry.enum_value(
        "IDEMPOTENCY_CONFLICT",
        description="The idempotency key or order id was used before for a different request.",
    )
    REFERRAL_INVALID = strawberry.enum_value(
        "REFERRAL_INVALID", description="The referral code is unknown or the caller's own."
    )
    REFERRAL_NOT_HELD = strawberry.enum_value(
        "REFERRAL_NOT_HELD",
        description="Only a referral held for review can be approved, and only a held or "
        "pending one rejected.",
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="Too many failed attempts; wait a minute and try again."
    )
    VOUCHER_NOT_APPLICABLE = strawberry.enum_value(
        "VOUCHER_NOT_APPLICABLE",
        description="The voucher does not apply to this order: no line in its categories, the "
        "total below its minimum order, or its free product not in the order. The voucher "
        "stays unused.",
    )
    PAYMENT_REFUNDED = strawberry.enum_value(
        "PAYMENT_REFUNDED",
        description="The order's points payment was refunded: it cannot be refunded again, and "
        "the order id cannot pay with points again.",
    )
    ACTION_LIMIT_REACHED = strawberry.enum_value(
        "ACTION_LIMIT_REACHED",
        description="The member has used up a limit of this earning action (once ever, per "
        "day/week/month, or its lifetime cap); `me { actions }` says when it resets.",
    )
    ACTION_INACTIVE = strawberry.enum_value(
        "ACTION_INACTIVE",
        description="The earning action is archived or outside its active window.",
    )
    ACTION_NOT_ALLOWED = strawberry.enum_value(
        "ACTION_NOT_ALLOWED",
        description="The caller may not report this earning action: members report only "
        "actions the program trusts them with; signup and birthday are granted automatically.",
    )
    BIRTHDAY_ALREADY_SET = strawberry.enum_value(
        "BIRTHDAY_ALREADY_SET",
        description="The member's birthday is on record already and cannot be changed here.",
    )


@strawberry.type(description="Why a mutation did not do what was asked. Nothing was written.")
class UserError:
    code: ErrorCode = strawberry.field(description="Stable reason, for program logic.")
    message: str = strawberry.field(description="Explanation a person can read (English).")
    field: list[str] | None = strawberry.field(
        description='Path of the input field at fault, e.g. ["input", "total", "currency"].'
    )

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(
            code=ErrorCode[error.code],
            message=error.message,
            field=list(error.field) if error.field else None,
        )


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    if (error.extensions or {}).get("code"):
        return error
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,  # a syntax error has no nodes: its location is source + position
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": code},
    )


def _client_error_code(error: GraphQLError) -> str | None:
    """The code of an error the client caused (access, rules, input, the document), or
    None for anything unexpected."""
    original = error.original_error
    if isinstance(original, DomainError):  # access errors included
        return original.code
    if original is None:  # the document
        code = (error.extensions or {}).get("code")
        if code:
            return str(code)
        parse = error.message.startswith("Syntax Error")
        return "GRAPHQL_PARSE_FAILED" if parse else "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, GraphQLError) and original.original_error is None:
        return "BAD_USER_INPUT"
    return None


class LoyaltySchema(strawberry.Schema):
    """Logs client errors at info, one line without a traceback: a refused token or a
    typo in a query is the client's business, not an alert. Unexpected errors are logged
    once, at error with their traceback, where they are masked (`LoyaltyErrors`)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: object | None = None
    ) -> None:
        log_refusals(errors)


class LoyaltyErrors(MaskErrors):
    """Access errors keep their message and get `extensions.code`; GraphQL syntax and
    validation errors pass; anything else is logged with its traceback and masked."""

    def __init__(self, request_id: Callable[[], str | None] | None = None) -> None:
        super().__init__(error_message="Internal error.")
        self._request_id = request_id

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._process(error) for error in errors]

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, AccessError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": original.code},
            )
        if isinstance(original, DomainError):
            # Raised by a query field (mutations report these in their payload).
            extensions: dict[str, object] = {"code": original.code}
            if original.field:
                extensions["field"] = list(original.field)
            return GraphQLError(
                original.message, nodes=error.nodes, path=error.path, extensions=extensions
            )
        if original is None:  # the document: syntax or validation
            parse = error.message.startswith("Syntax Error")
            return _with_code(
                error, "GRAPHQL_PARSE_FAILED" if parse else "GRAPHQL_VALIDATION_FAILED"
            )
        if isinstance(original, GraphQLError) and original.original_error is None:
            # A value refused by its type (a variable, an argument): the outer message
            # names where it sits ("Variable '$i' has invalid value at .total.amountMinor").
            return _with_code(error, "BAD_USER_INPUT")
        log.error("unexpected error", exc_info=original)
        masked: dict[str, object] = {"code": "INTERNAL_SERVER_ERROR"}
        request_id = self._request_id() if self._request_id else None
        if request_id:
            masked["requestId"] = request_id
        return GraphQLError(
            self.error_message, nodes=error.nodes, path=error.path, extensions=masked
        )


def mask(errors: list[GraphQLError]) -> list[GraphQLError]:
    """What `LoyaltyErrors` makes of an operation's errors, for errors raised where no
    extension runs: a subscription event, executed by the WebSocket endpoint (api/ws.py)."""
    return LoyaltyErrors()._process_errors(errors)


def log_refusals(errors: list[GraphQLError]) -> None:
    """One INFO line per error a client caused (token, access, rules, document), without a
    traceback. Unexpected errors are left to `LoyaltyErrors`, which logs them at ERROR."""
    for error in errors:
        code = _client_error_code(error)
        if code is not None:
            log.info("client error", extra={"fields": {"code": code, "error": error.message[:300]}})
