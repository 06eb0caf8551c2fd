"""Hostile values in every text argument of the API: no response is an internal error.

The schema is walked through introspection: every String, ID and DateTime argument (cursors
included) and input field of every query and mutation, also of fields below the root
(`me { wallet { history(after:) } }`), gets values a client could forge: lone surrogates,
NUL, 100 KB strings, forged base64 cursors, times without an offset or off the calendar,
huge integers as strings. Each goes over HTTP with the token of a role the field admits,
beside valid values everywhere else, so it reaches the use case. Any answer but a 500 or
INTERNAL_SERVER_ERROR is fine here: the specific codes have their own tests.

`LOYALTY_HOSTILE_EXAMPLES` raises the number of rounds (each round: one value per target).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    build_client_schema,
    get_named_type,
    introspection_from_schema,
)
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api.schema import schema
from domain.model import Role
from tests.api.rewards_support import create_reward, funded_member, redeem
from tests.support import Api

EXAMPLES = int(os.environ.get("LOYALTY_HOSTILE_EXAMPLES", "4"))
TEXT_KINDS = ("String", "ID", "DateTime")
FORBIDDEN = ("FORBIDDEN", "UNAUTHENTICATED")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode().rstrip("=")


UUID = "0" * 32
NASTY = [
    "\ud800",
    "a\udfffb",
    "\udbff\udbff",
    "a\x00b",
    "\x00",
    "x" * 100_000,
    "9" * 100_000,
    str(10**40),
    "-" + str(10**40),
    "1e309",
    "NaN",
    "",
    " ",
    "²",
    "٣٣",
    "2026-01-01T00:00:00",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "2026-13-45T99:99:99Z",
    "9999-12",
    "0000-00",
    "L1:9123456789012345:48213377",
    "L1:\ud800:1",
]
FORGED_CURSORS = st.builds(
    lambda kind, text: b64(f"{kind}:{text}"),
    st.sampled_from(["v", "rw", "rd", "au", "pr", "Member", "Reward", "x"]),
    st.one_of(
        st.sampled_from(
            [
                "²",
                "9" * 40,
                "-1",
                f"2026-01-01T00:00:00|{UUID}",
                f"0001-01-01T00:00:00+05:00|{UUID}",
                f"9999-12-31T23:59:59-05:00|{UUID}",
                f"{'9' * 30}|{UUID}",
                f"1|{UUID}|extra",
                "\ud800",
                "a\x00",
                UUID,
            ]
        ),
        st.text(max_size=40),
    ),
)
HOSTILE_TEXT = st.one_of(
    st.sampled_from(NASTY),
    FORGED_CURSORS,
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4),
    st.text(max_size=30),
    st.integers(min_value=2**31).map(str),
)
HOSTILE_TIME = st.one_of(
    st.sampled_from(
        [
            "2026-01-01T00:00:00",
            "0001-01-01T00:00:00",
            "0001-01-01T00:00:00+05:00",
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59-05:00",
            "9999-12-31T23:59:59+00:00",
            "2026-02-30T00:00:00Z",
        ]
    ),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.isoformat()
    ),
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, None]),
    ).map(lambda d: d.isoformat()),
    HOSTILE_TEXT,
)


@dataclass(frozen=True)
class Target:
    """One text position: a field (at `prefix` below its root type), an argument and the
    path of input fields inside it."""

    root_type: str
    prefix: tuple[str, ...]
    field: str
    argument: str
    path: tuple[str | int, ...]
    kind: str

    @property
    def label(self) -> str:
        inner = ".".join(str(p) for p in self.path)
        return (
            f"{'.'.join((*self.prefix, self.field))}({self.argument}{'.' + inner if inner else ''})"
        )


GRAPH = build_client_schema(introspection_from_schema(schema._schema))


def _positions(
    gql_type: GraphQLInputType, path: tuple[str | int, ...], seen: tuple[str, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(gql_type, GraphQLNonNull):
        yield from _positions(gql_type.of_type, path, seen)
    elif isinstance(gql_type, GraphQLList):
        yield from _positions(gql_type.of_type, (*path, 0), seen)
    elif isinstance(gql_type, GraphQLScalarType):
        if gql_type.name in TEXT_KINDS:
            yield path, gql_type.name
    elif isinstance(gql_type, GraphQLInputObjectType) and gql_type.name not in seen:
        for name, field in gql_type.fields.items():
            yield from _positions(field.type, (*path, name), (*seen, gql_type.name))


def targets() -> list[Target]:
    """Every text position of every field with arguments, reachable from Query or Mutation
    through fields without arguments (the API's own walk, from introspection)."""
    found: list[Target] = []
    roots = [GRAPH.query_type, GRAPH.mutation_type]
    queue: list[tuple[str, tuple[str, ...], GraphQLObjectType]] = [
        (root.name, (), root) for root in roots if root is not None
    ]
    visited: set[str] = set()
    while queue:
        root_type, prefix, object_type = queue.pop(0)
        for name, field in object_type.fields.items():
            for argument, arg in field.args.items():
                for path, kind in _positions(arg.type, (), ()):
                    found.append(Target(root_type, prefix, name, argument, path, kind))
            named = get_named_type(field.type)
            if (
                not field.args
                and isinstance(named, GraphQLObjectType)
                and named.name not in visited
                and len(prefix) < 3
            ):
                visited.add(named.name)
                queue.append((root_type, (*prefix, name), named))
    return found


TARGETS = targets()


@dataclass
class World:
    """Real objects of one program, so valid values around a hostile one pass."""

    ids: dict[str, str]
    tokens: dict[Role, str]
    payload: str
    roles: dict[str, Role]


def _base(gql_type: GraphQLInputType, name: str, world: World) -> Any:
    """A valid-looking value for a required position."""
    if isinstance(gql_type, GraphQLNonNull):
        return _base(gql_type.of_type, name, world)
    if isinstance(gql_type, GraphQLList):
        return [_base(gql_type.of_type, name, world)]
    if isinstance(gql_type, GraphQLEnumType):
        return next(iter(gql_type.values))
    if isinstance(gql_type, GraphQLInputObjectType):
        return {
            field_name: _base(field.type, field_name, world)
            for field_name, field in gql_type.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(gql_type, GraphQLNamedType)
    return {
        "Int": 1,
        "Float": 1.0,
        "Boolean": False,
        "DateTime": datetime.now(UTC).isoformat(),
        "Date": "1990-01-01",
        "ID": world.ids.get(name, world.ids["memberId"]),
        "String": {
            "currency": "EUR",
            "period": "2026-01",
            "payload": world.payload,
            "slug": "hostile",
            "code": "K7M2-QX9D-4HTP",
        }.get(name, "x1"),
    }.get(gql_type.name, "x1")


def _with(
    gql_type: GraphQLInputType, name: str, path: tuple[str | int, ...], value: Any, world: World
) -> Any:
    """The base value of a position, with `value` at `path` inside it."""
    if not path:
        return value
    if isinstance(gql_type, GraphQLNonNull):
        return _with(gql_type.of_type, name, path, value, world)
    if isinstance(gql_type, GraphQLList):
        return [_with(gql_type.of_type, name, path[1:], value, world)]
    assert isinstance(gql_type, GraphQLInputObjectType)
    built = _base(gql_type, name, world)
    field_name = str(path[0])
    built[field_name] = _with(gql_type.fields[field_name].type, field_name, path[1:], value, world)
    return built


def _field(target: Target) -> Any:
    root = GRAPH.query_type if target.root_type == "Query" else GRAPH.mutation_type
    assert root is not None
    object_type: Any = root
    for step in target.prefix:
        object_type = get_named_type(object_type.fields[step].type)
    return object_type.fields[target.field]


def request(target: Target, value: Any, world: World) -> tuple[str, dict[str, Any]]:
    """The document and variables that send `value` at the target (None: only base values)."""
    field = _field(target)
    declared, passed, variables = [], [], {}
    for index, (argument, arg) in enumerate(field.args.items()):
        declared.append(f"$a{index}: {arg.type}")
        passed.append(f"{argument}: $a{index}")
        if argument == target.argument and value is not None:
            variables[f"a{index}"] = _with(arg.type, argument, target.path, value, world)
        elif isinstance(arg.type, GraphQLNonNull):
            variables[f"a{index}"] = _base(arg.type, argument, world)
    selection = f"{target.field}({', '.join(passed)}) {{ __typename }}"
    for step in reversed(target.prefix):
        selection = f"{step} {{ {selection} }}"
    operation = "mutation" if target.root_type == "Mutation" else "query"
    return f"{operation}({', '.join(declared)}) {{ {selection} }}", variables


async def send(api: Api, document: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    # json.dumps escapes what httpx's encoder refuses (lone surrogates), as a client could
    response = await api.client.post(
        "/graphql",
        content=json.dumps({"query": document, "variables": variables}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, (document, response.text[:500])
    body: dict[str, Any] = response.json()
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, (document, body)
    return body


async def build_world(api: Api) -> World:
    member = await funded_member(api, "alice", 5000)
    partner = (
        await api.ok(
            'mutation { createPartner(input: {slug: "pp", name: "PP"}) { partner { id } } }',
            token=api.admin(),
        )
    )["createPartner"]["partner"]["id"]
    reward = await create_reward(api, partnerId=partner)
    redemption = (await redeem(api, "alice", reward["id"], "k"))["redemption"]["id"]
    tier = (await api.ok("{ program { tiers { id } } }", token=api.admin()))["program"]
    await api.scan("alice")  # staff of store-1 may act for alice
    ids = {
        "memberId": member["id"],
        "rewardId": reward["id"],
        "partnerId": partner,
        "redemptionId": redemption,
        "tierId": tier["tiers"][0]["id"],
        "minTierId": tier["tiers"][0]["id"],
        "earlyAccessTierId": tier["tiers"][0]["id"],
        "id": member["id"],
    }
    tokens = {
        Role.MEMBER: api.member("alice"),
        Role.ADMIN: api.admin(),
        Role.STAFF: api.staff(),
        Role.PARTNER: api.token(Role.PARTNER, "box", partner="pp"),
    }
    world = World(ids=ids, tokens=tokens, payload=await api.card_payload("alice"), roles={})
    # the role each field admits: the first whose plain call is not refused at the door
    for target in TARGETS:
        key = target.label.split("(")[0]
        if key in world.roles:
            continue
        document, variables = request(target, None, world)
        world.roles[key] = Role.ADMIN
        for role in (Role.MEMBER, Role.STAFF, Role.PARTNER, Role.ADMIN):
            body = await send(api, document, variables, tokens[role])
            codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
            if not codes & set(FORBIDDEN):
                world.roles[key] = role
                break
    return world


def test_the_walk_finds_every_kind_of_text_position() -> None:
    labels = {t.label for t in TARGETS}
    assert {
        "me.wallet.history(after)",
        "me.redemptions(after)",
        "partnerRedemptions(since)",
        "partnerStatement(period)",
        "node(id)",
        "enroll(input.displayName)",
        "enroll(input.referralCode)",
        "adjustPoints(input.reason)",
        "lookupMember(input.cardNumber)",
        "createPartner(input.name)",
        "recordPurchase(input.lines.0.sku)",
        "createReward(input.availableFrom)",
    } <= labels, sorted(labels)


_worlds: dict[str, World] = {}


@pytest.mark.asyncio
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # a failing round names its target and value; shrinking would replay all of them
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_hostile_value_is_an_internal_error(api: Api, data: st.DataObject) -> None:
    # given one program with real objects (built once for all rounds)
    if api.program not in _worlds:
        _worlds[api.program] = await build_world(api)
    world = _worlds[api.program]
    for target in TARGETS:
        # when a hostile value arrives at each text position, valid values elsewhere
        strategy = HOSTILE_TIME if target.kind == "DateTime" else HOSTILE_TEXT
        value = data.draw(strategy, label=target.label)
        document, variables = request(target, value, world)
        role = world.roles[target.label.split("(")[0]]
        # then nothing 500s and no error is internal (send asserts both)
        await send(api, document, variables, world.tokens[role])


@pytest.mark.asyncio
async def test_every_mutation_refuses_a_lone_surrogate_in_any_text_with_its_field(
    api: Api,
) -> None:
    world = await build_world(api)
    for target in TARGETS:
        if target.root_type != "Mutation":
            continue
        # when "\ud800" arrives at a text position of a mutation
        document, variables = request(target, "\ud800", world)
        role = world.roles[target.label.split("(")[0]]
        body = await send(
            api,
            document.replace("__typename", "errors { code field }"),
            variables,
            world.tokens[role],
        )
        # then its payload names the field (a DateTime refuses it as GraphQL input)
        if target.kind == "DateTime":
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
            continue
        assert "errors" not in body, (target.label, body)
        assert body["data"][target.field]["errors"] == [
            {
                "code": "INVALID_INPUT",
                "field": [target.argument, *(str(p) for p in target.path)],
            }
        ], (target.label, body)
