"""Bounds on what one caller can ask for: request size, query cost, a cost budget and the
CPU one query may use.

Each operation is priced before it runs (rules in `api.pricing`: objects 1, scalars 0,
QR codes 100, lists by `first` or their cap, mutations +10). One above
`MAX_OPERATION_COST` (2,000) is refused with `QUERY_TOO_COMPLEX`. Every caller
(principal, or client address when anonymous) has a token bucket, as Shopify's API does:
it holds `BUDGET_CAPACITY` (2,000) points and refills at `BUDGET_REFILL_PER_SECOND`
(100/s); an operation that does not fit is refused with `RATE_LIMITED` and
`retryAfterSeconds`. Every answer says what it cost and what is left, as Shopify's does:
`extensions.cost = {requestedQueryCost, throttleStatus: {maximumAvailable,
currentlyAvailable, restoreRate}}`.

Calibration: the wallet screen (`me`, tier, progress, wallet, `history(first: 50)`) costs
108. An app that opens with a burst of 10 such requests (1,080) and then refreshes every
2 s (54/s against 100/s of refill) is never refused; a script sending them back to back
is refused after about 18 (2,000 + 100/s over the few seconds they take), and a
2,000-point query can run once every 20 s.

With PostgreSQL the buckets live in the `cost_bucket` table, shared by every server
process (`persistence.budget`): one statement per request (an upsert on an UNLOGGED
table), one round trip, measured as long as a bare `SELECT 1` (2 to 3 ms on the busy
development machine). With SQLite they live in the process (`MemoryBuckets`, 6 to
9 µs a charge), as SQLite serves from one process anyway.

A query also has a CPU ceiling (`LOYALTY_QUERY_CPU_SECONDS`, 1 s): the executor adds up
the time this query's fields run synchronously (not the time spent waiting for the
database or for other requests), and once past the ceiling the query stops with
`QUERY_TIMEOUT`. The wallet screen uses about 5 ms; the most expensive query the price
lets through (2,000 points, e.g. 19 QR codes) about 80 ms.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from graphql import ExecutionResult, GraphQLError, OperationType
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from api.documents import DocumentCache
from api.pricing import is_operation_of, operation_cost

if TYPE_CHECKING:
    from api.settings import Settings
    from persistence.db import Database

MAX_OPERATION_COST = 2_000
BUDGET_CAPACITY = 2_000
BUDGET_REFILL_PER_SECOND = 100.0
QUERY_CPU_SECONDS = 1.0
MAX_BUCKETS = 100_000
MAX_BODY_BYTES = 256 * 1024


class BucketStore(Protocol):
    async def take(
        self, caller: str, cost: float, now: float, capacity: float, refill: float
    ) -> tuple[bool, float]:
        """Refill the caller's bucket up to `now`, then take `cost` if it fits:
        (whether it was taken, points left)."""
        ...


@dataclass
class _Bucket:
    tokens: float
    updated: float


class MemoryBuckets:
    """Token buckets in the process, least recently used dropped beyond `MAX_BUCKETS`."""

    def __init__(self, max_buckets: int = MAX_BUCKETS) -> None:
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    async def take(
        self, caller: str, cost: float, now: float, capacity: float, refill: float
    ) -> tuple[bool, float]:
        bucket = self._buckets.pop(caller, None) or _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + max(0.0, now - bucket.updated) * refill)
        bucket.updated = max(bucket.updated, now)
        self._buckets[caller] = bucket
        if len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
        if cost <= bucket.tokens:
            bucket.tokens -= cost
            return True, bucket.tokens
        return False, bucket.tokens


@dataclass(frozen=True)
class Charge:
    """What a charge did to a caller's budget."""

    cost: int
    charged: bool
    available: float
    capacity: float
    refill: float

    @property
    def retry_after(self) -> float:
        """Seconds until the cost fits (0 when it was charged)."""
        return 0.0 if self.charged else (self.cost - self.available) / self.refill

    def extension(self) -> dict[str, Any]:
        """Shopify's `extensions.cost`."""
        return {
            "requestedQueryCost": self.cost,
            "throttleStatus": {
                "maximumAvailable": int(self.capacity),
                "currentlyAvailable": int(self.available),
                "restoreRate": self.refill,
            },
        }


class CostBudget:
    """Per-caller token buckets: `capacity` points, `refill_per_second` back each second.
    `clock` gives seconds since the epoch (the PostgreSQL buckets compare it across
    processes)."""

    def __init__(
        self,
        capacity: float = BUDGET_CAPACITY,
        refill_per_second: float = BUDGET_REFILL_PER_SECOND,
        clock: Callable[[], float] = time.time,
        store: BucketStore | None = None,
    ) -> None:
        self.capacity = capacity
        self.refill = refill_per_second
        self.clock = clock
        self.store: BucketStore = store or MemoryBuckets()

    @classmethod
    def for_database(
        cls, db: Database, settings: Settings, clock: Callable[[], float] = time.time
    ) -> CostBudget:
        """Shared by all processes in PostgreSQL (unless `cost_budget_shared` is off), in
        the process with SQLite."""
        store: BucketStore = MemoryBuckets()
        if not db.is_sqlite and settings.cost_budget_shared:
            from persistence.budget import SqlBuckets

            store = SqlBuckets(db)
        return cls(settings.cost_budget, settings.cost_refill_per_second, clock, store)

    async def spend(self, caller: str, cost: int) -> Charge:
        """Take `cost` from the caller's bucket if it fits (cost 0 reads the bucket)."""
        charged, available = await self.store.take(
            caller, cost, self.clock(), self.capacity, self.refill
        )
        return Charge(cost, charged, available, self.capacity, self.refill)


