"""Live updates through the clients real apps use, against a running server, on both databases.

`graphql-ws` (npm; what Apollo Client, urql and Relay apps wire in) runs in Node, and Python's
`gql` with its websockets transport speaks graphql-transport-ws. The README's JavaScript example
is tests/clients/js/readme-example.mjs, run here as it is printed there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import websockets
from gql import Client, gql
from gql.transport.exceptions import TransportConnectionFailed
from gql.transport.websockets import WebsocketsTransport

from api.runtime import Runtime
from tests.api.live_support import Servers, http_client, wait_for_subscribers
from tests.api.third_party_support import JS_DIR, run_node, subscribe
from tests.support import Api

WALLET = "subscription { walletChanged { delta balance pending version } }"
README = Path(__file__).resolve().parents[2] / "README.md"

Live = tuple[Api, Runtime, str]


@pytest_asyncio.fixture(scope="module")
async def servers() -> AsyncIterator[Servers]:
    async with contextlib.AsyncExitStack() as stack:
        yield Servers(stack)


@pytest_asyncio.fixture
async def live(runtime: Runtime, program: str, servers: Servers) -> AsyncIterator[Live]:
    server_runtime, host = await servers.serving(runtime)
    await wait_for_subscribers(server_runtime, 0)
    async with http_client(host) as client:
        yield Api(client=client, runtime=server_runtime, program=program), server_runtime, host
    # every client hung up, so the next test counts its own subscribers from zero
    await wait_for_subscribers(server_runtime, 0)


def ws_url(host: str) -> str:
    return f"ws://{host}/graphql"


# --- graphql-ws (npm) in Node ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_graphql_ws_receives_purchases_with_consecutive_versions(live: Live) -> None:
    # given a member subscribed through graphql-ws
    api, runtime, host = live
    member = await api.enroll("alice")
    async with subscribe(ws_url(host), WALLET, api.member("alice")) as node:
        await node.subscribed(runtime)
        # when two purchases are recorded over HTTP
        await api.purchase(member["id"], "o-1", 1250)
        await api.purchase(member["id"], "o-2", 500)
        # then the client hears both, in order, with consecutive versions
        first, second = await node.message(), await node.message()
    assert first == {
        "type": "next",
        "payload": {
            "data": {"walletChanged": {"delta": 125, "balance": 125, "pending": 0, "version": 1}}
        },
    }
    assert second["payload"]["data"]["walletChanged"] == {
        "delta": 50,
        "balance": 175,
        "pending": 0,
        "version": 2,
    }


@pytest.mark.asyncio
async def test_graphql_ws_is_refused_with_4403_for_a_bad_token(live: Live) -> None:
    api, _, host = live
    await api.enroll("alice")
    forged = api.member("alice")[:-4] + "AAAA"
    expired = api.token("member", "alice", ttl=-120)

    async def attempt(token: str | None) -> tuple[int, dict]:
        async with subscribe(ws_url(host), WALLET, token) as node:
            return await node.exit_code(), await node.message()

    results = await asyncio.gather(*(attempt(t) for t in (None, forged, expired)))
    for exit_code, final in results:
        assert (exit_code, final["type"], final["code"]) == (3, "closed", 4403), final


@pytest.mark.asyncio
async def test_graphql_ws_sees_complete_when_the_token_expires(live: Live) -> None:
    # given a subscription whose token expires in 2-3 s
    api, runtime, host = live
    await api.enroll("alice")
    async with subscribe(ws_url(host), WALLET, api.token("member", "alice", ttl=3)) as node:
        await node.subscribed(runtime)
        # then the server completes it, and the client ends cleanly
        assert await node.message() == {"type": "complete"}
        assert await node.exit_code() == 0


@pytest.mark.asyncio
async def test_graphql_ws_reports_forbidden_to_a_caller_without_a_wallet(live: Live) -> None:
    # an admin has no wallet; the protocol lets the server say so with `error`, or with a
    # `next` carrying errors and then `complete`: either way the client sees FORBIDDEN
    api, _, host = live
    async with subscribe(ws_url(host), WALLET, api.admin()) as node:
        exit_code = await node.exit_code()
        messages = [json.loads(line) for line in await node.rest()]
    errors = [
        error
        for message in messages
        for error in message.get("errors") or message.get("payload", {}).get("errors") or []
    ]
    assert exit_code in (0, 2), messages
    assert [error["extensions"]["code"] for error in errors] == ["FORBIDDEN"], messages


# --- gql (Python) over graphql-transport-ws --------------------------------------------------


def gql_transport(host: str, token: str | None) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=ws_url(host),
        init_payload={"Authorization": f"Bearer {token}"} if token else {},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )


@pytest.mark.asyncio
async def test_gql_receives_purchases_with_consecutive_versions(live: Live) -> None:
    api, runtime, host = live
    member = await api.enroll("alice")
    transport = gql_transport(host, api.member("alice"))
    async with Client(transport=transport) as session:
        assert transport.subprotocol == "graphql-transport-ws"
        events = session.subscribe(gql(WALLET))
        first = asyncio.ensure_future(anext(events))
        await wait_for_subscribers(runtime, 1)
        await api.purchase(member["id"], "o-1", 1250)
        assert (await asyncio.wait_for(first, 10))["walletChanged"] == {
            "delta": 125,
            "balance": 125,
            "pending": 0,
            "version": 1,
        }
        await api.purchase(member["id"], "o-2", 500)
        second = (await asyncio.wait_for(anext(events), 10))["walletChanged"]
        assert (second["version"], second["balance"]) == (2, 175)
        await events.aclose()


def close_code(error: BaseException) -> int | None:
    """The WebSocket close code behind a gql transport error."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, websockets.ConnectionClosed):
            return cause.rcvd.code if cause.rcvd else None
        cause = cause.__cause__ or cause.__context__
    return None


