"""GraphQL over HTTP at /graphql, as the GraphQL-over-HTTP specification has it
(https://graphql.github.io/graphql-over-http/draft/). WebSocket is served elsewhere.

- Responses are `application/graphql-response+json` or `application/json`, whichever the
  `Accept` header ranks first (the former for `*/*`, or no `Accept` at all); 406 when it
  allows neither.
- As graphql-response+json, a request that never reached execution (a document that
  does not parse or validate, variables that do not coerce) answers 400 without a `data`
  entry; one that executed answers 200, field errors or not. As application/json every
  well-formed request answers 200, again without `data` when execution did not start.
- Requests that are not well-formed (bad JSON, wrong parameter types, no document)
  answer 400, an unsupported request body type 415, other methods 405 with `Allow`, and
  a mutation over GET 405 with `Allow: POST`.
- Every error carries `extensions.code`, and every response `Cache-Control: private,
  no-store`: answers hold member data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.context import Context
from api.encoding import dump_json
from api.graphiql import graphiql_page, wants_html
from api.persisted import PersistedDocuments, PersistedQueryError, Resolved
from api.runtime import Runtime
from domain.errors import NotAuthenticated
from persistence.unit_of_work import SharedReads

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
METHODS = "GET, POST"
NO_STORE = "private, no-store"
_DOCUMENT_ERRORS = {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"}


class Refused(Exception):
    """A request answered without running GraphQL: status, code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Params:
    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


