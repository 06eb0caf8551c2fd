"""Per-operation context: the caller, unit-of-work factories and this operation's loaders."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from api.runtime import Runtime
from domain.errors import NotAuthenticated
from domain.model import LedgerEntry, Principal, Program, Tier, Wallet
from domain.tiers import QUALIFYING_KINDS, calendar_period


@dataclass
class Loaders:
    """Built fresh for every operation (and every subscription event): never shared."""

    runtime: Runtime
    program_id: uuid.UUID
    wallets: DataLoader[uuid.UUID, Wallet | None] = field(init=False)
    entries: DataLoader[uuid.UUID, LedgerEntry | None] = field(init=False)
    qualifying_points: DataLoader[uuid.UUID, int] = field(init=False)

    def __post_init__(self) -> None:
        self.wallets = DataLoader(load_fn=self._load_wallets)
        self.entries = DataLoader(load_fn=self._load_entries)
        self.qualifying_points = DataLoader(load_fn=self._load_qualifying)

    async def _load_qualifying(self, ids: list[uuid.UUID]) -> list[int]:
        start, _ = calendar_period(self.runtime.clock.now())
        async with self.runtime.reader() as uow:
            found = await uow.ledger.qualifying_points(
                self.program_id, ids, start, QUALIFYING_KINDS
            )
        return [found.get(i, 0) for i in ids]

    async def _load_wallets(self, ids: list[uuid.UUID]) -> list[Wallet | None]:
        async with self.runtime.reader() as uow:
            found = {w.member_id: w for w in await uow.ledger.wallets(self.program_id, ids)}
        return [found.get(i) for i in ids]

    async def _load_entries(self, ids: list[uuid.UUID]) -> list[LedgerEntry | None]:
        async with self.runtime.reader() as uow:
            found = {e.id: e for e in await uow.ledger.entries(self.program_id, ids)}
        return [found.get(i) for i in ids]


@dataclass
class Context:
    runtime: Runtime
    principal: Principal | None
    request: Any = None
    response: Any = None
    auth_error: NotAuthenticated | None = None
    _program: Program | None = None
    _tiers: list[Tier] | None = None
    _loaders: Loaders | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

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
                async with self.runtime.reader() as uow:
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

    async def loaders(self) -> Loaders:
        if self._loaders is None:
            program = await self.program()
            self._loaders = Loaders(self.runtime, program.id)
        return self._loaders


Info = StrawberryInfo[Context, None]
