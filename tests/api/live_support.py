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

PROTOCOL = "graphql-transport-ws"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(runtime: Runtime) -> AsyncIterator[str]:
    """uvicorn serving `create_app(runtime)` on a free loopback port; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


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

    async def next_data(self, timeout: float = 5) -> dict[str, Any]:
        message = await self.receive(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]


@contextlib.asynccontextmanager
async def connect(host: str, token: str | None, protocol: str = PROTOCOL) -> AsyncIterator[Socket]:
    async with websockets.connect(f"ws://{host}/graphql", subprotocols=[protocol]) as ws:
        sock = Socket(ws)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await sock.send({"type": "connection_init", "payload": payload})
        yield sock


async def acknowledged(host: str, token: str) -> contextlib.AbstractAsyncContextManager[Socket]:
    return connect(host, token)


async def wait_for_subscribers(runtime: Runtime, count: int, timeout: float = 5) -> None:
    """Block until the server's bus has `count` subscribers (subscribe is asynchronous)."""
    for _ in range(int(timeout / 0.01)):
        if runtime.bus.subscriber_count == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{runtime.bus.subscriber_count} subscribers, expected {count}")


def http_client(host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://{host}", timeout=10)
