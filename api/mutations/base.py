"""The one place where domain errors become payload errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.context import Context
from api.errors import UserError
from domain.errors import DomainError
from domain.ports import UnitOfWork

T = TypeVar("T")


async def attempt(
    context: Context, use_case: Callable[[UnitOfWork], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run a use case in a fresh unit of work: (result, []) or (None, [the error])."""
    try:
        async with context.runtime.uow() as uow:
            return await use_case(uow), []
    except DomainError as error:
        return None, [UserError.from_domain(error)]
