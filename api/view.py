"""The GraphQL endpoint over HTTP: authenticates each request and builds its context.
(WebSocket is served by api/ws.py.)"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.context import Context
from api.runtime import Runtime
from domain.errors import NotAuthenticated
from persistence.unit_of_work import SharedReads


class LoyaltyGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        context = Context(runtime=self.runtime, principal=None, request=request, response=response)
        context.shared_reads = SharedReads(self.runtime.db)
        try:
            context.principal = self.runtime.verifier.from_header(
                request.headers.get("authorization")
            )
        except NotAuthenticated as error:
            # Reported by the first field that needs the caller, as UNAUTHENTICATED.
            context.auth_error = error
        return context

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            return await super().execute_operation(*args, **kwargs)
        finally:
            context = kwargs.get("context")
            if isinstance(context, Context):
                await context.finish()

    def encode_json(self, data: object) -> bytes:
        # Requests stay with the standard library's parser: it takes any integer and
        # lone surrogates, so such input reaches GraphQL's validation and gets its errors.
        return orjson.dumps(data)
