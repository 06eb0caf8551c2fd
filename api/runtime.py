"""What a running server shares between requests: settings, database, clock, token verifier."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.auth import TokenVerifier
from api.settings import Settings
from domain.ports import Clock
from persistence.db import Database
from persistence.events import EventBus, PostgresEventBus
from persistence.unit_of_work import SqlUnitOfWork


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    verifier: TokenVerifier = field(init=False)
    bus: EventBus = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = TokenVerifier(self.settings)
        # PostgreSQL fans events out to every process; SQLite is one process anyway.
        self.bus = EventBus() if self.db.is_sqlite else PostgresEventBus(self.db.url)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        settings.check()
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        return cls(settings=settings, db=db, clock=clock or SystemClock())

    def uow(self) -> SqlUnitOfWork:
        """A write transaction for one use case."""
        bus = self.bus if self.settings.live_updates else None
        return SqlUnitOfWork(self.db, write=True, bus=bus)

    def reader(self) -> SqlUnitOfWork:
        """A short read-only transaction (one per loader batch or query field)."""
        return SqlUnitOfWork(self.db, write=False)
