"""Tokens of an identity provider: keys from its JWKS URL (fetched, cached, rotated) and its
own claim names, through the GraphQL API."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api import auth
from api.app import create_app
from api.runtime import Runtime
from tests.api.live_support import connect, running
from tests.unit.test_tokens import jwk

KEY_A = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_B = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class JwksServer:
    """A local identity provider's JWKS endpoint whose keys a test can change."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"


@contextlib.contextmanager
def jwks_server() -> Iterator[JwksServer]:
    provider = JwksServer()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.server.shutdown()
        provider.server.server_close()


def idp_token(key: Any, kid: str, program_slug: str, **claims: Any) -> str:
    """An RS256 token; claims given as None are left out."""
    now = int(time.time())
    body = {"sub": "auth0|alice", "iss": "loyalty", "aud": "loyalty-api", "iat": now}
    body.update({"exp": now + 600, "role": "member", "program": program_slug}, **claims)
    body = {name: value for name, value in body.items() if value is not None}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


async def _whoami(runtime: Runtime, token: str) -> dict[str, Any]:
    app = create_app(runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ program { slug } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = dict(response.json())
    body.pop("extensions", None)  # the cost of the call (api/limits.py)
    return body


def _runtime_with(runtime: Runtime, **settings: Any) -> Runtime:
    changed = runtime.settings.model_copy(update=settings)
    return Runtime(settings=changed, db=runtime.db, clock=runtime.clock)


@pytest.mark.asyncio
async def test_tokens_verify_with_keys_from_a_jwks_url_and_rotate(
    runtime: Runtime, program: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "JWKS_MIN_REFETCH_SECONDS", 0.0)
    with jwks_server() as provider:
        # given an identity provider publishing key A
        provider.keys = [jwk(KEY_A.public_key(), "a", "RS256")]
        idp = _runtime_with(runtime, jwks_url=provider.url)
        # when a token signed with A arrives, then it is accepted
        token_a = idp_token(KEY_A, "a", program)
        assert await _whoami(idp, token_a) == {"data": {"program": {"slug": program}}}
        fetched = provider.fetches
        # and the keys are cached: more requests fetch nothing
        for _ in range(3):
            assert "errors" not in await _whoami(idp, token_a)
        assert provider.fetches == fetched
        # when the provider rotates to key B, a token naming B makes the server refetch
        provider.keys = [jwk(KEY_B.public_key(), "b", "RS256")]
        token_b = idp_token(KEY_B, "b", program)
        assert "errors" not in await _whoami(idp, token_b)
        # and A, no longer published, is refused, even though it verified before
        refused = await _whoami(idp, token_a)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # a token signed by a key the provider never published is refused too
        forged = idp_token(KEY_A, "b", program)
        assert (await _whoami(idp, forged))["errors"][0]["extensions"]["code"] == (
            "UNAUTHENTICATED"
        )


@pytest.mark.asyncio
async def test_an_unknown_kid_does_not_make_every_request_refetch(
    runtime: Runtime, program: str
) -> None:
    with jwks_server() as provider:
        provider.keys = [jwk(KEY_A.public_key(), "a", "RS256")]
        idp = _runtime_with(runtime, jwks_url=provider.url)
        assert "errors" not in await _whoami(idp, idp_token(KEY_A, "a", program))
        before = provider.fetches
        # a flood of tokens naming made-up keys
        for n in range(20):
            body = await _whoami(idp, idp_token(KEY_B, f"made-up-{n}", program))
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # costs at most one fetch per minimum interval
        assert provider.fetches - before <= 1


@pytest.mark.asyncio
async def test_claim_names_of_the_identity_provider_are_configurable(
    runtime: Runtime, program: str
) -> None:
    with jwks_server() as provider:
        provider.keys = [jwk(KEY_A.public_key(), "a", "RS256")]
        # given a Keycloak-style token: roles in a list under realm_access, program under
        # a namespaced claim
        idp = _runtime_with(
            runtime,
            jwks_url=provider.url,
            claim_role="realm_access.roles",
            claim_program="https://brand.example/program",
        )
        claims = {
            "realm_access": {"roles": ["offline_access", "admin"]},
            "https://brand.example/program": program,
            "role": None,
            "program": None,
        }
        token = idp_token(KEY_A, "a", program, **claims)
        # then it is an admin of that program
        answer = await _whoami(idp, token)
        assert answer == {"data": {"program": {"slug": program}}}
        # and without a known role among its roles it is refused
        claims["realm_access"] = {"roles": ["offline_access"]}
        body = await _whoami(idp, idp_token(KEY_A, "a", program, **claims))
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.asyncio
async def test_a_websocket_token_naming_a_new_key_makes_the_server_fetch_it(
    runtime: Runtime, program: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "JWKS_MIN_REFETCH_SECONDS", 0.0)
    with jwks_server() as provider:
        # given a server that fetched key A at start
        provider.keys = [jwk(KEY_A.public_key(), "a", "RS256")]
        async with running(runtime, program, jwks_url=provider.url) as (_api, _, host):
            # when the provider adds key B and an app connects with a token signed by B
            provider.keys.append(jwk(KEY_B.public_key(), "b", "RS256"))
            token = idp_token(KEY_B, "b", program, role="admin")
            async with connect(host, token) as sock:
                # then the socket is accepted, as HTTP would accept the token
                assert (await sock.receive())["type"] == "connection_ack"
