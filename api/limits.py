"""Bounds on what one caller can ask for: request size, query cost and a cost budget.

Each operation's cost is estimated from its document before it runs: one per
field, and the selections under a paginated field count `first` times (20 when
not given). An operation above `MAX_OPERATION_COST` is refused outright. Every
caller (principal, or client address when anonymous) has a token bucket, as
Shopify's API does: it holds `BUDGET_CAPACITY` points and refills at
`BUDGET_REFILL_PER_SECOND`; an operation that does not fit is refused with
`RATE_LIMITED` and `retryAfterSeconds`. Buckets live in the process: with N
server processes a caller gets at most N budgets.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    validate,
)
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_OPERATION_COST = 2_000
BUDGET_CAPACITY = 2_000
BUDGET_REFILL_PER_SECOND = 200.0
MAX_BUCKETS = 100_000
MAX_BODY_BYTES = 256 * 1024


def operation_cost(
    document: Any, operation_name: str | None, variables: Mapping[str, Any] | None
) -> int:
    """Estimated cost of the chosen operation of a (validated) document."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if not operations:
        return 0
    return _selection_cost(operations[0].selection_set, fragments, variables or {}, set())


def _selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    seen: set[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            children = _selection_cost(selection.selection_set, fragments, variables, seen)
            total += 1 + children * _page_multiplier(selection, variables)
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, variables, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are invalid anyway
                total += _selection_cost(
                    fragment.selection_set, fragments, variables, seen | {name}
                )
    return total


def _page_multiplier(field: FieldNode, variables: Mapping[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(1, min(int(value.value), MAX_PAGE_SIZE))
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if isinstance(given, int):
                return max(1, min(given, MAX_PAGE_SIZE))
        return DEFAULT_PAGE_SIZE
    if field.name.value in ("history", "rewards", "redemptions", "auditLog"):
        return DEFAULT_PAGE_SIZE
    return 1


@dataclass
class _Bucket:
    tokens: float
    updated: float


class CostBudget:
    """Token buckets per caller, least recently used dropped beyond `MAX_BUCKETS`."""

    def __init__(
        self,
        capacity: float = BUDGET_CAPACITY,
        refill_per_second: float = BUDGET_REFILL_PER_SECOND,
        clock: Any = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.refill = refill_per_second
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def spend(self, caller: str, cost: int) -> float | None:
        """Take `cost` from the caller's bucket; None if it fit, else seconds to wait."""
        now = self.clock()
        bucket = self._buckets.pop(caller, None) or _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill)
        bucket.updated = now
        self._buckets[caller] = bucket
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        if cost <= bucket.tokens:
            bucket.tokens -= cost
            return None
        return (cost - bucket.tokens) / self.refill


def _caller_key(context: Any) -> str:
    principal = getattr(context, "principal", None)
    if principal is not None:
        return f"{principal.program_slug}/{principal.role.value}/{principal.subject}"
    request = getattr(context, "request", None)
    client = getattr(request, "client", None)
    return f"anonymous/{client.host if client else 'unknown'}"


class ValidationMemo:
    """Validation results per document text: apps send the same few documents over and
    over, and validating one costs more than running it. Bounded, least recently used."""

    def __init__(self, size: int = 1024, validated: Callable[[str], object] | None = None) -> None:
        self.size = size
        self.validated = validated  # documents validated once and for all (trusted ones)
        self._entries: OrderedDict[str, list[GraphQLError]] = OrderedDict()

    def get(self, query: str) -> list[GraphQLError] | None:
        if self.validated is not None and self.validated(query) is not None:
            return []
        found = self._entries.get(query)
        if found is not None:
            self._entries.move_to_end(query)
        return found

    def put(self, query: str, errors: list[GraphQLError]) -> None:
        self._entries[query] = errors
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


class CostLimiter(SchemaExtension):
    """Validates the document (once per distinct text), then prices it and charges the
    caller's budget."""

    def __init__(self, budget: CostBudget, memo: ValidationMemo) -> None:
        self.budget = budget
        self.memo = memo

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.pre_execution_errors is None and ctx.graphql_document is not None:
            errors = self.memo.get(ctx.query) if ctx.query else None
            if errors is None:
                errors = validate(ctx.schema._schema, ctx.graphql_document, ctx.validation_rules)
                if ctx.query:
                    self.memo.put(ctx.query, errors)
            ctx.pre_execution_errors = errors or self._charge()
        yield

    def _charge(self) -> list[GraphQLError]:
        ctx = self.execution_context
        cost = operation_cost(ctx.graphql_document, ctx.operation_name, ctx.variables)
        if cost > MAX_OPERATION_COST:
            return [
                GraphQLError(
                    f"This operation is too expensive ({cost} > {MAX_OPERATION_COST}); "
                    "ask for fewer fields or smaller pages.",
                    extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost},
                )
            ]
        wait = self.budget.spend(_caller_key(ctx.context), cost)
        if wait is None:
            return []
        retry = max(1, math.ceil(wait))
        return [
            GraphQLError(
                f"Rate limit reached; retry in {retry} s.",
                extensions={"code": "RATE_LIMITED", "retryAfterSeconds": retry, "cost": cost},
            )
        ]


class BodySizeLimit:
    """Refuses request bodies over `limit` bytes with 413, before anything parses them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {
                "errors": [
                    {"message": "Request body too large.", "extensions": {"code": "TOO_LARGE"}}
                ]
            },
            status_code=413,
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
