"""Delivering events after commit: in-process for SQLite, PostgreSQL LISTEN/NOTIFY across
processes. Both implement the same bus, so a broker (NATS, Redis) could replace NOTIFY
without touching the domain.

With PostgreSQL, the unit of work sends ONE `pg_notify` inside the writing transaction
(PostgreSQL delivers it on commit and drops it on rollback); each server process holds
one LISTEN connection and hands what arrives to its own subscribers, its own writes
included. With SQLite, the unit of work hands events to the bus after commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import (
    Event,
    RedemptionChanged,
    TierChanged,
    TierChangeReason,
    WalletChanged,
    topics,
)

log = logging.getLogger("loyalty.events")

CHANNEL = "loyalty_events"
MAX_NOTIFY_BYTES = 7000  # PostgreSQL's limit is 8000
SUBSCRIBER_QUEUE = 256  # a client that falls this far behind is cut off (it refetches)


def encode(events: Sequence[Event]) -> list[str]:
    """Small JSON payloads (ids, version, numbers), each under PostgreSQL's limit."""
    items = [_to_dict(e) for e in events]
    payloads: list[str] = []
    batch: list[dict[str, Any]] = []
    for item in items:
        candidate = json.dumps([*batch, item], separators=(",", ":"))
        if batch and len(candidate) > MAX_NOTIFY_BYTES:
            payloads.append(json.dumps(batch, separators=(",", ":")))
            batch = []
        batch.append(item)
    if batch:
        payloads.append(json.dumps(batch, separators=(",", ":")))
    return payloads


def decode(payload: str) -> list[Event]:
    return [_from_dict(item) for item in json.loads(payload)]


def _hex(value: uuid.UUID | None) -> str | None:
    return value.hex if value else None


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(hex=value) if value else None


def _to_dict(event: Event) -> dict[str, Any]:
    if isinstance(event, WalletChanged):
        return {
            "k": "w",
            "p": event.program_id.hex,
            "m": event.member_id.hex,
            "v": event.version,
            "d": event.delta,
            "b": event.balance,
            "n": event.pending,
            "e": _hex(event.entry_id),
        }
    if isinstance(event, TierChanged):
        return {
            "k": "t",
            "p": event.program_id.hex,
            "m": event.member_id.hex,
            "t": event.tier_id.hex,
            "f": event.previous_tier_id.hex,
            "r": event.reason.value,
            "a": event.at.isoformat(),
        }
    return {
        "k": "r",
        "p": event.program_id.hex,
        "m": event.member_id.hex,
        "r": event.redemption_id.hex,
        "s": event.status,
        "q": _hex(event.partner_id),
    }


def _from_dict(item: dict[str, Any]) -> Event:
    if item["k"] == "w":
        return WalletChanged(
            program_id=uuid.UUID(hex=item["p"]),
            member_id=uuid.UUID(hex=item["m"]),
            version=item["v"],
            delta=item["d"],
            balance=item["b"],
            pending=item["n"],
            entry_id=_uuid(item["e"]),
        )
    if item["k"] == "t":
        return TierChanged(
            program_id=uuid.UUID(hex=item["p"]),
            member_id=uuid.UUID(hex=item["m"]),
            tier_id=uuid.UUID(hex=item["t"]),
            previous_tier_id=uuid.UUID(hex=item["f"]),
            reason=TierChangeReason(item["r"]),
            at=datetime.fromisoformat(item["a"]),
        )
    return RedemptionChanged(
        program_id=uuid.UUID(hex=item["p"]),
        member_id=uuid.UUID(hex=item["m"]),
        redemption_id=uuid.UUID(hex=item["r"]),
        status=item["s"],
        partner_id=_uuid(item["q"]),
    )


