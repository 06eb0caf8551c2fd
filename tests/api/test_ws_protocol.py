"""graphql-transport-ws at /graphql: the protocol, and the attacks of issue 14 it withstands
(an expired token on an open socket, floods of sockets and subscriptions, over-size and deeply
nested messages, state shared between a socket's operations, refusals logged as errors)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
import websockets

from api import cli
from api.runtime import Runtime
from api.settings import Settings
from tests.api.live_support import (
    PROTOCOL,
    Socket,
    connect,
    running,
    wait_for_connections,
    wait_for_subscribers,
)
from tests.support import Api, MovableClock, StatementCounter

WALLET = "subscription { walletChanged { delta balance version entry { points } tier { name } } }"
ME = "{ me { displayName } }"


@pytest_asyncio.fixture
async def live(runtime: Runtime, program: str) -> AsyncIterator[tuple[Api, Runtime, str]]:
    async with running(runtime, program) as server:
        yield server


async def _acked(stack: contextlib.AsyncExitStack, host: str, token: str) -> Socket:
    sock = await stack.enter_async_context(connect(host, token))
    await sock.ack()
    return sock


async def _query(sock: Socket, op_id: str, query: str, variables: Any = None) -> dict[str, Any]:
    """Run a query or mutation over the socket: its data, after `next` and `complete`."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    await sock.send({"id": op_id, "type": "subscribe", "payload": payload})
    message = await sock.receive()
    assert message["type"] == "next" and message["id"] == op_id, message
    assert await sock.receive() == {"id": op_id, "type": "complete"}
    return message["payload"]


# ------------------------------------------------------------------ the protocol


@pytest.mark.asyncio
async def test_queries_and_mutations_run_once_with_next_then_complete(live) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    await api.enroll("alice")
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        assert await _query(sock, "q", ME) == {"data": {"me": {"displayName": "Alice"}}}
        card = await _query(sock, "m", "mutation { issueCardSecret { errors { code } } }")
        assert card == {"data": {"issueCardSecret": {"errors": []}}}


@pytest.mark.asyncio
async def test_invalid_documents_get_an_error_message_and_execution_errors_a_next(live) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    async with connect(host, api.member("nobody")) as sock:
        await sock.ack()
        await sock.subscribe("bad", "{ me { noSuchField } }")
        error = await sock.receive()
        assert error["type"] == "error" and error["id"] == "bad", error
        assert error["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        # a field refused while running is part of the result, as over HTTP
        refused = await _query(sock, "q", "{ partnerRewardStats { __typename } }")
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.asyncio
async def test_ping_gets_pong_and_complete_stops_a_subscription(live) -> None:  # type: ignore[no-untyped-def]
    api, runtime, host = live
    member = await api.enroll("alice")
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        await sock.send({"type": "ping"})
        assert await sock.receive() == {"type": "pong"}
        await sock.subscribe("1", WALLET)
        await wait_for_subscribers(runtime, 1)
        await sock.send({"id": "1", "type": "complete"})
        await wait_for_subscribers(runtime, 0)
        await api.purchase(member["id"], "o-1", 1000)
        # the id is free again, and nothing more arrives for the stopped subscription
        await sock.subscribe("1", WALLET)
        await wait_for_subscribers(runtime, 1)
        await api.purchase(member["id"], "o-2", 2000)
        assert (await sock.next_data())["walletChanged"]["delta"] == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("messages", "code"),
    [
        ([{"type": "connection_init", "payload": {}}], 4429),  # a second init
        ([{"type": "what"}], 4400),
        ([{"id": "1", "type": "subscribe"}], 4400),  # no payload
        ([{"id": "", "type": "subscribe", "payload": {"query": ME}}], 4400),
        ([{"id": "1", "type": "next", "payload": {}}], 4400),  # a server message
        ([["not", "an", "object"]], 4400),
    ],
)
async def test_protocol_violations_close_the_socket(live, messages, code) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        for message in messages:
            await sock.ws.send(json.dumps(message))
        assert (await sock.closed())[0] == code