def _caller_key(context: Any) -> str:
    principal = getattr(context, "principal", None)
    if principal is not None:
        return f"{principal.program_slug}/{principal.role.value}/{principal.subject}"
    request = getattr(context, "request", None)
    client = getattr(request, "client", None)
    return f"anonymous/{client.host if client else 'unknown'}"


class CpuMeter:
    """The time one query's fields run synchronously, against its ceiling.

    The executor calls `enter` before and `leave` after each field. Only the outermost
    field of a synchronous stretch starts the stopwatch, so the time a query waits (for
    the database, for other requests) is never counted: only its own work is.
    """

    def __init__(self, budget: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.budget = budget
        self.clock = clock
        self.spent = 0.0
        self.expired = False
        self._reported = False
        self._depth = 0
        self._started = 0.0

    def enter(self) -> bool:
        """Before a field: False once the ceiling is passed (the field must not run)."""
        now = self.clock()
        if self._depth == 0:
            self._started = now
            over = self.spent > self.budget
        else:
            over = self.spent + (now - self._started) > self.budget
        if over:
            self.expired = True
            return False
        self._depth += 1
        return True

    def first_refusal(self) -> bool:
        """True once: the first refused field raises, the others are just skipped."""
        first, self._reported = not self._reported, True
        return first

    def leave(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.spent += self.clock() - self._started


_meter: ContextVar[CpuMeter | None] = ContextVar("loyalty_cpu_meter", default=None)


def current_cpu_meter() -> CpuMeter | None:
    """The meter of the query executing in this context (None outside queries)."""
    return _meter.get()


class QueryTimeout(GraphQLError):
    """Raised by the executor in the first field past the ceiling."""


class CostLimiter(SchemaExtension):
    """Validates the document (once per distinct text, see `api.documents`), prices it,
    charges the caller's budget, reports the cost, and meters a query's CPU."""

    def __init__(
        self,
        budget: CostBudget,
        documents: DocumentCache,
        cpu_seconds: float = QUERY_CPU_SECONDS,
        cpu_clock: Callable[[], float] = time.perf_counter,
        trusted: Callable[[str], object] | None = None,
    ) -> None:
        self.budget = budget
        self.documents = documents
        self.trusted = trusted  # documents validated once and for all (trusted ones)
        self.cpu_seconds = cpu_seconds
        self.cpu_clock = cpu_clock
        self.charge: Charge | None = None

    async def on_validate(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        if ctx.pre_execution_errors is None and ctx.graphql_document is not None:
            entry = self.documents.get(ctx.query) if ctx.query else None
            errors = entry.errors if entry is not None else None
            if errors is None and ctx.query and self.trusted and self.trusted(ctx.query):
                errors = []  # validated when the manifest was loaded
            if errors is None:
                errors = validate_document(
                    ctx.schema._schema, ctx.graphql_document, tuple(ctx.validation_rules)
                )
                if entry is not None and entry.document is ctx.graphql_document:
                    entry.errors = errors
            ctx.pre_execution_errors = errors or await self._charge()
        yield

    async def _charge(self) -> list[GraphQLError]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        cost = operation_cost(
            ctx.schema._schema, ctx.graphql_document, ctx.operation_name, ctx.variables
        )
        caller = _caller_key(ctx.context)
        if cost > MAX_OPERATION_COST:
            # nothing is taken; the answer still says what it would cost and what is left
            self.charge = replace(await self.budget.spend(caller, 0), cost=cost, charged=False)
            return [
                GraphQLError(
                    f"This operation is too expensive ({cost} > {MAX_OPERATION_COST}); "
                    "ask for fewer fields or smaller pages.",
                    extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost},
                )
            ]
        self.charge = charge = await self.budget.spend(caller, cost)
        if charge.charged:
            return []
        retry = max(1, math.ceil(charge.retry_after))
        return [
            GraphQLError(
                f"Rate limit reached; retry in {retry} s.",
                extensions={"code": "RATE_LIMITED", "retryAfterSeconds": retry, "cost": cost},
            )
        ]

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is None or not is_operation_of(
            document, ctx.operation_name, OperationType.QUERY
        ):
            yield
            return
        meter = CpuMeter(self.cpu_seconds, self.cpu_clock)
        token = _meter.set(meter)
        try:
            yield
        finally:
            _meter.reset(token)
        result = ctx.result
        if meter.expired and isinstance(result, ExecutionResult):
            result.data = None
            result.errors = [
                GraphQLError(
                    f"This query used more than its {self.cpu_seconds:g} s of CPU and was "
                    "stopped; ask for fewer fields or smaller pages.",
                    extensions={"code": "QUERY_TIMEOUT"},
                )
            ]

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.charge.extension()} if self.charge is not None else {}


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
