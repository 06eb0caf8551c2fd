"""The executor's short path for plain leaf fields answers exactly as graphql-core does."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.permission import BasePermission

from api.executor import LoyaltyExecutor


@strawberry.enum
class Kind(enum.Enum):
    EARN = "EARN"
    REDEEM = "REDEEM"


class Never(BasePermission):
    message = "no"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Entry:
    id: strawberry.ID
    kind: Kind
    points: int
    note: str | None
    at: datetime
    must: str  # set to None below: a non-null field without a value
    secret: str = strawberry.field(default="hidden", permission_classes=[Never])

    @strawberry.field
    def doubled(self, times: int = 2) -> int:
        return self.points * times


@strawberry.type
class Holder:
    entries: list[Entry]
    maybe: Entry | None


def _entries(broken: bool) -> list[Entry]:
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    return [
        Entry(
            id=strawberry.ID(str(n)),
            kind=Kind.EARN if n % 2 else Kind.REDEEM,
            points=n * 10,
            note=None if n % 2 else f"note {n}",
            at=at,
            must=None if broken and n == 1 else "ok",  # type: ignore[arg-type]
        )
        for n in range(3)
    ]


@strawberry.type
class Query:
    @strawberry.field
    def holder(self, broken: bool = False) -> Holder:
        entries = _entries(broken)
        return Holder(entries=entries, maybe=entries[1])

    @strawberry.field
    def entry(self, broken: bool = False) -> Entry:
        return _entries(broken)[1]


QUERIES = [
    "{ holder { entries { id kind points note at must doubled(times: 3) } } }",
    "{ holder { entries { ...F } maybe { ...F } } } fragment F on Entry { id kind note must }",
    "{ holder(broken: true) { entries { id must } maybe { id must } } }",
    "{ holder(broken: true) { maybe { id must } } }",
    "{ entry(broken: true) { id must } }",
    "{ holder { entries { id secret } } }",
    "{ holder { entries { a: points b: points kind __typename } } }",
    "query($s: Boolean!) { holder { entries { id @skip(if: $s) points @include(if: $s) } } }",
]


@pytest.mark.asyncio
@pytest.mark.parametrize("query", QUERIES)
async def test_same_answer_as_graphql_core(query: str) -> None:
    plain = strawberry.Schema(query=Query)
    ours = strawberry.Schema(query=Query, execution_context_class=LoyaltyExecutor)
    variables = {"s": True}
    expected = await plain.execute(query, variable_values=variables)
    got = await ours.execute(query, variable_values=variables)
    assert got.data == expected.data
    assert [(e.message, e.path) for e in got.errors or []] == [
        (e.message, e.path) for e in expected.errors or []
    ]


@pytest.mark.asyncio
async def test_a_missing_non_null_value_nulls_the_nearest_nullable_parent() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=LoyaltyExecutor)
    result = await schema.execute("{ holder(broken: true) { maybe { id must } } }")
    assert result.data == {"holder": {"maybe": None}}
    assert result.errors is not None
    assert result.errors[0].path == ["holder", "maybe", "must"]
    assert "Cannot return null for non-nullable field Entry.must" in result.errors[0].message
