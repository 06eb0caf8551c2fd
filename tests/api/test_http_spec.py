"""/graphql over HTTP as the GraphQL-over-HTTP specification and real clients expect it:
media types and status codes, malformed requests, methods, caching, CORS, automatic
persisted queries (Apollo's protocol), trusted documents and the offline GraphiQL."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from graphql import parse, print_ast

from api.app import create_app
from api.runtime import Runtime
from api.settings import Settings
from tests.support import Api

GRAPHQL_RESPONSE = "application/graphql-response+json"
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"
PROGRAM = "{ program { slug } }"
PAGE = "rewards(first: $n) { pageInfo { hasNextPage } }"
ENROLL = 'mutation { enroll(input: {displayName: "Get"}) { errors { code } } }'


def answer(response: httpx.Response) -> dict[str, Any]:
    """The body without `extensions.cost`, which every answer carries (api/limits.py)."""
    body: dict[str, Any] = response.json()
    extensions = {k: v for k, v in body.pop("extensions", {}).items() if k != "cost"}
    return {**body, "extensions": extensions} if extensions else body


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def auth(token: str, accept: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if accept is not None:
        headers["Accept"] = accept
    return headers


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


@asynccontextmanager
async def app_with(runtime: Runtime, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose settings differ from the suite's in `settings`."""
    changed = Runtime(
        settings=runtime.settings.model_copy(update=settings), db=runtime.db, clock=runtime.clock
    )
    transport = httpx.ASGITransport(app=create_app(changed))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


# --- media types and status codes --------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, GRAPHQL_RESPONSE),  # no Accept: graphql-response+json since the watershed
        ("*/*", GRAPHQL_RESPONSE),
        ("application/*", GRAPHQL_RESPONSE),
        (APOLLO_ACCEPT, GRAPHQL_RESPONSE),
        ("application/graphql-response+json; charset=utf-8, application/json", GRAPHQL_RESPONSE),
        ("application/json", "application/json"),
        ("application/json, multipart/mixed", "application/json"),  # GraphiQL's fetcher
        ("application/json, application/graphql-response+json;q=0.5", "application/json"),
        ("application/graphql-response+json;q=0, */*", "application/json"),
        ("*/*, application/json", "application/json"),  # a named type beats the wildcard
    ],
)
async def test_the_response_media_type_follows_accept(
    api: Api, accept: str | None, expected: str
) -> None:
    request = api.client.build_request(
        "POST", "/graphql", json={"query": PROGRAM}, headers=auth(api.admin())
    )
    if accept is None:
        del request.headers["accept"]
    else:
        request.headers["accept"] = accept
    response = await api.client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{expected}; charset=utf-8"
    assert answer(response) == {"data": {"program": {"slug": api.program}}}


@pytest.mark.asyncio
@pytest.mark.parametrize("accept", ["text/html", "application/xml", "application/json;q=0"])
async def test_an_accept_nobody_serves_is_406(api: Api, accept: str) -> None:
    response = await api.client.post(
        "/graphql", json={"query": PROGRAM}, headers=auth(api.admin(), accept)
    )
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


