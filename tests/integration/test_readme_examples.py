"""Every GraphQL example in the README is valid against the schema (the "earn more" screen,
challenges, referrals, the leaderboard...), so the README cannot drift from the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import DocumentNode, GraphQLError, build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)


def test_the_readme_has_closed_code_fences_and_graphql_examples() -> None:
    assert README.count("```") % 2 == 0
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.split("{")[0].strip() or "query")
def test_each_operation_of_each_example_is_valid(block: str) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    document = parse(block)
    errors: list[GraphQLError] = []
    for definition in document.definitions:  # a block may show several calls in turn
        errors += validate(schema, DocumentNode(definitions=(definition,)))
    assert [error.message for error in errors] == []
