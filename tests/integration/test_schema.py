"""The committed schema and migrations must match the code."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    get_named_type,
)

from api.runtime import Runtime
from api.schema import schema
from api.settings import Settings
from persistence.tables import metadata
from tests.api.third_party_support import JS_DIR
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_generated_from_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed.strip() == schema.as_str().strip(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )


def _descriptions() -> list[tuple[str, str | None]]:
    """(where, description) of every type, field, argument, input field and enum value."""
    found: list[tuple[str, str | None]] = []
    for name, gql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        found.append((name, gql_type.description))
        if isinstance(gql_type, GraphQLEnumType):
            found += [(f"{name}.{v}", d.description) for v, d in gql_type.values.items()]
        if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in gql_type.fields.items():
                found.append((f"{name}.{field_name}", field.description))
                for arg_name, arg in getattr(field, "args", {}).items():
                    found.append((f"{name}.{field_name}({arg_name})", arg.description))
    return found


# Fewer words than this cannot say what to pass, its range and what leaving it out does.
MIN_DESCRIPTION_WORDS = 3


def test_every_type_field_argument_and_enum_value_is_described_in_words() -> None:
    # given what GraphiQL and generated client code show a mobile developer
    described = _descriptions()
    # then each says something in at least three words, starting with a capital
    too_short = [
        f"{where}: {text!r}"
        for where, text in described
        if len((text or "").split()) < MIN_DESCRIPTION_WORDS
    ]
    assert too_short == []
    lowercase = [f"{where}: {text!r}" for where, text in described if text and text[0].islower()]
    assert lowercase == []


def test_every_connection_offers_nodes_and_relay_page_info() -> None:
    lacking = []
    for name, gql_type in schema._schema.type_map.items():
        if not (name.endswith("Connection") and isinstance(gql_type, GraphQLObjectType)):
            continue
        fields = gql_type.fields
        edge = get_named_type(fields["edges"].type)
        if "nodes" not in fields or get_named_type(fields["nodes"].type) is not (
            get_named_type(edge.fields["node"].type)  # type: ignore[attr-defined]
        ):
            lacking.append(f"{name}.nodes")
        if get_named_type(fields["pageInfo"].type).name != "PageInfo":
            lacking.append(f"{name}.pageInfo")
    assert lacking == []


# graphql-schema-linter's rules for what client code generators rely on; none needs an
# exception for a contract name today.
LINTER_RULES = (
    "relay-connection-types-spec",
    "relay-connection-arguments-spec",
    "relay-page-info-spec",
    "descriptions-are-capitalized",
    "fields-have-descriptions",
    "types-have-descriptions",
    "arguments-have-descriptions",
    "enum-values-have-descriptions",
    "input-object-values-have-descriptions",
)
LINTER = JS_DIR / "node_modules" / ".bin" / "graphql-schema-linter"


def test_graphql_schema_linter_passes_the_relay_and_description_rules() -> None:
    # given the linter from tests/clients/js (`make test` runs `npm ci` there)
    if shutil.which("node") is None or not LINTER.exists():
        problem = f"graphql-schema-linter is not installed: run `npm ci` in {JS_DIR}"
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem + " (CI fails instead of skipping)")
    # when it reads the committed schema
    result = subprocess.run(
        [str(LINTER), "--format", "compact", "--rules", ",".join(LINTER_RULES), "schema.graphql"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # then it finds nothing
    assert result.returncode == 0, result.stdout + result.stderr


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