REQUEST_ERRORS = [
    ({"query": "{ program { slug }"}, "GRAPHQL_PARSE_FAILED"),
    ({"query": "{ program { noSuchField } }"}, "GRAPHQL_VALIDATION_FAILED"),
    (
        {
            "query": "query($n: Int!) { " + PAGE + " }",
            "variables": {"n": "x"},
        },
        "BAD_USER_INPUT",
    ),
    ({"query": "query A { program { slug } } query B { program { name } }"}, None),
    ({"query": "subscription { walletChanged { balance } }"}, "BAD_REQUEST"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_requests_that_never_execute_are_400_without_data(
    api: Api, payload: dict[str, Any], code: str | None
) -> None:
    response = await api.client.post(
        "/graphql", json=payload, headers=auth(api.admin(), APOLLO_ACCEPT)
    )
    assert response.status_code == 400, response.text
    assert media(response) == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" not in body
    error = body["errors"][0]
    assert error["extensions"]["code"] == (code or "OPERATION_RESOLUTION_FAILURE")
    if code == "GRAPHQL_PARSE_FAILED":
        assert error["locations"] == [{"line": 1, "column": 19}]


@pytest.mark.asyncio
@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_as_application_json_well_formed_requests_are_200(
    api: Api, payload: dict[str, Any], code: str | None
) -> None:
    response = await api.client.post(
        "/graphql", json=payload, headers=auth(api.admin(), "application/json")
    )
    assert response.status_code == 200, response.text
    assert media(response) == "application/json"
    body = response.json()
    assert "data" not in body  # nothing was executed (GraphQL spec: no `data` entry)
    assert body["errors"][0]["extensions"]["code"] == (code or "OPERATION_RESOLUTION_FAILURE")


@pytest.mark.asyncio
async def test_executed_operations_are_200_with_data_even_with_field_errors(api: Api) -> None:
    # a field error (no token) nulls `me` but execution ran
    response = await api.client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Accept": APOLLO_ACCEPT}
    )
    assert response.status_code == 200
    assert media(response) == GRAPHQL_RESPONSE
    body = response.json()
    assert body["data"] == {"me": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # with operationName the right one of several runs
    two = "query A { program { slug } } query B { program { name } }"
    response = await api.client.post(
        "/graphql",
        json={"query": two, "operationName": "A"},
        headers=auth(api.admin(), APOLLO_ACCEPT),
    )
    assert (response.status_code, answer(response)) == (
        200,
        {"data": {"program": {"slug": api.program}}},
    )


@pytest.mark.asyncio
async def test_rate_limited_requests_are_429_with_retry_after(
    runtime: Runtime, program: str
) -> None:
    async with app_with(runtime, cost_budget=10, cost_refill_per_second=0.001) as client:
        token = Api(client, runtime, program).admin()
        for _ in range(10):  # 1 point each (api/pricing.py)
            response = await client.post("/graphql", json={"query": PROGRAM}, headers=auth(token))
            assert response.status_code == 200
        limited = await client.post("/graphql", json={"query": PROGRAM}, headers=auth(token))
        assert limited.status_code == 429
        assert media(limited) == GRAPHQL_RESPONSE
        body = limited.json()
        assert "data" not in body and body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) == 1000  # 1 point at 0.001 a second
        legacy = await client.post(
            "/graphql", json={"query": PROGRAM}, headers=auth(token, "application/json")
        )
        assert legacy.status_code == 200
        assert legacy.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


@pytest.mark.asyncio
@pytest.mark.parametrize("accept", [APOLLO_ACCEPT, "application/json"])
@pytest.mark.parametrize(
    "body",
    [
        b"NONSENSE",
        b'{"query":',
        b'{"qeury": "{ program { slug } }"}',  # no query
        b'{"query": "{ program { slug } }", "variables": [7]}',
        b'{"query": "{ program { slug } }", "extensions": "x"}',
        b'{"query": "{ program { slug } }", "operationName": 1}',
        b'{"query": 42}',
        b'{"query": ""}',
        b'"{ program { slug } }"',
        b'[{"query": "{ program { slug } }"}]',  # batches are not supported
        b"\xff\xfe{",
        b"[" * 200_000,  # 200 KB of nesting: the parser gives up, the server does not fail
        b'{"a":' * 40_000,
    ],
)
async def test_malformed_requests_are_400_with_a_code(api: Api, accept: str, body: bytes) -> None:
    response = await api.client.post(
        "/graphql",
        content=body,
        headers={**auth(api.admin(), accept), "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert media(response) == accept.split(",")[0]
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "params",
    [
        {"query": PROGRAM, "variables": "{nope"},
        {"query": PROGRAM, "variables": "[1]"},
        {"query": PROGRAM, "extensions": "{"},
        {"operationName": "A"},
        {"query": ""},
    ],
)
async def test_malformed_get_requests_are_400_with_a_code(api: Api, params: dict[str, str]) -> None:
    response = await api.client.get("/graphql", params=params, headers=auth(api.admin()))
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.asyncio
async def test_get_runs_queries_with_variables_and_an_empty_operation_name(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={
            "query": "query($n: Int) { program { slug } " + PAGE + " }",
            "variables": json.dumps({"n": 2}),
            "operationName": "",
        },
        headers=auth(api.admin()),
    )
    assert response.status_code == 200
    assert media(response) == GRAPHQL_RESPONSE
    assert response.json()["data"]["program"] == {"slug": api.program}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "application/json; charset=latin-1",
    ],
)
async def test_unsupported_request_media_types_are_415(api: Api, content_type: str | None) -> None:
    request = api.client.build_request(
        "POST", "/graphql", content=json.dumps({"query": PROGRAM}), headers=auth(api.admin())
    )
    if content_type is None:
        request.headers.pop("content-type", None)
    else:
        request.headers["content-type"] = content_type
    response = await api.client.send(request)
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.asyncio
async def test_json_with_a_charset_is_accepted(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        content=json.dumps({"query": PROGRAM}),
        headers={**auth(api.admin()), "Content-Type": "Application/JSON; charset=UTF-8"},
    )
    assert response.status_code == 200
    assert media(response) == GRAPHQL_RESPONSE


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def test_other_methods_are_405_with_allow(api: Api, method: str) -> None:
    response = await api.client.request(method, "/graphql", headers=auth(api.admin()))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.asyncio
