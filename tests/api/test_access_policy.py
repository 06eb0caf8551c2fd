"""Every root field declares who may call it, and behaves as declared for every role.

The test walks the schema: a root field without a permission class fails it. Then
it calls every root field as anonymous, member, staff, partner, web shop and admin with
placeholder arguments, and checks the outcome against the declaration: refused
roles get FORBIDDEN (anonymous UNAUTHENTICATED), allowed roles are never refused.
The web shop's declarations are pinned to its list, so a new field is closed to it
unless someone decides otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from strawberry.permission import PermissionExtension

from api import permissions
from api.schema import schema
from domain.model import Role
from tests.support import Api

ROLES: list[Role | None] = [None, Role.MEMBER, Role.STAFF, Role.PARTNER, Role.SHOP, Role.ADMIN]
# The web shop's whole API (issue 21): its order calls and the program and catalog it shows.
# A new root field open to it (`Authenticated` included) must be added here on purpose.
SHOP_FIELDS = {
    "node",
    "program",
    "rewards",
    "recordPurchase",
    "refundPurchase",
    "previewEarn",
    "recordAction",  # the shop reports reviews, wishlist adds ... for its customers
}
PLACEHOLDER = {"ID": "eA", "String": "x", "Int": 1, "Float": 1.0, "Boolean": True}
PLACEHOLDER.update({"DateTime": "2026-01-01T00:00:00+00:00", "Date": "2000-01-01"})


def root_fields() -> list[tuple[str, str, Any]]:
    fields = []
    for operation, root in (("query", schema.query), ("mutation", schema.mutation)):
        definition = root.__strawberry_definition__  # type: ignore[union-attr]
        convert = schema.config.name_converter.from_field
        fields += [(operation, convert(f), f) for f in definition.fields]
    return fields


def allowed_roles(field: Any) -> set[Role]:
    classes = [
        permission
        for extension in field.extensions
        if isinstance(extension, PermissionExtension)
        for permission in extension.permissions
    ]
    assert classes, f"{field.python_name} declares no permission"
    roles: set[Role] = set()
    for permission in classes:
        declared = type(permission).roles
        roles |= set(declared) if declared else set(Role)
    return roles


def placeholder(gql_type: Any) -> Any:
    if isinstance(gql_type, GraphQLNonNull):
        return placeholder(gql_type.of_type)
    if isinstance(gql_type, GraphQLList):
        return []
    if isinstance(gql_type, GraphQLEnumType):
        return next(iter(gql_type.values))
    if isinstance(gql_type, GraphQLInputObjectType):
        return {
            name: placeholder(field.type)
            for name, field in gql_type.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    assert isinstance(gql_type, GraphQLScalarType)
    return PLACEHOLDER[gql_type.name]


def call_for(operation: str, name: str) -> tuple[str, dict[str, Any]]:
    root = schema._schema.query_type if operation == "query" else schema._schema.mutation_type
    field = root.fields[name]
    declarations, arguments, variables = [], [], {}
    for arg_name, arg in field.args.items():
        if not isinstance(arg.type, GraphQLNonNull):
            continue
        declarations.append(f"${arg_name}: {arg.type}")
        arguments.append(f"{arg_name}: ${arg_name}")
        variables[arg_name] = placeholder(arg.type)
    header = f"{operation}({', '.join(declarations)})" if declarations else operation
    args = f"({', '.join(arguments)})" if arguments else ""
    composite = isinstance(get_named_type(field.type), GraphQLObjectType | GraphQLInterfaceType)
    selection = " { __typename }" if composite else ""
    return f"{header} {{ {name}{args}{selection} }}", variables


def test_every_root_field_declares_a_permission() -> None:
    undeclared = []
    for _, name, field in root_fields():
        if not any(isinstance(e, PermissionExtension) for e in field.extensions):
            undeclared.append(name)
    assert undeclared == []
    assert issubclass(permissions.Authenticated, permissions.BasePermission)


def test_the_shop_is_declared_for_its_order_calls_and_reads_only() -> None:
    open_to_shop = {name for _, name, field in root_fields() if Role.SHOP in allowed_roles(field)}
    assert open_to_shop == SHOP_FIELDS
    # no live updates either: those are the member's and the partner's
    subscriptions = schema.subscription.__strawberry_definition__.fields  # type: ignore[union-attr]
    assert [f.python_name for f in subscriptions if Role.SHOP in allowed_roles(f)] == []


@pytest.mark.asyncio
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
async def test_every_root_field_behaves_as_declared_for_every_role(
    api: Api, role: Role | None
) -> None:
    # the probing partner is registered, so any refusal comes from the policy alone
    created = await api.ok(
        'mutation { createPartner(input: {slug: "p1", name: "P1"}) { errors { code } } }',
        token=api.admin(),
    )
    assert created["createPartner"]["errors"] == []
    token = api.token(role, "probe", store="s1", partner="p1") if role is not None else None
    mismatches = []
    for operation, name, field in root_fields():
        query, variables = call_for(operation, name)
        body = await api.raw(query, variables, token)
        codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
        if role is None:
            expected_refusal = "UNAUTHENTICATED"
        elif role not in allowed_roles(field):
            expected_refusal = "FORBIDDEN"
        else:
            expected_refusal = None
        refused = codes & {"FORBIDDEN", "UNAUTHENTICATED"}
        if expected_refusal is None and refused:
            mismatches.append((name, "refused although allowed", body))
        if expected_refusal is not None and expected_refusal not in codes:
            mismatches.append((name, f"expected {expected_refusal}", body))
        if "INTERNAL_SERVER_ERROR" in codes:
            mismatches.append((name, "internal error", body))
    assert mismatches == []
