"""Helpers shared by the test suites: a movable clock, GraphQL calls, statement counting."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event

from api.auth import mint_token
from api.runtime import Runtime
from domain.model import Role


class MovableClock:
    """Real time plus an offset tests can move; reset after every test."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self.frozen: datetime | None = None

    def now(self) -> datetime:
        base = self.frozen or datetime.now(UTC)
        return base + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def freeze(self, at: datetime) -> None:
        self.frozen, self.offset = at, timedelta()

    def reset(self) -> None:
        self.offset, self.frozen = timedelta(), None


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Api:
    """GraphQL over HTTP against the app, as one program's clients would call it."""

    client: httpx.AsyncClient
    runtime: Runtime
    program: str
    tokens: dict[tuple[str, str, str | None], str] = field(default_factory=dict)

    def token(
        self,
        role: Role | str,
        sub: str,
        *,
        store: str | None = None,
        partner: str | None = None,
        program: str | None = None,
        ttl: int = 3600,
    ) -> str:
        return mint_token(
            self.runtime.settings,
            program=program or self.program,
            role=Role(role),
            subject=sub,
            store=store if Role(role) is Role.STAFF else None,
            partner=partner,
            ttl_seconds=ttl,
        )

    def admin(self) -> str:
        return self.token(Role.ADMIN, "admin-1")

    def staff(self, store: str = "store-1") -> str:
        return self.token(Role.STAFF, "staff-1", store=store)

    def member(self, sub: str) -> str:
        return self.token(Role.MEMBER, sub)

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        # GraphQL over HTTP (graphql-response+json): 200 when execution started (the body
        # has `data`), 4xx or 5xx when it did not (no `data`).
        assert (response.status_code == 200) == ("data" in body), response.text
        return body

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """`data` of a call that must have no top-level errors."""
        body = await self.raw(query, variables, token)
        assert "errors" not in body, body
        return body["data"]

    async def enroll(self, sub: str, **fields: Any) -> dict[str, Any]:
        data = await self.ok(
            """mutation($input: EnrollInput!) { enroll(input: $input) {
                 member { id cardNumber referralCode displayName }
                 errors { code field message } } }""",
            {"input": {"displayName": sub.title(), **fields}},
            self.member(sub),
        )
        assert data["enroll"]["errors"] == [], data
        return data["enroll"]["member"]

    async def purchase(
        self,
        member_id: str,
        order_id: str,
        amount: int,
        currency: str = "EUR",
        token: str | None = None,
    ) -> dict[str, Any]:
        data = await self.ok(
            """mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) {
                 pointsEarned wallet { balance version } errors { code field message } } }""",
            {
                "input": {
                    "memberId": member_id,
                    "orderId": order_id,
                    "total": {"amountMinor": amount, "currency": currency},
                }
            },
            # Admins (the shop backend) credit without a card scan; staff need one.
            token or self.admin(),
        )
        return data["recordPurchase"]

    async def adjust(self, member_id: str, points: int, key: str, reason: str = "test") -> dict:
        data = await self.ok(
            """mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) {
                 wallet { balance version } errors { code field message } } }""",
            {
                "input": {
                    "memberId": member_id,
                    "points": points,
                    "reason": reason,
                    "idempotencyKey": key,
                }
            },
            self.admin(),
        )
        return data["adjustPoints"]

    async def card_payload(self, sub: str) -> str:
        data = await self.ok("{ me { card { qrPayload } } }", token=self.member(sub))
        return str(data["me"]["card"]["qrPayload"])

    async def scan(self, sub: str, store: str = "store-1") -> dict[str, Any]:
        """The till at `store` scans `sub`'s card: opens the staff window."""
        data = await self.ok(
            """mutation($p: String!) { scanMemberCard(input: {payload: $p}) {
                 member { id displayName } windowExpiresAt errors { code field message } } }""",
            {"p": await self.card_payload(sub)},
            self.staff(store),
        )
        payload = data["scanMemberCard"]
        assert payload["errors"] == [], payload
        return payload

    async def wallet(self, sub: str) -> dict[str, Any]:
        data = await self.ok(
            "{ me { wallet { balance pending lifetimeEarned version } } }", token=self.member(sub)
        )
        return data["me"]["wallet"]


