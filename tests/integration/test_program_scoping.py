"""Every repository statement stays inside one program, on both databases.

The test walks every public method of every repository class in
persistence/repositories/, calls it with arguments made from its type hints (the
caller's program, a member of it, its entry tier, any other ids made up), captures the
SQL it sends and checks each statement that touches a program-owned table: every WHERE
(of the statement and of its subqueries) names `program_id` (or, on the program table,
the program's id or slug), and every INSERT writes `program_id`. A new method is covered
as soon as it exists; one whose arguments cannot be made up must be added to CALLS, and
one that may not be scoped to EXEMPT with the reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import importlib
import inspect
import pkgutil
import re
import types
import typing
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import SQLModel

import persistence.repositories
import persistence.tables
from api.runtime import Runtime
from domain.model import EntryKind, ExpiryPolicy, PointsPolicy, Posting
from tests.support import Api, StatementCounter

# (class, method): why it needs no program condition.
EXEMPT: dict[tuple[str, str], str] = {
    ("SqlProgramRepository", "add"): "creates a program: the new row is its own scope",
}
# Arguments the type hints cannot tell: (class, method) -> keyword arguments from `Made`.
EXPIRING = PointsPolicy(expiry=ExpiryPolicy.AFTER_EARNING)
CALLS: dict[tuple[str, str], Callable[[Made], dict[str, Any]]] = {
    ("SqlExpiryRepository", "due"): lambda made: {"policy": EXPIRING},
    # which members to answer: none given asks for nobody (and sends nothing)
    ("SqlLeaderboardRepository", "standings"): lambda made: {"first": 10, "max_rank": 3},
    ("SqlExpiryRepository", "empty_expired_lots"): lambda made: {"policy": EXPIRING},
    ("SqlExpiryRepository", "post_expiries"): lambda made: {
        "postings": [
            replace(
                posting := made.instance(Posting),
                entry=replace(posting.entry, kind=EntryKind.EXPIRE),
            )
        ]
    },
}
# Methods that may run no SQL on some database (then there is nothing to scope).
NO_SQL_ON_SQLITE = {("SqlInStoreRepository", "hold_attempts")}

PROGRAM_OWNED = {
    table.name for table in SQLModel.metadata.tables.values() if "program_id" in table.c
}
PROGRAM_TABLE = "program"
TOUCHES = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?', re.IGNORECASE)
WHERE = re.compile(r"(?<!FILTER \()\bWHERE\b", re.IGNORECASE)  # not an aggregate FILTER
SCOPED = re.compile(r"\bprogram_id\b|\bprogram\.(?:id|slug)\b")


def repository_methods() -> list[tuple[type, str]]:
    found = []
    for info in pkgutil.iter_modules(persistence.repositories.__path__):
        module = importlib.import_module(f"persistence.repositories.{info.name}")
        for name, cls in vars(module).items():
            if not (inspect.isclass(cls) and cls.__module__ == module.__name__):
                continue
            if not name.endswith("Repository"):
                continue
            for method, value in vars(cls).items():
                if not method.startswith("_") and inspect.iscoroutinefunction(value):
                    found.append((cls, method))
    return found


METHODS = repository_methods()


def unscoped(statement: str) -> str | None:
    """Why `statement` could reach another program's rows, or None when it cannot."""
    tables = {name.lower() for name in TOUCHES.findall(statement)}
    owned = tables & (PROGRAM_OWNED | {PROGRAM_TABLE})
    if not owned:
        return None
    text = " ".join(statement.split())
    if text.upper().startswith("INSERT"):
        columns = text[: text.find(")") + 1]
        if tables & PROGRAM_OWNED and "program_id" not in columns:
            return "INSERT without program_id"
        conflict = text.upper().find("DO UPDATE")
        if conflict >= 0 and not SCOPED.search(text[text.upper().find("ON CONFLICT") :]):
            return "ON CONFLICT DO UPDATE neither keyed nor filtered on program_id"
        return None
    parts = WHERE.split(text)
    if len(parts) < 2:
        return "no WHERE"
    for part in parts[1:]:
        if not SCOPED.search(part):
            return f"a WHERE without program_id: WHERE {part[:120]}"
    return None


