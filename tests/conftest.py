"""Fixtures: every database test runs on SQLite and on PostgreSQL.

Each backend's database is created and migrated once per session; tests isolate
themselves by working in a program of their own (every row is program-scoped).
Under CI (`CI=true`) a PostgreSQL that cannot be reached fails the tests; elsewhere
they are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from domain.services.programs import create_program
from persistence.migrate import upgrade
from tests.support import Api, MovableClock, unique_slug

BACKENDS = ["sqlite", "postgresql"]
POSTGRES_URL = os.environ.get(
    "LOYALTY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_runtimes: dict[str, Runtime] = {}
_cleanups: list = []


async def _postgres_database() -> str:
    """A fresh database on the test server; dropped at the end of the session."""
    base = make_url(POSTGRES_URL)
    name = f"loyalty_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        message = f"PostgreSQL at {base.host}:{base.port} is not reachable: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message + " (set LOYALTY_TEST_POSTGRES_URL; CI fails instead of skipping)")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    _cleanups.append(drop)
    return base.set(database=name).render_as_string(hide_password=False)


@pytest_asyncio.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> str:
    """A database with no tables yet, on the backend under test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return await _postgres_database()


async def _runtime_for(backend: str, tmp: Path) -> Runtime:
    if backend not in _runtimes:
        if backend == "sqlite":
            url = f"sqlite:///{tmp / 'loyalty-test.db'}"
        else:
            url = await _postgres_database()
        await asyncio.to_thread(upgrade, url)
        settings = Settings(
            database_url=url,
            jwt_secret="test-secret-" + uuid.uuid4().hex,
            var_dir=tmp / "var",
            # Races fire hundreds of requests from one caller; the budget has its own tests.
            cost_budget=10_000_000,
            _env_file=None,
        )
        _runtimes[backend] = Runtime.from_settings(settings, clock=MovableClock())
    return _runtimes[backend]


@pytest_asyncio.fixture(scope="session", autouse=True)
async def _close_databases() -> AsyncIterator[None]:
    yield
    for runtime in _runtimes.values():
        await runtime.db.dispose()
    for cleanup in _cleanups:
        await cleanup()


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("loyalty")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest_asyncio.fixture
async def runtime(backend: str, session_tmp: Path) -> AsyncIterator[Runtime]:
    runtime = await _runtime_for(backend, session_tmp)
    yield runtime
    clock = runtime.clock
    assert isinstance(clock, MovableClock)
    clock.reset()


@pytest.fixture
def clock(runtime: Runtime) -> MovableClock:
    assert isinstance(runtime.clock, MovableClock)
    return runtime.clock


@pytest_asyncio.fixture
async def program(runtime: Runtime) -> str:
    """A fresh program (EUR, 10 points per 1.00) that only this test uses."""
    slug = unique_slug()
    async with runtime.uow() as uow:
        await create_program(uow, runtime.clock, slug=slug, name="Test Program", currency="EUR")
    return slug


@pytest_asyncio.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient, runtime: Runtime, program: str) -> Api:
    return Api(client=client, runtime=runtime, program=program)


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("LOYALTY_"):
            monkeypatch.delenv(key)
    yield
