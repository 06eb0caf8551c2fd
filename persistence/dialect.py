"""Every difference between SQLite and PostgreSQL that a statement has to know about.

Repositories write portable SQLAlchemy Core and ask here when the two databases differ:

- Inserts that tolerate a unique clash (`insert_ignoring_conflicts`, `upsert`):
  both speak `INSERT ... ON CONFLICT`, but SQLAlchemy builds it only through each
  dialect's own `insert` construct.
- Row locks (`locks_rows`): PostgreSQL takes `SELECT ... FOR UPDATE`; SQLite has no row
  locks and needs none, since its write transactions are serialised
  (`BEGIN IMMEDIATE` behind one writer lock, see persistence/db.py).
- Lists as parameters (`one_of`): PostgreSQL takes a list as one array parameter
  (`= ANY(:ids)`, so the SQL text never changes and stays prepared); SQLite expands
  `IN (?, ?, ...)`.
- Advisory locks (`hold_advisory_lock`): PostgreSQL serialises one key until the
  transaction ends; SQLite already has a single writer, so nothing is needed.
- The planner (`not_for_index`): SQLite has no statistics and, given a program
  condition, reads a whole program's lots where the member ids alone pick a batch's.

Below the statements, per connection and column (not here, because they are not
choices a statement makes): persistence/db.py opens SQLite with WAL, foreign keys and
`BEGIN IMMEDIATE` for writers, and runs PostgreSQL reads in autocommit;
persistence/types.py stores times as naive UTC text on SQLite and `timestamptz` on
PostgreSQL; persistence/fastpath.py runs prepared reads on asyncpg directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ARRAY, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.types import TypeEngine

POSTGRESQL = "postgresql"
SQLITE = "sqlite"

_INSERTS: dict[str, Callable[[Any], Any]] = {
    POSTGRESQL: postgresql.insert,
    SQLITE: sqlite.insert,
}

T = TypeVar("T")


def is_postgresql(conn: Any) -> bool:
    """`conn`: an AsyncConnection or anything with its `dialect` (a shared read connection)."""
    return bool(conn.dialect.name == POSTGRESQL)


def insert(conn: Any, table: Any) -> Any:
    """The dialect's own INSERT construct, the one that knows `ON CONFLICT`."""
    return _INSERTS[conn.dialect.name](table)


def insert_ignoring_conflicts(conn: Any, table: Any) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING`: with `.returning(...)`, no row means it clashed."""
    return insert(conn, table).on_conflict_do_nothing()


def upsert(
    conn: Any,
    table: Any,
    values: Mapping[str, Any],
    *,
    keys: Sequence[str],
    changes: Mapping[str, Any],
    where: Any = None,
) -> Any:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE SET changes [WHERE where]`."""
    return (
        insert(conn, table)
        .values(**values)
        .on_conflict_do_update(index_elements=list(keys), set_=dict(changes), where=where)
    )


class PerDialect(Generic[T]):
    """A statement built once per dialect at import (hot paths should not rebuild SQL):
    `build` gets the dialect's insert construct and whether it is PostgreSQL."""

    def __init__(self, build: Callable[[Callable[[Any], Any], bool], T]) -> None:
        self._built = {name: build(make, name == POSTGRESQL) for name, make in _INSERTS.items()}

    def of(self, conn: Any) -> T:
        return self._built[conn.dialect.name]


def locks_rows(conn: Any) -> bool:
    """Whether `FOR UPDATE` means anything (PostgreSQL); SQLite writers are serialised."""
    return is_postgresql(conn)


def one_of(column: Any, name: str, item: TypeEngine[Any], *, postgresql: bool) -> Any:
    """`column` in the list bound as `name`: `= ANY(:name)` with an array on PostgreSQL
    (fixed SQL text, preparable), an expanding `IN` on SQLite."""
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(item)))
    return column.in_(bindparam(name, expanding=True))


async def hold_advisory_lock(conn: Any, key: str) -> None:
    """Serialise `key` until the transaction ends: an advisory lock on PostgreSQL; nothing
    on SQLite, whose single writer lock serialises every write transaction already."""
    if is_postgresql(conn):
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )


def not_for_index(conn: Any, column: Any) -> Any:
    """`column` as a condition the planner will not pick an index for: `+column` on SQLite
    (its documented way to disqualify a term), the column itself on PostgreSQL.

    SQLite's planner has no statistics: given `lot.program_id = ?` beside a batch's
    member ids, it reads every due lot of the program through ix_lot_expires instead of
    the batch's own lots through ix_lot_member_open. The condition still applies; only
    the index choice changes."""
    if is_postgresql(conn):
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
