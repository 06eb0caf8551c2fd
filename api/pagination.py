"""Relay cursor connections with keyset pagination (never OFFSET)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

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
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of items in a stable order; page with `first` and `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")


# The arguments every connection field takes.
First = Annotated[int | None, strawberry.argument(description="Page size, 1 to 100 (default 20).")]
After = Annotated[str | None, strawberry.argument(description="`endCursor` of the previous page.")]


def connection(edges: list[Edge[T]], has_next: bool, after: str | None) -> Connection[T]:
    """A page of edges with its Relay page info."""
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def page_size(first: int | None) -> int:
    """`first` defaulted to 20 and bounded to 1..100."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}.", ("first",))
    return first


def encode_cursor(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str) -> str | None:
    """The position inside a cursor of `kind`; INVALID_INPUT for anything else."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("Not a valid cursor.", ("after",)) from None
    prefix, _, value = raw.partition(":")
    if prefix != kind or not value or len(cursor) > 200:
        raise InvalidInput("Not a valid cursor.", ("after",))
    return value
