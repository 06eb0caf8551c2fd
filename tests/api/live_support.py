"""A real server in the test's event loop and a graphql-transport-ws client for it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
import websockets

from api.app import create_app
from api.runtime import Runtime
from tests.support import Api

PROTOCOL = "graphql-transport-ws"
# the app each test server runs, by id(runtime): the tests ask it how many subscribers it has
_apps: dict[int, Any] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(runtime: Runtime) -> AsyncIterator[str]:
    """uvicorn serving `create_app(runtime)` on a free loopback port; yields the base URL."""
    port = free_port()
    app = create_app(runtime)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    _apps[id(runtime)] = app
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        _apps.pop(id(runtime), None)


class Servers:
    """One server per backend for a whole module, each with its own engine and bus
    (enter `serving` from a module-scoped fixture holding the exit stack)."""

    def __init__(self, stack: contextlib.AsyncExitStack) -> None:
        self.stack = stack
        self.running: dict[str, tuple[Runtime, str]] = {}

    async def serving(self, runtime: Runtime) -> tuple[Runtime, str]:
        """(the server's runtime, host) for `runtime`'s database, started on first use."""
        url = runtime.settings.database_url
        if url not in self.running:
            server_runtime = Runtime(
                settings=runtime.settings, db=type(runtime.db)(url), clock=runtime.clock
            )
            host = await self.stack.enter_async_context(serve(server_runtime))
            self.running[url] = (server_runtime, host)
        return self.running[url]


@contextlib.asynccontextmanager
async def running(
    runtime: Runtime, program: str, **settings: Any
) -> AsyncIterator[tuple[Api, Runtime, str]]:
    """A server with its own runtime (engine, bus, `settings` changed) on the test's database:
    (Api over HTTP, the server's runtime, host)."""
    server_runtime = Runtime(
        settings=runtime.settings.model_copy(update=settings),
        db=type(runtime.db)(runtime.settings.database_url),
        clock=runtime.clock,
    )
    async with serve(server_runtime) as host, http_client(host) as client:
        yield Api(client=client, runtime=server_runtime, program=program), server_runtime, host


class Socket:
    """One graphql-transport-ws connection."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), timeout=timeout)
        # The protocol's messages are JSON text: browsers cannot read binary frames.
        assert isinstance(frame, str), f"binary WebSocket frame: {frame!r}"
        return json.loads(frame)

    async def subscribe(self, op_id: str, query: str) -> None:
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query}})

    async def ack(self) -> None:
        message = await self.receive()
        assert message["type"] == "connection_ack", message

    async def closed(self, timeout: float = 5) -> tuple[int | None, str]:
        """Wait for the server to close the socket (skipping what it still sends):
        (close code, reason); code None when it went away without a close frame."""
        async with asyncio.timeout(timeout):
            while True:
                try:
                    await self.ws.recv()
                except websockets.ConnectionClosed as closed:
                    if closed.rcvd is None:
                        return None, ""
                    return closed.rcvd.code, closed.rcvd.reason

    async def next_data(self, timeout: float = 5) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]


@contextlib.asynccontextmanager
async def connect(host: str, token: str | None, protocol: str = PROTOCOL) -> AsyncIterator[Socket]:
    # max_queue=None: frames a test leaves unread never hold up the closing handshake
    async with websockets.connect(
        f"ws://{host}/graphql", subprotocols=[protocol], max_queue=None
    ) as ws:
        sock = Socket(ws)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        with contextlib.suppress(websockets.ConnectionClosed):  # refused at once: see `closed`
            await sock.send({"type": "connection_init", "payload": payload})
        yield sock


async def acknowledged(host: str, token: str) -> contextlib.AbstractAsyncContextManager[Socket]:
    return connect(host, token)


def subscriber_count(runtime: Runtime) -> int:
    """Subscriptions the server serving `runtime` has registered for events."""
    return int(_apps[id(runtime)].state.live.subscriber_count)


async def wait_for_connections(runtime: Runtime, count: int, timeout: float = 5) -> None:
    """Block until the server has `count` WebSockets open (a close completes asynchronously)."""
    live = _apps[id(runtime)].state.live
    for _ in range(int(timeout / 0.01)):
        if live.connection_count == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{live.connection_count} sockets, expected {count}")


async def wait_for_subscribers(runtime: Runtime, count: int, timeout: float = 5) -> None:
    """Block until the server has `count` subscribers (subscribe is asynchronous)."""
    for _ in range(int(timeout / 0.01)):
        if subscriber_count(runtime) == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{subscriber_count(runtime)} subscribers, expected {count}")


def http_client(host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://{host}", timeout=10)
