"""Per-operation dataloaders: one query per kind of object per request, never module level."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from api.runtime import Runtime
from domain.model import LedgerEntry, Principal, Program, Role, Tier, Wallet
from domain.rewards import Partner, Redemption, Reward, Unavailable, unavailable_reason
from domain.services.catalog import member_context
from domain.tiers import QUALIFYING_KINDS, qualifying_window
from persistence.unit_of_work import SqlUnitOfWork


@dataclass
class Loaders:
    """Built fresh for every operation (and every subscription event): never shared."""

    runtime: Runtime
    reader: Callable[[], SqlUnitOfWork]
    program: Program
    principal: Principal
    tiers: list[Tier]
    wallets: DataLoader[uuid.UUID, Wallet | None] = field(init=False)
    entries: DataLoader[uuid.UUID, LedgerEntry | None] = field(init=False)
    qualifying_points: DataLoader[uuid.UUID, int] = field(init=False)
    rewards: DataLoader[uuid.UUID, Reward | None] = field(init=False)
    partners: DataLoader[uuid.UUID, Partner | None] = field(init=False)
    redemptions: DataLoader[uuid.UUID, Redemption | None] = field(init=False)
    donated_points: DataLoader[uuid.UUID, int] = field(init=False)
    availability: DataLoader[uuid.UUID, tuple[Unavailable | None, bool | None]] = field(init=False)
    _partner_id: list[uuid.UUID | None] = field(default_factory=list)

    @property
    def program_id(self) -> uuid.UUID:
        return self.program.id

    def __post_init__(self) -> None:
        self.wallets = DataLoader(load_fn=self._load_wallets)
        self.entries = DataLoader(load_fn=self._load_entries)
        self.qualifying_points = DataLoader(load_fn=self._load_qualifying)
        self.rewards = DataLoader(load_fn=self._load_rewards)
        self.partners = DataLoader(load_fn=self._load_partners)
        self.redemptions = DataLoader(load_fn=self._load_redemptions)
        self.donated_points = DataLoader(load_fn=self._load_donated)
        self.availability = DataLoader(load_fn=self._load_availability)

    async def _load_qualifying(self, ids: list[uuid.UUID]) -> list[int]:
        start, _ = qualifying_window(
            self.program.policy.qualifying, self.runtime.clock.now(), self.program.time_zone
        )
        async with self.reader() as uow:
            found = await uow.ledger.qualifying_points(
                self.program_id, ids, start, QUALIFYING_KINDS
            )
        return [found.get(i, 0) for i in ids]

    async def _load_wallets(self, ids: list[uuid.UUID]) -> list[Wallet | None]:
        async with self.reader() as uow:
            found = {w.member_id: w for w in await uow.ledger.wallets(self.program_id, ids)}
        return [found.get(i) for i in ids]

    async def _load_entries(self, ids: list[uuid.UUID]) -> list[LedgerEntry | None]:
        async with self.reader() as uow:
            found = {e.id: e for e in await uow.ledger.entries(self.program_id, ids)}
        return [found.get(i) for i in ids]

    async def _load_rewards(self, ids: list[uuid.UUID]) -> list[Reward | None]:
        async with self.reader() as uow:
            found = {r.id: r for r in await uow.rewards.get_many(self.program_id, ids)}
        return [found.get(i) for i in ids]

    async def _load_partners(self, ids: list[uuid.UUID]) -> list[Partner | None]:
        async with self.reader() as uow:
            found = {p.id: p for p in await uow.rewards.partners(self.program_id, ids)}
        return [found.get(i) for i in ids]

    async def _load_redemptions(self, ids: list[uuid.UUID]) -> list[Redemption | None]:
        async with self.reader() as uow:
            found = {r.id: r for r in await uow.rewards.redemptions(self.program_id, ids)}
        return [found.get(i) for i in ids]

    async def _load_donated(self, ids: list[uuid.UUID]) -> list[int]:
        async with self.reader() as uow:
            found = await uow.rewards.donated_points(self.program_id, ids)
        return [found.get(i, 0) for i in ids]

    async def _load_availability(
        self, ids: list[uuid.UUID]
    ) -> list[tuple[Unavailable | None, bool | None]]:
        """(why unavailable or None, affordable) for the caller, as the catalog computes it."""
        now = self.runtime.clock.now()
        rewards = [r for r in await self.rewards.load_many(ids) if r is not None]
        found: dict[uuid.UUID, tuple[Unavailable | None, bool | None]]
        if self.principal.role is not Role.MEMBER:
            found = {r.id: (unavailable_reason(r, now), None) for r in rewards}
        else:
            async with self.reader() as uow:
                view = await member_context(
                    uow, self.program_id, self.tiers, self.principal, rewards, now
                )
            found = {
                r.id: (view.unavailable(r), view.enrolled and view.balance >= r.points_cost)
                for r in rewards
            }
        # A reward that no longer loads is not on offer: answered like an archived one.
        return [found.get(i, (Unavailable.ARCHIVED, None)) for i in ids]

    async def partner_id(self) -> uuid.UUID | None:
        """The caller's partner, for partner tokens (None otherwise or if unknown)."""
        if not self._partner_id:
            partner = None
            if self.principal.role is Role.PARTNER:
                async with self.reader() as uow:
                    partner = await uow.rewards.partner_by_slug(
                        self.program_id, self.principal.partner or ""
                    )
            self._partner_id.append(partner.id if partner else None)
        return self._partner_id[0]
