"""Relay cursor connections with keyset pagination (never OFFSET)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from domain.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")


@strawberry.type(description="Relay pagination state of a connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    has_previous_page: bool = strawberry.field(
        description="Items precede `startCursor` (true when `after` was given)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge; pass it as `after` for the next page."
    )


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item at this position.")


@strawberry.type(description="A page of items in a stable order; page with `first` and `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(
        description="The items of this page, each with its cursor; empty past the last page."
    )
    page_info: PageInfo = strawberry.field(
        description="Where this page sits in the list; pass `endCursor` as `after` for the next."
    )

    @strawberry.field(
        description="The items of this page without their cursors: the same nodes as "
        "`edges { node }`, in the same order, at no extra cost (as in GitHub's API). Page "
        "with `pageInfo { hasNextPage endCursor }`."
    )
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


# Counts a list in full (one statement), only when `totalCount` is selected.
Counter = Callable[[], Awaitable[int]]


async def _no_items() -> int:
    return 0


NO_ITEMS: Counter = _no_items


# The arguments every connection field takes.
First = Annotated[int | None, strawberry.argument(description="Page size, 1 to 100; left out: 20.")]
After = Annotated[
    str | None,
    strawberry.argument(
        description="`pageInfo.endCursor` of the previous page; left out: the first page."
    ),
]


def connection(edges: list[Edge[T]], has_next: bool, after: str | None) -> Connection[T]:
    """A page of edges with its Relay page info."""
    return Connection(edges=edges, page_info=page_info(edges, has_next, after))


def page_info(edges: list[Edge[T]], has_next: bool, after: str | None) -> PageInfo:
    """The Relay page info of a page of edges."""
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


def page_size(first: int | None) -> int:
    """`first` defaulted to 20 and bounded to 1..100."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}.", ("first",))
    return first


# A cursor holds a kind and typed parts: `kind:part|part`, base64url. Integers stay within
# GraphQL's Int (what we hand out: versions, costs), times carry their UTC offset (we hand
# out UTC; a naive or unrepresentable time cannot be compared with stored ones).
CursorPart = int | datetime | uuid.UUID
MAX_CURSOR_LENGTH = 200
MAX_CURSOR_INT = 2**31 - 1


def encode_cursor(kind: str, *parts: CursorPart) -> str:
    """The opaque cursor of a position: `kind` and its parts (ints, UTC times, uuids)."""
    text = "|".join(_encode_part(part) for part in parts)
    return base64.urlsafe_b64encode(f"{kind}:{text}".encode()).decode().rstrip("=")


def _encode_part(part: CursorPart) -> str:
    return part.astimezone(UTC).isoformat() if isinstance(part, datetime) else str(part)


def decode_cursor(
    cursor: str | None, kind: str, *types: type[CursorPart]
) -> tuple[Any, ...] | None:
    """The parts (of `types`, in order) of a cursor of `kind`; None without a cursor;
    INVALID_INPUT on `after` for anything we did not hand out."""
    if cursor is None:
        return None
    invalid = InvalidInput("Not a valid cursor.", ("after",))
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    prefix, _, text = raw.partition(":")
    texts = text.split("|")
    if prefix != kind or len(texts) != len(types):
        raise invalid
    try:
        return tuple(_decode_part(part, type_) for part, type_ in zip(texts, types, strict=True))
    except (ValueError, OverflowError):
        raise invalid from None


def _decode_part(text: str, type_: type[CursorPart]) -> CursorPart:
    if type_ is int:
        # ASCII digits only: int() would also take "²", "٣", "1_000" and "+1"
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_CURSOR_INT:
            raise ValueError(text)
        return int(text)
    if type_ is datetime:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(text)
        return moment.astimezone(UTC)  # OverflowError at the ends of the calendar
    return uuid.UUID(text)