async def test_a_mutation_over_get_is_405_and_changes_nothing(api: Api) -> None:
    token = api.member("getter")
    response = await api.client.get("/graphql", params={"query": ENROLL}, headers=auth(token))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    # the GET enrolled nobody: enrolling now is no ALREADY_ENROLLED
    assert (await api.ok(ENROLL, token=token))["enroll"]["errors"] == []


@pytest.mark.asyncio
async def test_every_graphql_response_is_private_and_not_stored(api: Api) -> None:
    token = api.admin()
    responses = [
        await api.client.post("/graphql", json={"query": PROGRAM}, headers=auth(token)),
        await api.client.get("/graphql", params={"query": PROGRAM}, headers=auth(token)),
        await api.client.post("/graphql", json={"query": "{"}, headers=auth(token)),
        await api.client.post("/graphql", content=b"{", headers={"Content-Type": "text/plain"}),
        await api.client.post("/graphql", json={"query": PROGRAM}, headers={"Accept": "a/b"}),
        await api.client.put("/graphql"),
        await api.client.get("/graphql", params={"query": ENROLL}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 400, 415, 406, 405, 405]
    assert {r.headers.get("cache-control") for r in responses} == {"private, no-store"}


# --- CORS --------------------------------------------------------------------------------

APP_ORIGIN = "https://app.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest.mark.asyncio
async def test_cors_preflight_from_an_allowed_origin(runtime: Runtime, program: str) -> None:
    async with app_with(runtime, cors_origins=[APP_ORIGIN, "http://localhost:3000"]) as client:
        preflight = await client.options("/graphql", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
        assert {"GET", "POST"} <= set(preflight.headers["access-control-allow-methods"].split(", "))
        allowed = preflight.headers["access-control-allow-headers"].lower().split(", ")
        assert {"authorization", "content-type"} <= set(allowed)
        assert preflight.headers["access-control-max-age"] == "600"
        assert "access-control-allow-credentials" not in preflight.headers
        api = Api(client, runtime, program)
        response = await client.post(
            "/graphql",
            json={"query": PROGRAM},
            headers={**auth(api.admin()), "Origin": APP_ORIGIN},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == APP_ORIGIN
        assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


@pytest.mark.asyncio
async def test_cors_refuses_other_origins_without_any_cors_header(
    runtime: Runtime, program: str
) -> None:
    async with app_with(runtime, cors_origins=[APP_ORIGIN]) as client:
        for origin in ("https://evil.example.com", "https://app.example.com.evil.net"):
            preflight = await client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
            assert preflight.status_code >= 400
            assert cors_headers(preflight) == {}
            simple = await client.get(
                "/graphql", params={"query": PROGRAM}, headers={"Origin": origin}
            )
            assert simple.status_code == 200  # the browser, not the server, withholds it
            assert cors_headers(simple) == {}
        allowed = await client.get(
            "/graphql", params={"query": PROGRAM}, headers={"Origin": APP_ORIGIN}
        )
        assert cors_headers(allowed)["access-control-allow-origin"] == APP_ORIGIN


@pytest.mark.asyncio
async def test_no_origin_is_allowed_by_default(client: httpx.AsyncClient) -> None:
    assert Settings(_env_file=None).cors_origins == []
    preflight = await client.options("/graphql", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
    assert preflight.status_code == 405
    assert cors_headers(preflight) == {}


def test_cors_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALTY_CORS_ORIGINS", "https://app.example.com, http://localhost:3000/")
    assert Settings(_env_file=None).cors_origins == [APP_ORIGIN, "http://localhost:3000"]


# --- automatic persisted queries (Apollo's protocol) -------------------------------------


def persisted(document: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256(document)}}


async def apq_call(api: Api, method: str, document: str, *, send_document: bool) -> httpx.Response:
    headers = auth(api.admin(), APOLLO_ACCEPT)
    extensions = persisted(document)
    if method == "GET":
        params = {"extensions": json.dumps(extensions), "variables": json.dumps({"n": 1})}
        if send_document:
            params["query"] = document
        return await api.client.get("/graphql", params=params, headers=headers)
    payload: dict[str, Any] = {"extensions": extensions, "variables": {"n": 1}}
    if send_document:
        payload["query"] = document
    return await api.client.post("/graphql", json=payload, headers=headers)


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_apollo_style_client_flow(api: Api, method: str) -> None:
    document = f"query Flow{method}($n: Int) {{ program {{ slug }} {PAGE} }}"
    # 1. the hash alone: unknown
    first = await apq_call(api, method, document, send_document=False)
    assert first.status_code == 200  # as Apollo's clients expect
    assert answer(first) == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert first.headers["cache-control"] == "private, no-store"
    # 2. hash and document: checked, run and kept
    second = await apq_call(api, method, document, send_document=True)
    assert second.status_code == 200
    assert second.json()["data"]["program"] == {"slug": api.program}
    # 3. the hash alone now runs it
    third = await apq_call(api, method, document, send_document=False)
    assert third.status_code == 200
    assert answer(third) == answer(second)


@pytest.mark.asyncio
async def test_apq_refuses_a_hash_that_is_not_the_documents(api: Api) -> None:
    payload = {"query": PROGRAM, "extensions": persisted("{ program { name } }")}
    response = await api.client.post("/graphql", json=payload, headers=auth(api.admin()))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    # nothing was kept under either hash
    for document in (PROGRAM, "{ program { name } }"):
        alone = await api.client.post(
            "/graphql", json={"extensions": persisted(document)}, headers=auth(api.admin())
        )
        assert alone.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": sha256(PROGRAM)}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-a-hash"}},
        {"persistedQuery": "x"},
    ],
)
async def test_apq_refuses_malformed_persisted_queries(
    api: Api, extensions: dict[str, Any]
) -> None:
    response = await api.client.post(
        "/graphql", json={"extensions": extensions}, headers=auth(api.admin())
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.asyncio
async def test_apq_keeps_only_documents_that_validate(api: Api) -> None:
    invalid = "{ program { noSuchField } }"
    registered = await api.client.post(
        "/graphql",
        json={"query": invalid, "extensions": persisted(invalid)},
        headers=auth(api.admin()),
    )
    assert registered.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    alone = await api.client.post(
        "/graphql", json={"extensions": persisted(invalid)}, headers=auth(api.admin())
    )
    assert alone.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.asyncio
async def test_apq_mutation_by_hash_over_get_is_405(api: Api) -> None:
    token = api.member("hashed")
    registered = await api.client.post(
        "/graphql", json={"query": ENROLL, "extensions": persisted(ENROLL)}, headers=auth(token)
    )
    assert registered.json()["data"]["enroll"]["errors"] == []
    response = await api.client.get(
        "/graphql", params={"extensions": json.dumps(persisted(ENROLL))}, headers=auth(token)
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_the_apq_store_is_bounded_by_bytes_least_recently_used_first() -> None:
    from api.persisted import AutomaticPersistedQueries

    store = AutomaticPersistedQueries(max_bytes=100)
    documents = {name: "{ " + name * 20 + " }" for name in "abcd"}  # 24 bytes each
    for name in "abcd":
        store.put(sha256(documents[name]), documents[name])
    assert store.size == 96
    assert store.get(sha256(documents["a"])) == documents["a"]  # a is now the most recent
    store.put(sha256("{ é }"), "{ é }")  # 6 bytes (é is two): b goes
    assert store.size == 78
    assert store.get(sha256(documents["b"])) is None
    assert store.get(sha256(documents["a"])) == documents["a"]
    store.put(sha256("x" * 101), "x" * 101)  # larger than the whole store: not kept
    assert store.get(sha256("x" * 101)) is None and store.size == 78


# --- trusted documents -------------------------------------------------------------------

WALLET = "query Wallet { me { wallet { balance } } }"
SLUG = "query Slug { program { slug } }"


def manifest(tmp_path: Path, documents: list[str], *, apollo: bool = False) -> Path:
    path = tmp_path / "trusted.json"
    if apollo:
        content: Any = {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                {"id": sha256(d), "body": d, "name": d.split()[1], "type": "query"}
                for d in documents
            ],
        }
    else:
        content = {sha256(d): d for d in documents}
    path.write_text(json.dumps(content))
    return path


@pytest.mark.asyncio
@pytest.mark.parametrize("apollo", [False, True])
async def test_trusted_documents_run_and_nothing_else(
    runtime: Runtime, program: str, tmp_path: Path, apollo: bool
) -> None:
    path = manifest(tmp_path, [WALLET, SLUG], apollo=apollo)
    async with app_with(runtime, trusted_documents=path) as client:
        api = Api(client, runtime, program)
        headers = auth(api.admin(), APOLLO_ACCEPT)
        by_hash = await client.post(
            "/graphql", json={"extensions": persisted(SLUG)}, headers=headers
        )
        assert answer(by_hash) == {"data": {"program": {"slug": program}}}
        by_get = await client.get(
            "/graphql", params={"extensions": json.dumps(persisted(SLUG))}, headers=headers
        )
        assert answer(by_get) == {"data": {"program": {"slug": program}}}
        whole = await client.post("/graphql", json={"query": SLUG}, headers=headers)
        assert answer(whole) == {"data": {"program": {"slug": program}}}
        refused = [
            {"query": PROGRAM},  # a document outside the manifest
            {"query": PROGRAM, "extensions": persisted(PROGRAM)},  # APQ registration
            {"extensions": persisted(PROGRAM)},  # an unknown hash
        ]
        for payload in refused:
            response = await client.post("/graphql", json=payload, headers=headers)
            assert response.status_code == 400, payload
            body = response.json()
            assert "data" not in body
            assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        legacy = await client.post(
            "/graphql", json={"query": PROGRAM}, headers=auth(api.admin(), "application/json")
        )
        assert legacy.status_code == 200
        assert legacy.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


@pytest.mark.asyncio
async def test_trusted_documents_are_neither_parsed_nor_validated_per_request(
    runtime: Runtime, program: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graphql
    import strawberry.schema.schema as strawberry_schema

    import api.limits
    import api.persisted

    calls: list[str] = []

    def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return function(*args, **kwargs)

        return wrapper

    trusted = "query Trusted { program { slug name } }"
    other = f"query Other {{ program {{ slug }} }} # {uuid.uuid4()}"  # parsed nowhere before
    path = manifest(tmp_path, [trusted])
    async with app_with(runtime, trusted_documents=path) as client:
        monkeypatch.setattr(api.persisted, "parse", counted("parse", graphql.parse))
        monkeypatch.setattr(strawberry_schema, "parse", counted("parse", graphql.parse))
        monkeypatch.setattr(
            api.limits, "validate_document", counted("validate", api.limits.validate_document)
        )
        token = Api(client, runtime, program).admin()
        for _ in range(3):
            response = await client.post(
                "/graphql", json={"extensions": persisted(trusted)}, headers=auth(token)
            )
            assert response.json()["data"]["program"]["slug"] == program
        assert calls == []
    async with app_with(runtime) as client:  # the counters do count
        response = await client.post("/graphql", json={"query": other}, headers=auth(token))
        assert response.json()["data"]["program"]["slug"] == program
        assert calls == ["parse", "validate"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ({sha256("{ nope }"): "{ nope }"}, "Cannot query field 'nope'"),
        ({sha256("{ program {"): "{ program {"}, "Syntax Error"),
        ({sha256("x"): PROGRAM}, "is not the SHA-256 of its document"),
        ({"ABC": PROGRAM}, "is not a lowercase hex SHA-256"),
        ([PROGRAM], "expected a JSON object"),
        ("not json", "cannot read the manifest"),
    ],
)
def test_an_invalid_manifest_stops_the_server_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: Any,
    fragment: str,
) -> None:
    from api import cli
    from api.persisted import TrustedDocumentsError

    path = tmp_path / "trusted.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        jwt_secret="x",
        trusted_documents=path,
        _env_file=None,
    )
    with pytest.raises(TrustedDocumentsError) as raised:
        create_app(settings=settings)
    assert fragment in str(raised.value) and "\n" not in str(raised.value)

    import uvicorn

    import api.observability

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served a bad manifest"))
    monkeypatch.setattr(api.observability, "configure_logging", lambda: None)
    monkeypatch.setenv("LOYALTY_TRUSTED_DOCUMENTS", str(path))
    monkeypatch.setenv("LOYALTY_DATABASE_URL", settings.database_url)
    assert cli.main(["serve"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and fragment in err and "\n" not in err


def test_an_introspection_document_is_refused_at_load_in_production(tmp_path: Path) -> None:
    from api.persisted import TrustedDocumentsError
    from api.schema import load_trusted_documents

    introspection = "{ __schema { queryType { name } } }"
    path = manifest(tmp_path, [introspection])
    development = Settings(trusted_documents=path, _env_file=None)
    assert load_trusted_documents(development) is not None
    with pytest.raises(TrustedDocumentsError, match="introspection"):
        load_trusted_documents(development.model_copy(update={"production": True}))


# --- a real client -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_gql_client_against_a_trusted_documents_server(api: Api, tmp_path: Path) -> None:
    from gql import Client, GraphQLRequest, gql
    from gql.transport.exceptions import TransportQueryError
    from gql.transport.httpx import HTTPXAsyncTransport

    # gql sends documents as graphql-core prints them, as Apollo's manifest tools do
    slug = print_ast(parse("query Slug($n: Int) { program { slug } " + PAGE + " }"))
    settings = api.runtime.settings.model_copy(
        update={"trusted_documents": manifest(tmp_path, [slug])}
    )
    app = create_app(Runtime(settings=settings, db=api.runtime.db, clock=api.runtime.clock))
    transport = HTTPXAsyncTransport(
        url="http://test/graphql",
        transport=httpx.ASGITransport(app=app),
        headers={"Authorization": f"Bearer {api.admin()}"},
    )
    async with Client(transport=transport) as session:
        result = await session.execute(GraphQLRequest(slug, variable_values={"n": 1}))
        assert result["program"] == {"slug": api.program}
        assert media_of(transport) == GRAPHQL_RESPONSE
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql("{ program { name } }"))
        assert refused.value.errors is not None
        assert refused.value.errors[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


def media_of(transport: Any) -> str:
    return str(transport.response_headers["content-type"]).split(";")[0]


# --- GraphiQL, offline -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_graphiql_loads_only_its_own_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200 and media(page) == "text/html"
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "http" not in csp
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    scripts = [u for u in urls if u.endswith(".js")]
    styles = [u for u in urls if u.endswith(".css")]
    assert len(scripts) == 4 and len(styles) == 1, urls
    for url in urls:
        if url.startswith("data:"):
            continue
        assert not re.match(r"^([a-z]+:)?//", url), url  # relative: served from here
        asset = await client.get(urljoin("http://test/graphql", url))
        assert asset.status_code == 200, url
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in asset.headers["content-type"], (url, asset.headers["content-type"])
    setup = (await client.get(urljoin("http://test/graphql", scripts[-1]))).text
    assert "tierProgress { next { name } pointsToNext percent }" in setup  # the README's query
    assert '"Authorization": "Bearer <token>"' in setup
    react = (await client.get(urljoin("http://test/graphql", scripts[0]))).text
    assert react.startswith("/**\n * @license React")


@pytest.mark.asyncio
async def test_production_serves_no_graphiql(runtime: Runtime, client: httpx.AsyncClient) -> None:
    assert (await client.get("/graphiql/graphiql.min.js")).status_code == 200
    async with app_with(runtime, production=True) as production:
        page = await production.get("/graphql", headers={"Accept": "text/html"})
        assert "GraphiQL" not in page.text
        asset = await production.get("/graphiql/graphiql.min.js")
        assert asset.status_code == 404