@pytest.mark.asyncio
async def test_gql_is_refused_with_4403_for_a_bad_token(live: Live) -> None:
    api, _, host = live
    await api.enroll("alice")
    forged = api.member("alice")[:-4] + "AAAA"
    for token in (None, forged, api.token("member", "alice", ttl=-120)):
        with pytest.raises(TransportConnectionFailed) as refused:
            async with Client(transport=gql_transport(host, token)):
                pass
        assert close_code(refused.value) == 4403


@pytest.mark.asyncio
async def test_gql_subscription_completes_when_the_token_expires(live: Live) -> None:
    api, runtime, host = live
    member = await api.enroll("alice")
    transport = gql_transport(host, api.token("member", "alice", ttl=3))
    async with Client(transport=transport) as session:

        async def drain() -> list[dict]:
            return [event async for event in session.subscribe(gql(WALLET))]

        events = asyncio.ensure_future(drain())
        await wait_for_subscribers(runtime, 1)
        await api.purchase(member["id"], "o-1", 1250)
        # events flow until the token expires; then `complete` ends the iteration, no error
        received = await asyncio.wait_for(events, 10)
    assert [event["walletChanged"]["version"] for event in received] == [1]


# --- the README's example ------------------------------------------------------------------


def readme_js_example() -> str:
    """The ```js block of the README's "Live updates" section."""
    section = README.read_text().split("## Live updates", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```js\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    assert len(blocks) == 1, "the Live updates section has one ```js example"
    return blocks[0]


def test_the_readme_shows_the_example_the_suite_runs() -> None:
    assert readme_js_example() == (JS_DIR / "readme-example.mjs").read_text()


@pytest.mark.asyncio
async def test_the_readme_example_shows_each_balance(live: Live) -> None:
    api, runtime, host = live
    member = await api.enroll("alice")
    env = {"LOYALTY_WS_URL": ws_url(host), "LOYALTY_TOKEN": api.member("alice")}
    async with run_node("readme-example.mjs", env=env) as node:
        await node.subscribed(runtime)
        await api.purchase(member["id"], "o-1", 1250)
        assert await node.line() == "balance 125, pending 0, version 1"
        await api.purchase(member["id"], "o-2", 500)
        assert await node.line() == "balance 175, pending 0, version 2"
