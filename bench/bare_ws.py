"""The memory baseline of bench/subscriptions.py: a bare `websockets` server that accepts
connections on /graphql (graphql-transport-ws subprotocol), reads and drops whatever the
client sends, and holds the connection until the client goes away.

    .venv/bin/python bench/bare_ws.py --port 8111

Same event loop (uvloop) and settings that matter for memory as `loyalty serve` under
uvicorn: no per-message deflate, keepalive pings every 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from websockets.asyncio.server import ServerConnection, serve

PROTOCOL = "graphql-transport-ws"


async def hold(ws: ServerConnection) -> None:
    async for _ in ws:
        pass


async def main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(
        hold,
        "127.0.0.1",
        port,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        compression=None,
        ping_interval=20,
        backlog=2048,
    ):
        print(f"bare websockets server on 127.0.0.1:{port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8111)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(main(args.port))
