"""The committed schema and migrations must match the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.runtime import Runtime
from api.schema import schema
from api.settings import Settings
from persistence.tables import metadata

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_generated_from_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed.strip() == schema.as_str().strip(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLInterfaceType,
        GraphQLObjectType,
    )

    missing = []
    for name, gql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not gql_type.description:
            missing.append(name)
        if isinstance(gql_type, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, d in gql_type.values.items() if not d.description]
        if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in gql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
    assert missing == []


@pytest.mark.asyncio
async def test_migrations_create_exactly_the_tables_the_code_defines(runtime: Runtime) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with runtime.db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


def test_the_readme_lists_every_setting() -> None:
    """Operators configure from the README's table: every setting has a row there."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    rows = {
        line.split("|")[1].strip().strip("`") for line in table.splitlines() if line[:2] == "| "
    }
    missing = [
        f"LOYALTY_{name.upper()}"
        for name in Settings.model_fields
        if f"LOYALTY_{name.upper()}" not in rows
    ]
    assert missing == []
