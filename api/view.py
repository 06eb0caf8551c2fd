"""The GraphQL endpoint: authenticates each request and builds its context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected

from api.context import Context
from api.encoding import dump_json
from api.runtime import Runtime
from domain.errors import NotAuthenticated
from persistence.unit_of_work import SharedReads


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are JSON *text* frames: browser and React Native
    clients (graphql-ws, Apollo, urql, Relay) cannot read binary ones."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(dump_json(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class LoyaltyGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = TextFrameWebSocketAdapter  # type: ignore[assignment]

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        context = Context(runtime=self.runtime, principal=None, request=request, response=response)
        if not isinstance(request, WebSocket):
            context.shared_reads = SharedReads(self.runtime.db)
        try:
            context.principal = await self.runtime.verifier.authenticate(
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
        return dump_json(data)

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate the socket from `connection_init` (`{"Authorization": "Bearer ..."}`);
        a missing or bad token closes it with 4403 before any subscription starts."""
        params = getattr(context, "connection_params", None) or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            principal = await self.runtime.verifier.authenticate(
                header if isinstance(header, str) else None
            )
        except NotAuthenticated:
            principal = None
        if principal is None:
            raise ConnectionRejectionError({"reason": "A valid bearer token is required."})
        context.principal = principal
        context.auth_error = None
