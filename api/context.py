"""Per-operation context: the caller, unit-of-work factories and this operation's loaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from api.loaders import Loaders
from api.runtime import Runtime
from domain.errors import InvalidInput, NotAuthenticated
from domain.events import Event
from domain.model import Principal, Program, Tier
from persistence.unit_of_work import SharedReads, SqlUnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Feed:
    """What a subscription listens to: a bus topic, and how one of its events becomes the
    subscription field's value, read with a fresh context (None: not for this field)."""

    topic: str
    value: Callable[[Context, Event], Awaitable[Any]]


async def no_events() -> AsyncIterator[Any]:
    """A subscription's stream when it has nothing to listen to: it completes at once."""
    return
    yield


@dataclass
class Context:
    runtime: Runtime
    principal: Principal | None
    request: Any = None
    response: Any = None
    auth_error: NotAuthenticated | None = None
    feed: Feed | None = None
    _program: Program | None = None
    _tiers: list[Tier] | None = None
    _loaders: Loaders | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    shared_reads: SharedReads | None = None

    def reader(self) -> SqlUnitOfWork:
        """A read block: on the request's one connection for HTTP, a short one otherwise."""
        if self.shared_reads is not None:
            return self.shared_reads.reader()
        return self.runtime.reader()

    async def finish(self) -> None:
        """The request is answered: give its read connection back."""
        if self.shared_reads is not None:
            await self.shared_reads.close()

    def caller(self) -> Principal:
        """The authenticated principal, or UNAUTHENTICATED."""
        if self.auth_error is not None:
            raise self.auth_error
        if self.principal is None:
            raise NotAuthenticated()
        return self.principal

    async def program(self) -> Program:
        """The caller's program, read once per operation."""
        async with self._lock:
            if self._program is None:
                principal = self.caller()
                async with self.reader() as uow:
                    found = await uow.programs.get_with_tiers(principal.program_slug)
                if found is None:
                    raise NotAuthenticated("The token's program does not exist.")
                self._program, self._tiers = found
            return self._program

    async def tiers(self) -> list[Tier]:
        """The program's tiers, lowest rank first, read once per operation."""
        await self.program()
        assert self._tiers is not None
        return self._tiers

    def forget_program(self) -> None:
        """After a mutation changed the program or its tiers, read them again."""
        self._program = None
        self._tiers = None

    def listen(
        self, topic: str, value: Callable[[Context, Event], Awaitable[T | None]]
    ) -> AsyncIterator[T]:
        """For subscription resolvers: the WebSocket endpoint (api/ws.py) delivers `topic`'s
        events, each turned into the field's value by `value` with a fresh context. The
        stream answered here is empty: events do not flow through the resolver."""
        if not isinstance(self.request, WebSocket):
            raise InvalidInput("Subscribe over WebSocket (graphql-transport-ws) at /graphql.")
        self.feed = Feed(topic, value)
        return no_events()

    async def loaders(self) -> Loaders:
        if self._loaders is None:
            program = await self.program()
            tiers = await self.tiers()
            # Sibling fields ask at once: the first to get here builds them, the others
            # (which awaited the program meanwhile) share them, or nothing would batch.
            if self._loaders is None:
                self._loaders = Loaders(self.runtime, self.reader, program, self.caller(), tiers)
        return self._loaders


Info = StrawberryInfo[Context, None]