class Mailbox:
    """One subscriber's undelivered events, in order: `async with bus.subscribe(topic) as
    mailbox`, then `await mailbox.get()` until it answers None (closed).

    A server holds thousands of these, idle, so it is small: a list and at most one
    waiting future, where an asyncio.Queue allocates four deques and a timed
    `wait_for(queue.get())` a task and a timer on every wait.
    """

    __slots__ = ("_bus", "_closed", "_events", "_waiter", "topic")

    def __init__(self, bus: EventBus, topic: str) -> None:
        self._bus = bus
        self.topic = topic
        self._events: list[Event] = []
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    async def __aenter__(self) -> Mailbox:
        await self._bus.start()
        return self.open()

    async def __aexit__(self, *_: object) -> None:
        self.release()

    def open(self) -> Mailbox:
        """Receive from now on, without yielding to the event loop (the bus is started):
        for callers that register a listener and must not miss what comes meanwhile."""
        self._bus._add(self)
        return self

    def release(self) -> None:
        """Stop receiving and close."""
        self._bus._remove(self)
        self.close()

    def __len__(self) -> int:
        return len(self._events)

    def put(self, event: Event) -> None:
        if self._closed:
            return
        if len(self._events) >= SUBSCRIBER_QUEUE:
            # Too far behind: end the subscription rather than grow without bound; the
            # client resubscribes and refetches.
            self._bus.dropped += len(self._events) + 1
            self.close()
            return
        self._events.append(event)
        self._wake()

    def close(self) -> None:
        """Drop what is pending; `get` answers None from now on."""
        self._closed = True
        self._events.clear()
        self._wake()

    async def get(self) -> Event | None:
        """The next event, or None once closed."""
        while not self._events:
            if self._closed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.pop(0)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class EventBus:
    """Subscribers of this process, by topic. `deliver` hands events to them."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Mailbox]] = {}
        self.dropped = 0  # events discarded for subscribers cut off for falling behind

    @property
    def subscriber_count(self) -> int:
        return sum(len(mailboxes) for mailboxes in self._subscribers.values())

    def subscribe(self, topic: str) -> Mailbox:
        """`async with bus.subscribe(topic) as mailbox`: the topic's events until the block
        ends (then the mailbox is released)."""
        return Mailbox(self, topic)

    def _add(self, mailbox: Mailbox) -> None:
        self._subscribers.setdefault(mailbox.topic, []).append(mailbox)

    def _remove(self, mailbox: Mailbox) -> None:
        mailboxes = self._subscribers.get(mailbox.topic)
        if mailboxes is not None and mailbox in mailboxes:
            mailboxes.remove(mailbox)
            if not mailboxes:
                del self._subscribers[mailbox.topic]

    def deliver(self, events: Sequence[Event]) -> None:
        for event in events:
            for topic in topics(event):
                for mailbox in tuple(self._subscribers.get(topic, ())):
                    mailbox.put(event)

    async def before_commit(self, conn: AsyncConnection, events: Sequence[Event]) -> None:
        """Called inside the writing transaction, just before COMMIT."""

    def after_commit(self, events: Sequence[Event]) -> None:
        """Called after COMMIT succeeded."""
        self.deliver(events)

    async def start(self) -> None:
        """Begin receiving (no-op in-process)."""

    async def stop(self) -> None:
        """Stop receiving; subscribers' mailboxes are closed."""
        for mailboxes in list(self._subscribers.values()):
            for mailbox in list(mailboxes):
                mailbox.close()


_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
_NOTIFY_SQL = "SELECT pg_notify($1, $2)"


class PostgresEventBus(EventBus):
    """NOTIFY in the writing transaction; one LISTEN connection per process."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        parsed = make_url(database_url)
        self._dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()

    async def before_commit(self, conn: AsyncConnection, events: Sequence[Event]) -> None:
        payloads = encode(events)
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is not None and driver.is_in_transaction():
            # The writes before it began the transaction: the NOTIFY joins it on the driver
            # directly, without SQLAlchemy's per-statement work (it runs while other
            # purchases of the member wait for this one's wallet lock).
            for payload in payloads:
                await driver.execute(_NOTIFY_SQL, CHANNEL, payload)
            return
        for payload in payloads:
            await conn.execute(_NOTIFY, {"channel": CHANNEL, "payload": payload})

    def after_commit(self, events: Sequence[Event]) -> None:
        """Nothing: PostgreSQL delivers the NOTIFY to every process, this one included."""

    async def start(self) -> None:
        if self._ready.is_set():
            return  # every subscribe calls this: no lock, no task once listening
        async with self._lock:
            if self._task is None:
                self._task = asyncio.create_task(self._listen_forever(), name="loyalty-listen")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                closed = asyncio.Event()
                self._listener = await asyncpg.connect(self._dsn, timeout=10)
                self._listener.add_termination_listener(lambda _conn, done=closed: done.set())
                await self._listener.add_listener(CHANNEL, self._on_notify)
                self._ready.set()
                delay = 0.1
                await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception:  # the listener must come back whatever happened
                log.exception("event listener lost its connection; reconnecting")
            finally:
                if self._listener is not None and not self._listener.is_closed():
                    with contextlib.suppress(Exception):
                        await self._listener.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if not self._subscribers:
            return  # nobody in this process listens: nothing to decode
        try:
            events = decode(payload)
        except (ValueError, KeyError):
            log.error("undecodable notification: %.200s", payload)
            return
        self.deliver(events)

    async def stop(self) -> None:
        await super().stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        self._ready.clear()
