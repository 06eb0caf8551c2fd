"""CORS for browser apps on other origins (`LOYALTY_CORS_ORIGINS`).

Tokens travel in `Authorization`, never in cookies, so credentials are not allowed. A
preflight from an allowed origin gets the methods, headers and max-age; anything from an
origin not on the list gets no CORS header at all (the browser then blocks it).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Send

METHODS = ("GET", "POST")
HEADERS = ("Authorization", "Content-Type", "X-Request-ID")
EXPOSED = ("X-Request-ID", "Retry-After")
MAX_AGE_SECONDS = 600


class Cors(CORSMiddleware):
    def __init__(self, app: ASGIApp, allow_origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_methods=METHODS,
            allow_headers=HEADERS,
            expose_headers=EXPOSED,
            max_age=MAX_AGE_SECONDS,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        if not self.is_allowed_origin(request_headers["origin"]):
            return PlainTextResponse(
                "Disallowed CORS origin", status_code=400, headers={"Vary": "Origin"}
            )
        return super().preflight_response(request_headers)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if origin is None or self.is_allowed_origin(origin):
            await super().send(message, send, request_headers)
            return
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
        await send(message)
