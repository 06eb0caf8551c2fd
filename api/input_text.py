"""Text no mutation input can hold, refused before the mutation runs.

JSON lets a client send what no field can store: a lone UTF-16 surrogate ("\\ud800" is
valid JSON but not Unicode, so neither database can encode it), NUL (PostgreSQL text
cannot hold it) and strings of any size. Each field's own rules (length, characters,
format) live in domain/ and answer with their own messages; this guard makes sure that
text none of them could take never reaches a use case, a query or a log line, whatever
field it arrives in, and answers like any rule: a payload `INVALID_INPUT` with the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import get_object_definition, has_object_definition
from strawberry.types.field import StrawberryField

from api.errors import ErrorCode, UserError

# Longer than any field of the API accepts (reward descriptions: 2,000 characters).
MAX_INPUT_TEXT = 10_000


def text_problem(value: str) -> str | None:
    """Why `value` can be no field's text, or None."""
    if len(value) > MAX_INPUT_TEXT:
        return f"At most {MAX_INPUT_TEXT} characters are allowed."
    if "\x00" in value:
        return "Text must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode (a lone surrogate is not)."
    return None


def _texts(
    value: Any, path: tuple[str, ...], names: NameConverter
) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string inside an argument value, with its path of GraphQL names."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, str(index)), names)
    elif has_object_definition(value):
        for field in value.__strawberry_definition__.fields:
            item = getattr(value, field.python_name, None)
            yield from _texts(item, (*path, names.get_graphql_name(field)), names)


class InputTextGuard(FieldExtension):
    """On a mutation: the payload with INVALID_INPUT for the first unusable text."""

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        names = info.schema.config.name_converter
        for argument in self.field.arguments:
            value = kwargs.get(argument.python_name)
            for path, text in _texts(value, (names.get_graphql_name(argument),), names):
                problem = text_problem(text)
                if problem is not None:
                    error = UserError(
                        code=ErrorCode.INVALID_INPUT, message=problem, field=list(path)
                    )
                    return _payload(self.field.type, error)
        return await next_(source, info, **kwargs)


def _payload(payload_type: Any, error: UserError) -> Any:
    """A mutation payload with nothing but `error`: every payload has `errors` and
    nullable results (tests/api/test_hostile_inputs.py sends every mutation here)."""
    values = {
        field.name: None
        for field in dataclasses.fields(payload_type)
        if field.init and field.name != "errors"
    }
    return payload_type(**values, errors=[error])


def guard_mutations(mutation_type: type) -> None:
    """Put the guard on every mutation of `mutation_type` (once; inside its permissions)."""
    for field in get_object_definition(mutation_type, strict=True).fields:
        if not any(isinstance(e, InputTextGuard) for e in field.extensions):
            field.extensions.append(InputTextGuard())
