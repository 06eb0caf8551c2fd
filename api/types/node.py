"""The Relay `Node` interface."""

from __future__ import annotations

import strawberry


@strawberry.interface(
    description="An object with a global ID; any of them can be fetched again with `node(id:)`."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global ID; stable, but do not parse it."
    )