@pytest.mark.asyncio
async def test_subscribe_before_the_ack_and_a_duplicate_id_close_the_socket(live) -> None:  # type: ignore[no-untyped-def]
    api, runtime, host = live
    await api.enroll("alice")
    async with websockets.connect(f"ws://{host}/graphql", subprotocols=[PROTOCOL]) as ws:
        early = Socket(ws)
        await early.subscribe("1", WALLET)
        assert (await early.closed())[0] == 4401
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        await sock.subscribe("1", WALLET)
        await wait_for_subscribers(runtime, 1)
        await sock.subscribe("1", WALLET)
        assert await sock.closed() == (4409, "Subscriber for 1 already exists")
    await wait_for_subscribers(runtime, 0)


@pytest.mark.asyncio
async def test_binary_frames_are_refused(live) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        await sock.ws.send(b'{"type": "ping"}')
        assert (await sock.closed())[0] == 4400


@pytest.mark.asyncio
async def test_a_socket_without_connection_init_is_closed_with_4408(runtime, program) -> None:  # type: ignore[no-untyped-def]
    async with (
        running(runtime, program, ws_init_timeout_seconds=0.3) as (_, _, host),
        websockets.connect(f"ws://{host}/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        sock = Socket(ws)
        await sock.send({"type": "ping"})  # allowed before init, but no substitute for it
        assert await sock.receive() == {"type": "pong"}
        assert (await sock.closed())[0] == 4408


@pytest.mark.asyncio
async def test_a_subscription_refused_as_it_starts_gets_its_errors_then_complete(live) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    for token, code in ((api.staff(), "FORBIDDEN"), (api.member("zed"), "NOT_ENROLLED")):
        async with connect(host, token) as sock:
            await sock.ack()
            await sock.subscribe("1", WALLET)
            refused = await sock.receive()  # an execution error, as graphql-ws sends it
            assert refused["type"] == "next", refused
            assert refused["payload"]["data"] is None
            assert refused["payload"]["errors"][0]["extensions"]["code"] == code
            assert await sock.receive() == {"id": "1", "type": "complete"}


# ------------------------------------------------------------------ 1. expired tokens


@pytest.mark.asyncio
async def test_the_server_closes_the_socket_with_4403_when_the_token_expires(live) -> None:  # type: ignore[no-untyped-def]
    api, runtime, host = live
    await api.enroll("alice")
    async with connect(host, api.token("member", "alice", ttl=2)) as sock:
        await sock.ack()
        assert (await _query(sock, "q", ME))["data"] == {"me": {"displayName": "Alice"}}
        await sock.subscribe("1", WALLET)
        assert await sock.receive(timeout=10) == {"id": "1", "type": "complete"}
        assert (await sock.closed(timeout=5))[0] == 4403
    await wait_for_subscribers(runtime, 0)


@pytest.mark.asyncio
async def test_every_operation_checks_the_token_expiry(live, clock: MovableClock) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    await api.enroll("alice")
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        assert (await _query(sock, "q1", ME))["data"] == {"me": {"displayName": "Alice"}}
        # the token's hour is over (the expiry timer has not fired: the clock moved, not time)
        clock.advance(timedelta(hours=2))
        await sock.send({"id": "q2", "type": "subscribe", "payload": {"query": ME}})
        assert (await sock.closed())[0] == 4403


@pytest.mark.asyncio
async def test_a_token_past_its_expiry_is_refused_within_the_verifiers_leeway(live) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    await api.enroll("alice")
    async with connect(host, api.token("member", "alice", ttl=-5)) as sock:
        assert (await sock.closed())[0] == 4403


# ------------------------------------------------------------------ 2. floods


@pytest.mark.asyncio
async def test_sockets_per_caller_are_limited(runtime, program) -> None:  # type: ignore[no-untyped-def]
    async with running(runtime, program, ws_max_connections_per_caller=2) as (api, server, host):
        await api.enroll("alice")
        async with contextlib.AsyncExitStack() as stack:
            await _acked(stack, host, api.member("alice"))
            await _acked(stack, host, api.member("alice"))
            async with connect(host, api.member("alice")) as third:
                code, reason = await third.closed()
                assert (code, reason) == (1008, "Too many connections for this caller")
            await _acked(stack, host, api.member("bob"))  # others are not affected
        await wait_for_connections(server, 0)
        async with contextlib.AsyncExitStack() as stack:  # closed sockets free their places
            await _acked(stack, host, api.member("alice"))
            await _acked(stack, host, api.member("alice"))


@pytest.mark.asyncio
async def test_subscriptions_per_caller_are_limited_across_sockets(runtime, program) -> None:  # type: ignore[no-untyped-def]
    async with running(runtime, program, ws_max_subscriptions_per_caller=3) as (api, server, host):
        await api.enroll("alice")
        await api.enroll("bob")
        async with contextlib.AsyncExitStack() as stack:
            first = await _acked(stack, host, api.member("alice"))
            second = await _acked(stack, host, api.member("alice"))
            await first.subscribe("1", WALLET)
            await first.subscribe("2", WALLET)
            await second.subscribe("1", WALLET)
            await wait_for_subscribers(server, 3)
            await second.subscribe("2", WALLET)
            refused = await second.receive()
            assert refused["type"] == "error" and refused["id"] == "2", refused
            assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
            bob = await _acked(stack, host, api.member("bob"))
            await bob.subscribe("1", WALLET)
            await wait_for_subscribers(server, 4)


@pytest.mark.asyncio
async def test_sockets_and_subscriptions_per_process_are_limited(runtime, program) -> None:  # type: ignore[no-untyped-def]
    async with running(runtime, program, ws_max_connections=2, ws_max_subscriptions=1) as (
        api,
        server,
        host,
    ):
        for name in ("alice", "bob"):
            await api.enroll(name)
        async with contextlib.AsyncExitStack() as stack:
            alice = await _acked(stack, host, api.member("alice"))
            bob = await _acked(stack, host, api.member("bob"))
            async with connect(host, api.member("cara")) as cara:
                assert await cara.closed() == (1013, "Too many connections")
            await alice.subscribe("1", WALLET)
            await wait_for_subscribers(server, 1)
            await bob.subscribe("1", WALLET)
            refused = await bob.receive()
            assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"


@pytest.mark.asyncio
async def test_an_event_is_resolved_once_for_all_equal_subscriptions(runtime, program) -> None:  # type: ignore[no-untyped-def]
    limits = {"ws_max_connections_per_caller": 10, "ws_max_subscriptions_per_caller": 50}
    async with running(runtime, program, **limits) as (api, server, host):
        member = await api.enroll("alice")
        await api.purchase(member["id"], "warm-up", 1000)
        async with contextlib.AsyncExitStack() as stack:
            sockets = [await _acked(stack, host, api.member("alice")) for _ in range(10)]
            await sockets[0].subscribe("0", WALLET)
            await wait_for_subscribers(server, 1)
            with StatementCounter(server) as alone:
                await api.purchase(member["id"], "o-1", 1000)
                await sockets[0].next_data()
            for n, sock in enumerate(sockets):
                for k in range(5):
                    if (n, k) != (0, 0):
                        await sock.subscribe(str(k), WALLET)
            await wait_for_subscribers(server, 50)
            with StatementCounter(server) as fifty:
                await api.purchase(member["id"], "o-2", 1000)
                received = [await sock.next_data() for sock in sockets for _ in range(5)]
        assert all(data == received[0] for data in received)
        assert received[0]["walletChanged"]["version"] == 3
        # the purchase's own statements, then one resolution of the event for all fifty
        assert fifty.count == alone.count, (alone.statements, fifty.statements)


# ------------------------------------------------------------------ 3. and 5. messages


@pytest.mark.asyncio
async def test_an_oversize_message_closes_the_socket_before_it_is_parsed(live) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    await api.enroll("alice")
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        await sock.subscribe("1", "{ " + "me { displayName } " * 500_000 + "}")  # ~10 MB
        assert (await sock.closed())[0] in (4413, 1009)
    async with connect(host, api.member("alice")) as sock:  # the server is fine
        await sock.ack()
        assert (await _query(sock, "q", ME))["data"] == {"me": {"displayName": "Alice"}}


def test_loyalty_serve_caps_websocket_messages_in_uvicorn(
    monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    monkeypatch.setattr("api.observability.configure_logging", lambda: None)
    monkeypatch.setenv("LOYALTY_GC_TUNING", "true")
    monkeypatch.setenv("LOYALTY_WS_MAX_MESSAGE_BYTES", "65536")
    assert cli.main(["serve"]) == 0
    assert seen["ws_max_size"] == 65536 == Settings(_env_file=None).ws_max_message_bytes


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["message", "variables"])
async def test_deeply_nested_json_closes_the_socket_with_4400(live, where: str) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    nested = "[" * 100_000 + "]" * 100_000  # 200 KB, under the size cap
    text = nested
    if where == "variables":
        text = (
            '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", '
            f'"variables": {{"x": {nested}}}}}}}'
        )
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        await sock.ws.send(text)
        assert (await sock.closed())[0] == 4400
    health = await api.client.get("/healthz")
    assert health.status_code == 200


# ------------------------------------------------------------------ 4. fresh state


@pytest.mark.asyncio
async def test_each_operation_and_event_sees_the_program_as_it_is_now(live) -> None:  # type: ignore[no-untyped-def]
    api, runtime, host = live
    member = await api.enroll("alice")
    tiers = await api.ok("{ program { tiers { id name } } }", token=api.admin())
    tier_id = tiers["program"]["tiers"][0]["id"]
    points_name = "{ program { pointsName } }"
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        assert (await _query(sock, "q1", points_name))["data"]["program"]["pointsName"] == "points"
        await sock.subscribe("w", "subscription { walletChanged { delta tier { name } } }")
        await wait_for_subscribers(runtime, 1)
        await api.purchase(member["id"], "o-1", 1000)
        event = (await sock.next_data())["walletChanged"]
        assert event == {"delta": 100, "tier": {"name": "Member"}}
        # the admin renames the points and the tier
        changed = await api.ok(
            """mutation($t: ID!) {
                 updateProgram(input: {pointsName: "stars"}) { errors { code } }
                 updateTier(input: {tierId: $t, name: "Bronze"}) { errors { code } } }""",
            {"t": tier_id},
            api.admin(),
        )
        assert changed == {"updateProgram": {"errors": []}, "updateTier": {"errors": []}}
        await api.purchase(member["id"], "o-2", 1000)
        event = (await sock.next_data())["walletChanged"]
        assert event == {"delta": 100, "tier": {"name": "Bronze"}}
        assert (await _query(sock, "q2", points_name))["data"]["program"]["pointsName"] == "stars"


# ------------------------------------------------------------------ 15. log level


@pytest.mark.asyncio
async def test_refused_sockets_and_subscriptions_are_logged_at_info(
    live, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    api, _, host = live
    caplog.set_level(logging.INFO)
    await api.enroll("alice")
    async with connect(host, api.member("alice")[:-4] + "AAAA") as forged:
        assert (await forged.closed())[0] == 4403
    for token in (api.staff(), api.member("zed")):  # FORBIDDEN, NOT_ENROLLED
        async with connect(host, token) as sock:
            await sock.ack()
            await sock.subscribe("1", WALLET)
            assert (await sock.receive())["type"] in ("next", "error")  # refused
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    refusals = [
        r
        for r in caplog.records
        if r.name.startswith("loyalty") and ("refused" in r.msg or r.msg == "client error")
    ]
    # the forged socket, and the subscription the schema refused (NOT_ENROLLED); a
    # permission refusal is answered, not logged, as over HTTP
    assert len(refusals) >= 2
    assert {r.levelno for r in refusals} == {logging.INFO}


@pytest.mark.asyncio
async def test_a_failure_while_resolving_an_event_is_masked(live, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    api, runtime, host = live
    member = await api.enroll("alice")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail: connection to 10.0.0.5 refused")

    from persistence.repositories.ledger import SqlLedgerRepository

    monkeypatch.setattr(SqlLedgerRepository, "entries", broken)
    async with connect(host, api.member("alice")) as sock:
        await sock.ack()
        await sock.subscribe("1", WALLET)
        await wait_for_subscribers(runtime, 1)
        await api.purchase(member["id"], "o-1", 1000)
        message = await sock.receive()
    assert message["type"] == "next", message
    assert message["payload"]["errors"][0]["message"] == "Internal error."
    assert "secret" not in str(message)
    await asyncio.sleep(0)
