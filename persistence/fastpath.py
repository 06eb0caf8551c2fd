"""Static read statements that skip SQLAlchemy's execution layer on PostgreSQL.

The reads behind every screen (program and tiers, member and wallet, history, qualifying
points) are built once at import. On PostgreSQL, outside a transaction (reads run in
autocommit), `Prepared.rows` compiles such a statement once and runs it on the asyncpg
connection underneath: asyncpg prepares and caches it per connection, and the rows come
back without SQLAlchemy's per-statement and per-row machinery, which cost about as much
as the round trip itself. Values are the same either way (the engine's asyncpg codecs
decode JSON; timestamps come back as aware UTC, UUIDs as `uuid.UUID`), which the test
suite checks against the SQLAlchemy path. Everywhere else (SQLite, and inside write
transactions, whose statement order SQLAlchemy owns) the statement runs through
SQLAlchemy as any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect, Result
from sqlalchemy.sql import Executable


class Prepared:
    """A statement with named bind parameters; `postgresql` may give a variant for it
    (e.g. `= ANY(:ids)` where the portable one expands `IN (...)`)."""

    def __init__(self, statement: Executable, *, postgresql: Executable | None = None) -> None:
        self.statement = statement
        self._postgresql = postgresql if postgresql is not None else statement
        self._sql: str | None = None
        self._names: tuple[str, ...] = ()

    def _compile(self, dialect: Dialect) -> str:
        compiled = self._postgresql.compile(dialect=dialect)  # type: ignore[attr-defined]
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("expanding parameters cannot run on the fast path")
        self._names = tuple(compiled.positiontup or ())
        self._sql = compiled.string
        return compiled.string  # type: ignore[no-any-return]

    async def rows(self, conn: Any, params: Mapping[str, Any]) -> Sequence[Any]:
        """The statement's rows; each row's columns are attributes, as on SQLAlchemy rows.
        `conn` is an AsyncConnection, or a shared one whose statements take `turn`s."""
        turn = getattr(conn, "turn", None)
        inner = conn.inner if turn is not None else conn
        if conn.dialect.name != "postgresql" or not _autocommit(inner):
            statement = self._postgresql if conn.dialect.name == "postgresql" else self.statement
            result: Result[Any] = await conn.execute(statement, dict(params))
            return result.all()
        sql = self._sql or self._compile(conn.dialect)
        args = [params[name] for name in self._names]
        if turn is None:
            return await _fetch(inner, sql, args)
        async with turn:
            return await _fetch(inner, sql, args)


def _autocommit(conn: Any) -> bool:
    options = conn.sync_connection.get_execution_options()
    return bool(options.get("isolation_level") == "AUTOCOMMIT")


async def _fetch(conn: Any, sql: str, args: list[Any]) -> list[Row]:
    driver = (await conn.get_raw_connection()).driver_connection
    return [Row(record) for record in await driver.fetch(sql, *args)]


class Row:
    """An asyncpg record read by attribute, like a SQLAlchemy row."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._record[index]
