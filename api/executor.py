"""Field execution with a short path for plain leaf fields.

Most fields of a response are scalars read straight off an object (a ledger entry's
points, kind, description...). graphql-core resolves each of them like any field: it
builds a resolve info, calls strawberry's resolver wrapper, checks for awaitables and
walks `complete_value`. For a field that strawberry itself treats as basic (no resolver,
no field extensions) and whose type is a scalar or enum, that work changes nothing, so
this executor reads the attribute and coerces it directly, with the same errors and
null handling. Every other field, and every field when resolver middleware is active,
takes graphql-core's own path.

A query also runs against its CPU ceiling (`api.limits.CpuMeter`): every field enters
and leaves the meter, and once it is spent the first field refused raises
`QueryTimeout` and the rest are skipped (the limiter then answers with that one error).

It leans on graphql-core's ExecutionContext internals, so pyproject.toml pins graphql-core
to the minor release it was written against; tests/unit/test_executor.py compares its
answers with graphql-core's own path and guards any move of that bound.
"""

from __future__ import annotations

import weakref
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from api.limits import QueryTimeout, current_cpu_meter

_DEFINITION = "strawberry-definition"

# per object type: field name -> (field, leaf type, non-null) for plain leaf fields, else None
_Plain = tuple[StrawberryField, GraphQLLeafType, bool]
_plans: weakref.WeakKeyDictionary[GraphQLObjectType, dict[str, _Plain | None]] = (
    weakref.WeakKeyDictionary()
)


def _plan(parent_type: GraphQLObjectType, field_name: str) -> _Plain | None:
    plans = _plans.get(parent_type)
    if plans is None:
        plans = _plans[parent_type] = {}
    elif field_name in plans:
        return plans[field_name]
    plan: _Plain | None = None
    field_def = parent_type.fields.get(field_name)
    if field_def is not None and not field_def.args:
        field = (field_def.extensions or {}).get(_DEFINITION)
        graphql_type = field_def.type
        non_null = isinstance(graphql_type, GraphQLNonNull)
        leaf = graphql_type.of_type if non_null else graphql_type
        if (
            isinstance(field, StrawberryField)
            and field.is_basic_field
            and not field.directives
            and is_leaf_type(leaf)
        ):
            plan = (field, leaf, non_null)
    plans[field_name] = plan
    return plan


class LoyaltyExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._meter = current_cpu_meter()

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        meter = self._meter
        if meter is None:
            return self._execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        if not meter.enter():
            if meter.first_refusal():
                raise QueryTimeout("The query ran out of CPU time.")
            return Undefined
        try:
            return self._execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        finally:
            meter.leave()

    def _execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        details = field_details_list[0]
        node = details.node
        plan = None
        manager = self.middleware_manager
        if not node.arguments and (manager is None or not manager.middlewares):
            plan = _plan(parent_type, node.name.value)
        if plan is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        field, leaf, non_null = plan
        try:
            value = field.default_resolver(source, field.python_name)
            if value is None or value is Undefined:
                if non_null:
                    raise TypeError(
                        "Cannot return null for non-nullable field"
                        f" {parent_type.name}.{node.name.value}."
                    )
                return None
            if isinstance(value, Exception):
                raise value
            return self.complete_leaf_value(leaf, value)
        except Exception as raw_error:
            return_type = GraphQLNonNull(leaf) if non_null else leaf
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
