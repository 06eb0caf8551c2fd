"""Attacks on the features merged together (WebSocket, GraphQL over HTTP, pricing, vouchers,
refunds, campaigns, points payments), as an outsider would try them on a real server.
Each test is a hole that was open; the fix lives in the layer named in the test."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from api.runtime import Runtime
from tests.api.live_support import connect, running
from tests.support import Api, MovableClock


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


# --- trusted documents ---------------------------------------------------------------------

TRUSTED = "query Slug { program { slug } }"


@pytest.mark.asyncio
async def test_trusted_documents_hold_over_websocket_too(
    runtime: Runtime, program: str, tmp_path: Path
) -> None:
    # given a server that runs only its trusted documents
    path = tmp_path / "trusted.json"
    path.write_text(json.dumps({sha256(TRUSTED): TRUSTED}))
    async with (
        running(runtime, program, trusted_documents=path) as (api, _, host),
        connect(host, api.admin()) as sock,
    ):
        await sock.ack()
        # when a client sends a document outside the manifest over the socket
        await sock.subscribe("1", "{ program { slug name currency } }")
        refused = await sock.receive()
        # then it is refused as over HTTP, and nothing ran
        assert refused["type"] == "error", refused
        assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        # a trusted one runs, by its text or by its hash
        await sock.subscribe("2", TRUSTED)
        assert (await sock.next_data()) == {"program": {"slug": program}}
        assert (await sock.receive())["type"] == "complete"
        persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256(TRUSTED)}}
        await sock.send(
            {"id": "3", "type": "subscribe", "payload": {"query": "", "extensions": persisted}}
        )
        assert (await sock.next_data()) == {"program": {"slug": program}}


# --- tokens --------------------------------------------------------------------------------


def token_with_exp(runtime: Runtime, program: str, exp: Any) -> str:
    """A member token signed with the server's own key, its `exp` as given."""
    settings = runtime.settings
    now = int(time.time())
    claims = {
        "sub": "exp-probe",
        "role": "member",
        "program": program,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": exp,
    }
    return jwt.encode(claims, settings.secret, algorithm="HS256")


@pytest.mark.asyncio
async def test_a_token_whose_exp_is_a_string_still_expires_on_the_socket(
    runtime: Runtime, program: str, clock: MovableClock
) -> None:
    # given a token whose exp is a JSON string (PyJWT checks it once, with int())
    token = token_with_exp(runtime, program, str(int(time.time()) + 60))
    async with running(runtime, program) as (_, _, host), connect(host, token) as sock:
        # when the socket stays open past that exp
        clock.advance(timedelta(hours=1))
        await sock.subscribe("1", "{ program { slug } }")
        # then the token no longer runs anything on it (refused or closed at exp: 4403)
        code, _ = await sock.closed()
        assert code == 4403


@pytest.mark.asyncio
async def test_an_exp_beyond_the_calendar_is_unauthenticated_not_a_crash(
    api: Api, runtime: Runtime, program: str
) -> None:
    # given a token with exp past year 9999 (valid for PyJWT, no datetime can hold it)
    token = token_with_exp(runtime, program, 10**13)
    # when it is used
    body = await api.raw("{ program { slug } }", token=token)
    # then it is refused as a bad token, not answered as our own failure
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body


@pytest.mark.asyncio
async def test_a_key_replaced_under_the_same_kid_retires_the_tokens_it_signed(
    runtime: Runtime, program: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import auth
    from tests.api.test_identity_providers import (
        KEY_A,
        KEY_B,
        _runtime_with,
        _whoami,
        idp_token,
        jwk,
        jwks_server,
    )

    monkeypatch.setattr(auth, "JWKS_MIN_REFETCH_SECONDS", 0.0)
    with jwks_server() as provider:
        # given a provider publishing key A as kid "main", and a token it signed, verified
        provider.keys = [jwk(KEY_A.public_key(), "main", "RS256")]
        idp = _runtime_with(runtime, jwks_url=provider.url, jwks_refresh_seconds=0)
        old = idp_token(KEY_A, "main", program)
        assert (await _whoami(idp, old))["data"] == {"program": {"slug": program}}
        # when the provider replaces the (compromised) key with B under the same kid
        provider.keys = [jwk(KEY_B.public_key(), "main", "RS256")]
        assert "errors" not in await _whoami(idp, idp_token(KEY_B, "main", program))
        # then a token signed with A is refused, though it verified before
        refused = await _whoami(idp, old)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", refused
