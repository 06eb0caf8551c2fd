"""Schemathesis against a real server: generated queries and mutations for every root field,
as a member and as an admin. No response may be a server error or break the schema.

Examples per operation are bounded for CI; `LOYALTY_FUZZ_EXAMPLES=200` runs it longer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.auth import mint_token
from api.settings import Settings
from domain.model import Role

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("LOYALTY_FUZZ_EXAMPLES", "12"))
SECRET = uuid.uuid4().hex * 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env.update(
        LOYALTY_DATABASE_URL=f"sqlite:///{folder / 'fuzz.db'}",
        LOYALTY_JWT_SECRET=SECRET,
        LOYALTY_COST_REFILL_PER_SECOND="1000000",
        PYTHONPATH=str(ROOT),
    )
    cli = [sys.executable, "-m", "api.cli"]
    for args in (["migrate"], ["demo"]):
        subprocess.run([*cli, *args], env=env, cwd=folder, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _token(role: Role) -> str:
    settings_ = Settings(jwt_secret=SECRET, _env_file=None)
    return mint_token(settings_, program="demo", role=role, subject="alice", store="s1")


def _check(case, role: Role) -> None:  # type: ignore[no-untyped-def]
    # Refusals (FORBIDDEN, INVALID_INPUT, ...) are correct answers here; schemathesis' own
    # GraphQL check counts every `errors` entry as a failure, so ours judges the body.
    # As application/json every well-formed request answers 200, also one refused before
    # it runs (QUERY_TOO_COMPLEX is a 400 as graphql-response+json): the body is judged.
    headers = {"Authorization": f"Bearer {_token(role)}", "Accept": "application/json"}
    response = case.call(headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict) and set(body) <= {"data", "errors", "extensions"}, body
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_SERVER_ERROR", body
        assert "non-nullable" not in error["message"], body  # the schema's promise broken
        assert "Traceback" not in error["message"] and "SELECT" not in error["message"], body


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMIN], ids=["member", "admin"])
def test_generated_operations_never_fail_the_server_or_the_schema(server: str, role: Role) -> None:
    # pytest-asyncio, pytest 9 and schemathesis' own pytest plugin disagree, so the
    # operations' Hypothesis strategies are driven directly.
    loaded = schemathesis.graphql.from_url(f"{server}/graphql")
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            _check(case, role)

        run()