class Made:
    """Arguments made up from type hints, inside the test's program."""

    def __init__(self, program_id: uuid.UUID, member_id: uuid.UUID, tier_id: uuid.UUID) -> None:
        self.named: dict[str, Any] = {
            "program_id": program_id,
            "member_id": member_id,
            "tier_id": tier_id,
            "from_tier_id": tier_id,
            "to_tier_id": tier_id,
            "min_tier_id": None,
            "early_access_tier_id": None,
            "partner_id": None,
            "referred_by": None,
            "entry_id": None,
        }

    def value(self, name: str, hint: Any, namespace: dict[str, Any]) -> Any:
        if name in self.named:
            value = self.named[name]
            if value is not None or _optional(hint):
                return value
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            if type(None) in args:
                return None
            return self.value(name, args[0], namespace)
        if hint is uuid.UUID:
            return uuid.uuid4()
        if hint is bool:
            return False
        if hint is int:
            return 1
        if hint is str:
            return f"x{uuid.uuid4().hex[:8]}"
        if hint is datetime:
            return datetime(2026, 1, 1, tzinfo=UTC)
        if hint is date:
            return date(2000, 1, 1)
        if inspect.isclass(hint) and issubclass(hint, enum.Enum):
            return next(iter(hint))
        if origin in (list, Sequence, Collection, tuple):
            if origin is tuple and args and args[-1] is not Ellipsis:
                return tuple(self.value(name, arg, namespace) for arg in args)
            return [self.value(name, args[0], namespace)] if args else []
        if origin in (dict, Mapping) or hint in (dict, Mapping):
            return {}
        if inspect.isclass(hint) and dataclasses.is_dataclass(hint):
            return self.instance(hint)
        if origin is Callable or hint is Callable:
            return lambda *_: None
        raise TypeError(f"cannot make up a {hint!r} for {name}")

    def instance(self, cls: type) -> Any:
        hints = typing.get_type_hints(cls, vars(importlib.import_module(cls.__module__)))
        values = {}
        for field in dataclasses.fields(cls):
            if not field.init:
                continue
            hint = hints[field.name]
            has_default = (
                field.default is not dataclasses.MISSING
                or field.default_factory is not dataclasses.MISSING
            )
            if has_default and field.name not in self.named:
                continue
            values[field.name] = self.value(field.name, hint, {})
        return cls(**values)

    def arguments(self, function: Callable[..., Any]) -> dict[str, Any]:
        module = vars(importlib.import_module(function.__module__))
        hints = typing.get_type_hints(function, module)
        made = {}
        for name, parameter in inspect.signature(function).parameters.items():
            if name == "self" or parameter.default is not inspect.Parameter.empty:
                continue
            made[name] = self.value(name, hints[name], module)
        return made


def _optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def test_every_repository_method_is_walked() -> None:
    # given / when: the repositories the walk found
    names = {(cls.__name__, method) for cls, method in METHODS}
    # then: the core ones are among them, and every exemption names one that exists
    assert ("SqlTierRepository", "remove") in names
    assert ("SqlMemberRepository", "move_tier") in names
    assert set(EXEMPT) | set(CALLS) <= names


def test_the_check_catches_an_unscoped_statement() -> None:
    assert unscoped("UPDATE tier SET rank=? WHERE tier.id = ?") is not None
    assert unscoped("SELECT member.id FROM member WHERE member.id IN (SELECT x FROM y)")
    assert unscoped("INSERT INTO lot (id, member_id) VALUES (?, ?)") is not None
    assert unscoped("DELETE FROM tier WHERE tier.program_id = ? AND tier.id = ?") is None
    assert unscoped("SELECT 1 FROM program WHERE program.slug = ?") is None


@pytest.mark.asyncio
async def test_every_statement_of_every_repository_is_program_scoped(
    api: Api, runtime: Runtime, backend: str
) -> None:
    # given: a program with a member, and its entry tier
    await api.enroll("scoped-member")
    async with runtime.reader() as uow:
        found = await uow.programs.get_with_tiers(api.program)
        assert found is not None
        program, tiers = found
        member = await uow.members.get_by_subject(program.id, "scoped-member")
        assert member is not None
    made = Made(program.id, member.id, tiers[0].id)
    problems: list[str] = []
    silent: list[str] = []
    for cls, method in METHODS:
        key = (cls.__name__, method)
        if key in EXEMPT:
            continue
        arguments = made.arguments(getattr(cls, method))
        arguments.update(CALLS[key](made) if key in CALLS else {})
        # when: the method runs in a transaction of its own, rolled back
        with StatementCounter(runtime) as counter:
            async with runtime.uow() as uow:
                repository = cls(uow.conn)
                # made-up rows may break constraints: what ran until then is checked
                with contextlib.suppress(Exception):
                    await getattr(repository, method)(**arguments)
        # then: each statement it sent stays inside the program
        if not counter.statements and not (backend == "sqlite" and key in NO_SQL_ON_SQLITE):
            silent.append(f"{cls.__name__}.{method}")
        for statement in counter.statements:
            reason = unscoped(statement)
            if reason is not None:
                problems.append(f"{cls.__name__}.{method}: {reason}\n    {statement[:300]}")
    assert not problems, "\n".join(problems)
    assert not silent, f"ran no SQL with made-up arguments (give them in CALLS): {silent}"
