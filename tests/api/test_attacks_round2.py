"""Attacks on the features merged together (WebSocket, GraphQL over HTTP, pricing, vouchers,
refunds, campaigns, points payments), as an outsider would try them on a real server.
Each test is a hole that was open; the fix lives in the layer named in the test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from api.runtime import Runtime
from tests.api.live_support import connect, running


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