class GraphQLHTTP:
    """The ASGI endpoint for GraphQL requests over HTTP (GET and POST)."""

    def __init__(
        self,
        runtime: Runtime,
        schema: Schema,
        persisted: PersistedDocuments,
        *,
        graphiql: bool,
    ) -> None:
        self.runtime = runtime
        self.schema = schema
        self.persisted = persisted
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return _error_response(
                JSON,
                405,
                "METHOD_NOT_ALLOWED",
                "GraphQL is served with GET (queries) and POST.",
                {"Allow": METHODS},
            )
        accept = request.headers.get("accept")
        if self.graphiql and request.method == "GET" and wants_html(accept, request.query_params):
            return graphiql_page()
        media = negotiate(accept)
        if media is None:
            return _error_response(
                JSON,
                406,
                "NOT_ACCEPTABLE",
                f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}: those are what this endpoint serves.",
            )
        try:
            params = await read_params(request)
            resolved = self.persisted.resolve(params.query, params.extensions)
            result = await self._execute(request, params, resolved)
        except Refused as refused:
            return _error_response(
                media, refused.status, refused.code, refused.message, refused.headers
            )
        except PersistedQueryError as error:
            status = error.status or _request_error_status(media, {error.code})
            return _error_response(media, status, error.code, error.message)
        return self._response(media, result)

    async def _execute(
        self, request: Request, params: Params, resolved: Resolved
    ) -> ExecutionResult:
        allowed = {OperationType.QUERY}
        if request.method == "POST":
            allowed.add(OperationType.MUTATION)
        context = await self._context(request)
        try:
            result = await self.schema.execute(
                resolved.query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.MUTATION:
                raise Refused(
                    405, "METHOD_NOT_ALLOWED", "Mutations are sent with POST.", {"Allow": "POST"}
                ) from error
            return _request_error(
                "BAD_REQUEST",
                "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql.",
            )
        except MissingQueryError as error:  # the checks above leave none; kept as a guard
            raise Refused(400, "BAD_REQUEST", "The request has no GraphQL document.") from error
        except CannotGetOperationTypeError as error:
            message = (
                f'The document has no operation named "{error.operation_name}".'
                if error.operation_name
                else "The document must hold one operation, or `operationName` must name one."
            )
            return _request_error("OPERATION_RESOLUTION_FAILURE", message)
        finally:
            await context.finish()
        if not _codes(result) & _DOCUMENT_ERRORS:
            self.persisted.remember(resolved)
        return result

    async def _context(self, request: Request) -> Context:
        context = Context(runtime=self.runtime, principal=None, request=request)
        context.shared_reads = SharedReads(self.runtime.db)
        try:
            context.principal = await self.runtime.verifier.authenticate(
                request.headers.get("authorization")
            )
        except NotAuthenticated as error:
            # Reported by the first field that needs the caller, as UNAUTHENTICATED.
            context.auth_error = error
        return context

    def _response(self, media: str, result: ExecutionResult) -> Response:
        errors = result.errors or []
        # Execution started when there is data, or an error from a field (it has a path);
        # errors before it (document, variables, limits) have none.
        started = result.data is not None or any(error.path for error in errors)
        body: dict[str, Any] = {}
        if started:
            body["data"] = result.data
        if errors:
            body["errors"] = [error.formatted for error in errors]
        if result.extensions:
            body["extensions"] = result.extensions
        headers: dict[str, str] = {}
        status = 200
        if not started:
            codes = _codes(result)
            status = _request_error_status(media, codes)
            if status == 429:
                retry = _retry_after(errors)
                if retry is not None:
                    headers["Retry-After"] = str(retry)
        return _json_response(media, status, body, headers)


def _codes(result: ExecutionResult) -> set[str]:
    return {str((error.extensions or {}).get("code")) for error in result.errors or []}


def _retry_after(errors: list[GraphQLError]) -> int | None:
    for error in errors:
        seconds = (error.extensions or {}).get("retryAfterSeconds")
        if isinstance(seconds, int):
            return seconds
    return None


def _request_error_status(media: str, codes: set[str]) -> int:
    """The status of a GraphQL request error (nothing executed) in the chosen media type."""
    if media == JSON:
        return 200
    if "INTERNAL_SERVER_ERROR" in codes:
        return 500
    if "RATE_LIMITED" in codes:
        return 429
    return 400


def _request_error(code: str, message: str) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


def _json_response(
    media: str, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        dump_json(body),
        status_code=status,
        media_type=f"{media}; charset=utf-8",
        headers={"Cache-Control": NO_STORE, "Vary": "Accept", **(headers or {})},
    )


def _error_response(
    media: str,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return _json_response(media, status, body, headers)


# --- the request -------------------------------------------------------------------------


async def read_params(request: Request) -> Params:
    """The GraphQL-over-HTTP request parameters from the query string (GET) or a JSON body
    (POST); Refused (400, 415) when the request is not a well-formed one."""
    if request.method == "GET":
        query_params = request.query_params
        data: dict[str, Any] = {
            "query": query_params.get("query"),
            "operationName": query_params.get("operationName") or None,
            "variables": _decode_param(query_params, "variables"),
            "extensions": _decode_param(query_params, "extensions"),
        }
    else:
        _check_content_type(request.headers.get("content-type"))
        data = _decode_body(await request.body())
    return _params(data)


def _check_content_type(header: str | None) -> None:
    if not header:
        raise Refused(
            415, "UNSUPPORTED_MEDIA_TYPE", f"Send the request body as {JSON} (Content-Type)."
        )
    media_type, _, rest = header.partition(";")
    charset = None
    for parameter in rest.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media_type.strip().lower() != JSON or charset not in (None, "utf-8", "utf8"):
        raise Refused(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Request bodies are {JSON} in UTF-8, not {header[:100]}.",
        )


def _decode_json(raw: str | bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        # RecursionError: arrays or objects nested deeper than the parser goes
        raise Refused(400, "BAD_REQUEST", f"{what} is not valid JSON.") from error


def _decode_body(body: bytes) -> dict[str, Any]:
    data = _decode_json(body, "The request body")
    if isinstance(data, list):
        raise Refused(400, "BAD_REQUEST", "Batched requests are not supported: send one.")
    if not isinstance(data, dict):
        raise Refused(400, "BAD_REQUEST", "The request body must be a JSON object.")
    return data


def _decode_param(query_params: Mapping[str, str], name: str) -> Any:
    raw = query_params.get(name)
    return _decode_json(raw, f"The `{name}` parameter") if raw else None


def _params(data: Mapping[str, Any]) -> Params:
    query = data.get("query")
    operation_name = data.get("operationName")
    variables = data.get("variables")
    extensions = data.get("extensions")
    if query is not None and not isinstance(query, str):
        raise Refused(400, "BAD_REQUEST", "`query` must be a string (a GraphQL document).")
    if query == "":
        query = None  # no document: refused as such, or looked up by its persisted hash
    if operation_name is not None and not isinstance(operation_name, str):
        raise Refused(400, "BAD_REQUEST", "`operationName` must be a string.")
    if variables is not None and not isinstance(variables, dict):
        raise Refused(400, "BAD_REQUEST", "`variables` must be an object.")
    if extensions is not None and not isinstance(extensions, dict):
        raise Refused(400, "BAD_REQUEST", "`extensions` must be an object.")
    return Params(query, operation_name or None, variables, extensions)


# --- content negotiation -----------------------------------------------------------------


def negotiate(accept: str | None) -> str | None:
    """The response media type for an `Accept` header, None when it allows neither.

    The highest `q` wins; on a tie, a range naming the type beats a wildcard, then the one
    listed first, then graphql-response+json. No `Accept` at all counts as
    graphql-response+json (the specification's default since 2025)."""
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    ranges = _parse_accept(accept)
    best: tuple[float, int, int, int] | None = None
    chosen = None
    for preference, media in enumerate((GRAPHQL_RESPONSE_JSON, JSON)):
        match = _match(media, ranges)
        if match is None:
            continue
        q, exact, index = match
        if q <= 0:
            continue
        rank = (-q, -exact, index, preference)
        if best is None or rank < best:
            best, chosen = rank, media
    return chosen


def _parse_accept(accept: str) -> list[tuple[str, float, str | None, int]]:
    """(media range, q, charset, position) for each entry of an Accept header."""
    ranges = []
    for index, entry in enumerate(accept.split(",")):
        media_range, *parameters = (part.strip() for part in entry.split(";"))
        q, charset = 1.0, None
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            name = name.strip().lower()
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif name == "charset":
                charset = value.strip().strip('"').lower()
        if media_range:
            ranges.append((media_range.lower(), q, charset, index))
    return ranges


def _match(
    media: str, ranges: list[tuple[str, float, str | None, int]]
) -> tuple[float, int, int] | None:
    """(q, named exactly, position) of the most specific range that covers `media`."""
    kind = media.split("/")[0]
    found: tuple[int, float, int] | None = None
    for media_range, q, charset, index in ranges:
        if charset not in (None, "utf-8", "utf8"):
            continue
        if media_range == media:
            specificity = 2
        elif media_range == f"{kind}/*":
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        if found is None or specificity > found[0]:
            found = (specificity, q, index)
    if found is None:
        return None
    specificity, q, index = found
    return q, int(specificity == 2), index
