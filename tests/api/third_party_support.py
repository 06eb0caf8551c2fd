"""Third-party clients against a running server: the `graphql-ws` npm client run by Node.

The Node project is tests/clients/js (`make test` installs it with `npm ci`). Without Node
or its packages the tests that need it are skipped with the reason, and fail under CI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.runtime import Runtime
from tests.api.live_support import wait_for_subscribers
from tests.conftest import IN_CI

JS_DIR = Path(__file__).resolve().parents[1] / "clients" / "js"
NODE_PACKAGES = ("graphql-ws", "ws", "graphql")


def node_or_skip() -> str:
    """The `node` executable, once tests/clients/js has its packages installed."""
    node = shutil.which("node")
    missing = [p for p in NODE_PACKAGES if not (JS_DIR / "node_modules" / p).is_dir()]
    problem = None
    if node is None:
        problem = "Node.js is not installed (apt-get install nodejs npm)"
    elif missing:
        problem = f"{', '.join(missing)} not installed: run `npm ci` in {JS_DIR} (`make test` does)"
    if problem is None:
        assert node is not None
        return node
    if IN_CI:
        pytest.fail(problem)
    pytest.skip(problem + " (CI fails instead of skipping)")


class NodeProcess:
    """A Node script whose stdout is read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def subscribed(self, runtime: Runtime, count: int = 1, timeout: float = 10) -> None:
        """Wait until the server has `count` subscribers; fail with the output if Node exits."""
        waiting = asyncio.ensure_future(wait_for_subscribers(runtime, count, timeout))
        exited = asyncio.ensure_future(self.process.wait())
        await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done():
            exited.cancel()
            return waiting.result()
        waiting.cancel()
        out, err = await self.process.communicate()
        raise AssertionError(
            f"exited {self.process.returncode} before subscribing: {out.decode()}{err.decode()}"
        )

    async def line(self, timeout: float = 10) -> str:
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)  # type: ignore[union-attr]
        if not raw:
            await self.process.wait()
            stderr = await self.process.stderr.read()  # type: ignore[union-attr]
            raise AssertionError(
                f"exited {self.process.returncode} with no more output: {stderr.decode()}"
            )
        return raw.decode().rstrip("\n")

    async def message(self, timeout: float = 10) -> dict[str, Any]:
        """The next JSON line of subscribe.mjs."""
        return json.loads(await self.line(timeout))

    async def exit_code(self, timeout: float = 10) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def rest(self, timeout: float = 10) -> list[str]:
        """Every line still to come, once the script has exited."""
        out = await asyncio.wait_for(self.process.stdout.read(), timeout)  # type: ignore[union-attr]
        return out.decode().splitlines()


@contextlib.asynccontextmanager
async def run_node(script: str, *args: str, env: dict[str, str]) -> AsyncIterator[NodeProcess]:
    """Run tests/clients/js/<script>; stopped (SIGTERM) if still running at the end."""
    process = await asyncio.create_subprocess_exec(
        node_or_skip(),
        str(JS_DIR / script),
        *args,
        cwd=JS_DIR,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield NodeProcess(process)
    finally:
        if process.returncode is None:
            process.terminate()
        await process.communicate()


def subscribe(url: str, query: str, token: str | None) -> contextlib.AbstractAsyncContextManager:
    """tests/clients/js/subscribe.mjs: one subscription, one JSON line per message."""
    return run_node("subscribe.mjs", url, query, env={"LOYALTY_TOKEN": token or ""})