@dataclass(frozen=True)
class LedgerTotals:
    """What the database says about one wallet, to check the ledger invariants."""

    balance: int
    version: int
    entries_sum: int
    entry_count: int
    lots_remaining: int
    pending: int = 0
    held_remaining: int = 0
    releases: int = 0

    def consistent(self) -> bool:
        """balance + pending == sum of entries; spendable lots == balance (+ debt);
        held lots == pending; one version per entry or release."""
        debt = max(0, -self.balance)
        return (
            self.balance + self.pending == self.entries_sum
            and self.balance == self.lots_remaining - debt
            and self.pending == self.held_remaining
            and self.version == self.entry_count + self.releases
        )


async def ledger_totals(runtime: Runtime, member_id: uuid.UUID) -> LedgerTotals:
    from sqlalchemy import case, func, select

    from persistence.tables import LedgerEntryRow, LotRow, WalletRow

    entries, lots, wallets = LedgerEntryRow.__table__, LotRow.__table__, WalletRow.__table__
    async with runtime.reader() as uow:
        wallet = (
            await uow.conn.execute(
                select(wallets.c.balance, wallets.c.version, wallets.c.pending).where(
                    wallets.c.member_id == member_id
                )
            )
        ).one()
        total, count = (
            await uow.conn.execute(
                select(func.coalesce(func.sum(entries.c.points), 0), func.count()).where(
                    entries.c.member_id == member_id
                )
            )
        ).one()
        spendable, held, releases = (
            await uow.conn.execute(
                select(
                    func.coalesce(
                        func.sum(case((lots.c.held.is_(False), lots.c.remaining), else_=0)), 0
                    ),
                    func.coalesce(
                        func.sum(case((lots.c.held.is_(True), lots.c.remaining), else_=0)), 0
                    ),
                    func.count(lots.c.released_at),
                ).where(lots.c.member_id == member_id)
            )
        ).one()
    return LedgerTotals(
        balance=int(wallet.balance),
        version=int(wallet.version),
        entries_sum=int(total),
        entry_count=int(count),
        lots_remaining=int(spendable),
        pending=int(wallet.pending),
        held_remaining=int(held),
        releases=int(releases),
    )


class StatementCounter:
    """Counts SQL statements sent on an engine while active: those SQLAlchemy executes, and
    on PostgreSQL those persistence.fastpath sends on the asyncpg connection directly."""

    SKIP = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SELECT 1")

    def __init__(self, runtime: Runtime) -> None:
        self.engine = runtime.db.engine.sync_engine
        self.statements: list[str] = []
        self._drivers: list[Any] = []

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(self.SKIP):
            self.statements.append(statement)

    def _checkout(self, dbapi_connection: Any, *args: Any) -> None:
        driver = getattr(dbapi_connection, "_connection", None)
        if hasattr(driver, "add_query_logger") and driver not in self._drivers:
            # asyncpg logs what runs without a prepared statement object: the fast path
            # (SQLAlchemy's statements run prepared, so they are not counted twice).
            driver.add_query_logger(self._logged)
            self._drivers.append(driver)

    def _logged(self, record: Any) -> None:
        query = record.query
        if not query.lstrip().upper().startswith(self.SKIP) and not self._introspection(query):
            self.statements.append(query)

    @staticmethod
    def _introspection(query: str) -> bool:
        """asyncpg looks up a type it has no codec for (uuid[]) once per connection, with
        the server's JIT off around it: a cache fill of the driver, not the request's."""
        return (
            "typeinfo_tree" in query
            or "set_config('jit'" in query
            or "current_setting('jit')" in query
        )

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        event.listen(self.engine, "checkout", self._checkout)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)
        event.remove(self.engine, "checkout", self._checkout)
        for driver in self._drivers:
            driver.remove_query_logger(self._logged)

    @property
    def count(self) -> int:
        return len(self.statements)
