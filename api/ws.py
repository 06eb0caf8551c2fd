"""graphql-transport-ws at /graphql: our own endpoint, built for many idle subscribers.

The protocol (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md), in JSON
text frames: `connection_init` with `{"Authorization": "Bearer <token>"}` within
`ws_init_timeout_seconds`, answered by `connection_ack`; `subscribe` runs a subscription,
query or mutation; `complete` from the client stops one; `ping` gets `pong`. The socket is
closed with 4400 for a malformed, binary or too deeply nested message, 4401 for `subscribe`
before the ack, 4403 without a valid token or once it expired, 4408 without
`connection_init` in time, 4409 for an id in use ("Subscriber for <id> already exists"),
4413 for a message over `ws_max_message_bytes` (under `loyalty serve` uvicorn closes with
1009 first), 4429 for a second `connection_init`, 1008 when the caller (token subject) has
too many sockets open and 1013 when the process has.

Every operation runs through the strawberry schema (`schema.stream`) with a context of its
own, so parsing, validation, the depth, alias and token limits, the cost budget,
permissions and error masking apply as over HTTP: a query or mutation answers `next` and
`complete`, an invalid document `error`. A subscription resolver does not loop over
events: it checks access, works out its bus topic and answers `context.listen(topic,
value)` (api/subscriptions.py). The subscriber then joins the *group* of equal
subscriptions: same topic, caller, document, operation name and variables (the caller is
part of it because a result may depend on who asks). A group holds one bus mailbox and
one task; per event it builds a fresh context, turns the event into the root value, runs
the document once with graphql-core's `execute` (errors masked as for any result) and
sends the same `next` payload to each of its subscribers. So the reads for an event do not
grow with the number of subscribers, and as at most `ws_event_concurrency` events are
resolved at a time in a process, a flood of events cannot take the database pool from
requests.

The token's `exp` is checked before every operation and every delivery, and at `exp` the
socket's subscriptions get `complete` and the socket is closed with 4403 (graphql-ws
clients then reconnect with a fresh token). Subscriptions over the limits per caller, per
process or per socket are refused with an `error` (TOO_MANY_SUBSCRIPTIONS,
TOO_MANY_OPERATIONS). Refusals are logged at INFO, failures of our own at ERROR and never
shown to the client.

What an idle subscriber costs: a `Subscriber` (socket, id, group); per socket a `Connection`
(websocket, principal, operations, one timer); per group a mailbox and a waiting task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from contextlib import aclosing, suppress
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from inspect import isawaitable
from typing import Any

import orjson
import strawberry
from graphql import DocumentNode, ExecutionResult, GraphQLError, execute, parse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.types.execution import ExecutionResult as StrawberryResult
from strawberry.types.execution import PreExecutionError

from api.context import Context, Feed
from api.errors import mask
from api.persisted import PersistedDocuments, PersistedQueryError, TrustedDocuments
from api.runtime import Runtime
from domain.errors import NotAuthenticated
from domain.model import Principal
from persistence.unit_of_work import SharedReads

log = logging.getLogger("loyalty.ws")

PROTOCOL = "graphql-transport-ws"
MAX_JSON_DEPTH = 64  # GraphQL variables nest a few levels; parsers and coercion recurse
_closing: set[asyncio.Task[None]] = set()  # closes started from timers, until they are done


class LiveEndpoint:
    """The ASGI app behind `WebSocketRoute("/graphql")`: one per process, so its counts
    and limits are the process's."""

    def __init__(
        self, runtime: Runtime, schema: strawberry.Schema, trusted: TrustedDocuments | None = None
    ) -> None:
        self.runtime = runtime
        self.schema = schema
        # with trusted documents, sockets run only the manifest's, as HTTP does
        self.trusted = PersistedDocuments(trusted, None) if trusted is not None else None
        self.settings = runtime.settings
        self.connection_count = 0
        self.subscriber_count = 0
        self.delivered = 0  # `next` messages of subscription events sent
        self.undelivered = 0  # events not sent to a subscriber whose token had expired
        self.sockets_of: dict[Principal, int] = {}
        self.subscriptions_of: dict[Principal, int] = {}
        self.groups: dict[tuple[object, ...], Group] = {}
        self.resolving = asyncio.Semaphore(max(1, self.settings.ws_event_concurrency))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        if PROTOCOL not in scope.get("subprotocols", ()):
            await websocket.close(4406)  # before the handshake: refused with HTTP 403
            return
        await websocket.accept(subprotocol=PROTOCOL)
        if self.connection_count >= self.settings.ws_max_connections:
            log.info("socket refused: too many connections in this process")
            await websocket.close(1013, "Too many connections")
            return
        self.connection_count += 1
        connection = Connection(self, websocket)
        try:
            await connection.serve()
        finally:
            self.connection_count -= 1
            connection.stop()

    def context(self, principal: Principal | None, websocket: WebSocket | None = None) -> Context:
        """A fresh context: one per operation and one per event of a group."""
        return Context(
            runtime=self.runtime,
            principal=principal,
            request=websocket,
            shared_reads=SharedReads(self.runtime.db),
        )

    def admit(self, caller: Principal) -> bool:
        """Count a socket of `caller`, unless it has as many as it may."""
        open_now = self.sockets_of.get(caller, 0)
        if open_now >= self.settings.ws_max_connections_per_caller:
            return False
        self.sockets_of[caller] = open_now + 1
        return True

    def dismiss(self, caller: Principal) -> None:
        _decrement(self.sockets_of, caller)

    def join(self, connection: Connection, op_id: str, feed: Feed, payload: Operation) -> str:
        """Add a subscriber to the group of its equals (opened on first use); why not, if
        it may not."""
        caller = connection.caller
        if caller is None or connection.closing:
            return "The socket is closing."
        if self.subscriber_count >= self.settings.ws_max_subscriptions:
            return "Too many subscriptions on this server; try again later."
        limit = self.settings.ws_max_subscriptions_per_caller
        if self.subscriptions_of.get(caller, 0) >= limit:
            return f"Too many subscriptions for this caller (at most {limit})."
        query, variables, name = payload
        canonical = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        key = (feed.topic, caller, query, name, canonical)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(self, key, feed, caller, payload)
        subscriber = Subscriber(connection, op_id, group)
        group.subscribers.append(subscriber)
        connection.operations[op_id] = subscriber
        self.subscriber_count += 1
        self.subscriptions_of[caller] = self.subscriptions_of.get(caller, 0) + 1
        return ""

    def leave(self, subscriber: Subscriber) -> None:
        group = subscriber.group
        if group is None:
            return
        subscriber.group = None
        group.subscribers.remove(subscriber)
        self.subscriber_count -= 1
        _decrement(self.subscriptions_of, group.caller)
        if not group.subscribers:
            self.close_group(group)

    def close_group(self, group: Group) -> None:
        """Stop the group listening; its task ends."""
        if self.groups.get(group.key) is group:
            del self.groups[group.key]
        group.mailbox.release()

    async def resolve(self, group: Group, event: Any) -> str | None:
        """The `next` payload (JSON) of an event for a group; None when it shows nothing."""
        async with self.resolving:
            context = self.context(group.caller)
            try:
                value = await group.feed.value(context, event)
                if value is None:
                    return None
                query, variables, name = group.operation
                result = execute(
                    self.schema._schema,
                    _document(query),
                    root_value=value,
                    context_value=context,
                    variable_values=variables,
                    operation_name=name,
                    executor_class=self.schema.execution_context_class,
                )
                if isawaitable(result):
                    result = await result
                assert isinstance(result, ExecutionResult)
                data, errors = result.data, result.errors
            except Exception as error:  # reading the event's value failed
                data, errors = None, [GraphQLError(str(error), original_error=error)]
            finally:
                await context.finish()
        body: dict[str, object] = {"data": data}
        if errors:
            body["errors"] = [e.formatted for e in mask(errors)]
        return orjson.dumps(body).decode()


Operation = tuple[str, dict[str, Any] | None, str | None]  # query, variables, operation name


class Subscriber:
    """One subscription of one socket: what the endpoint keeps per idle subscriber."""

    __slots__ = ("connection", "group", "op_id")

    def __init__(self, connection: Connection, op_id: str, group: Group) -> None:
        self.connection = connection
        self.op_id = op_id
        self.group: Group | None = group


class Group:
    """Equal subscriptions: one mailbox on the bus, each event resolved once for all."""

    __slots__ = ("caller", "endpoint", "feed", "key", "mailbox", "operation", "subscribers", "task")

    def __init__(
        self,
        endpoint: LiveEndpoint,
        key: tuple[object, ...],
        feed: Feed,
        caller: Principal,
        operation: Operation,
    ) -> None:
        self.endpoint = endpoint
        self.key = key
        self.feed = feed
        self.caller = caller
        self.operation = operation
        self.subscribers: list[Subscriber] = []
        # listening from now on: nothing committed after the subscribe is missed
        self.mailbox = endpoint.runtime.bus.subscribe(feed.topic).open()
        self.task = asyncio.create_task(self.run(), name=f"live:{feed.topic}")

    async def run(self) -> None:
        while (event := await self.mailbox.get()) is not None:
            try:
                payload = await self.endpoint.resolve(self, event)
                if payload is not None:
                    await self.send(payload)
            except Exception:  # a bug of ours: the group lives on for the next event
                log.exception("delivering an event failed")
        # The mailbox closed: the last subscriber left, the server stops, or the group fell
        # so far behind that the bus cut it off (its clients resubscribe and refetch).
        self.endpoint.close_group(self)
        for subscriber in list(self.subscribers):
            self.endpoint.leave(subscriber)
            await subscriber.connection.finish(subscriber)

    async def send(self, payload: str) -> None:
        now = self.endpoint.runtime.clock.now()
        for subscriber in list(self.subscribers):
            connection = subscriber.connection
            if subscriber.group is not self:
                continue  # completed meanwhile
            if connection.expired(now):
                self.endpoint.undelivered += 1
                connection.later(connection.expire())
                continue
            op_id = orjson.dumps(subscriber.op_id).decode()
            await connection.send_text(f'{{"id":{op_id},"type":"next","payload":{payload}}}')
            self.endpoint.delivered += 1


class Connection:
    """One socket: its caller once initialised, its operations, and one timer (the
    connection_init deadline, then the token's expiry)."""

    __slots__ = ("caller", "closing", "endpoint", "operations", "principal", "timer", "websocket")

    def __init__(self, endpoint: LiveEndpoint, websocket: WebSocket) -> None:
        self.endpoint = endpoint
        self.websocket = websocket
        self.principal: Principal | None = None
        self.caller: Principal | None = None  # the principal without its expiry: whose limits
        self.operations: dict[str, Subscriber | asyncio.Task[None]] = {}
        self.closing = False
        self.timer = asyncio.get_running_loop().call_later(
            endpoint.settings.ws_init_timeout_seconds,
            lambda: self.later(self.close(4408, "Connection initialisation timeout")),
        )

    async def serve(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if self.closing:
                continue  # until the client answers the close
            text = message.get("text")
            try:
                if text is None:
                    await self.close(4400, "Messages are JSON text frames")
                else:
                    await self.handle(text)
            except Exception:
                log.exception("WebSocket message failed")
                await self.close(4500, "Internal server error")

    async def handle(self, text: str) -> None:
        limit = self.endpoint.settings.ws_max_message_bytes
        if len(text) > limit or len(text.encode()) > limit:
            await self.close(4413, "Message too large")
            return
        try:
            message = orjson.loads(text)  # refuses nesting over 1024 levels, no recursion
        except orjson.JSONDecodeError:
            message = None
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("type"), str)
            or _deeper_than(message, MAX_JSON_DEPTH)
        ):
            await self.close(4400, "Invalid message received")
            return
        kind = message["type"]
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "connection_init":
            await self.init(message.get("payload"))
        elif kind == "subscribe":
            await self.subscribe(message.get("id"), message.get("payload"))
        elif kind == "complete" and isinstance(message.get("id"), str):
            self.complete(message["id"])
        else:
            await self.close(4400, f"Unexpected message of type {kind} received")

    async def init(self, payload: object) -> None:
        if self.principal is not None:
            await self.close(4429, "Too many initialisation requests")
            return
        if payload is not None and not isinstance(payload, dict):
            await self.close(4400, "Invalid connection_init payload")
            return
        params = payload or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            # (fetches the JWKS URL's keys first when a token names a new one, as HTTP does)
            principal = await self.endpoint.runtime.verifier.authenticate(
                header if isinstance(header, str) else None
            )
        except NotAuthenticated:
            principal = None
        now = self.endpoint.runtime.clock.now()
        if principal is None or _expired(principal, now):
            log.info("socket refused: no valid token")
            await self.close(4403, "Forbidden")
            return
        caller = replace(principal, expires_at=None)
        if not self.endpoint.admit(caller):
            log.info("socket refused: too many connections for the caller")
            await self.close(1008, "Too many connections for this caller")
            return
        self.principal, self.caller = principal, caller
        self.timer.cancel()
        if principal.expires_at is not None:
            remaining = (principal.expires_at - now).total_seconds()
            self.timer = asyncio.get_running_loop().call_later(
                remaining, lambda: self.later(self.expire())
            )
        await self.send({"type": "connection_ack"})

    async def subscribe(self, op_id: object, payload: object) -> None:
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            await self.close(4400, "Invalid subscribe message")
            return
        query, variables, name, extensions = (
            payload.get(k) for k in ("query", "variables", "operationName", "extensions")
        )
        trusted = self.endpoint.trusted
        if (
            not (isinstance(query, str) or (trusted is not None and query is None))
            or not isinstance(variables, dict | None)
            or not isinstance(name, str | None)
            or not isinstance(extensions, dict | None)
        ):
            await self.close(4400, "Invalid subscribe payload")
            return
        if self.principal is None:
            await self.close(4401, "Unauthorized")
            return
        if op_id in self.operations:
            await self.close(4409, f"Subscriber for {op_id} already exists")
            return
        if trusted is not None:
            try:
                query = trusted.resolve(query or None, extensions).query
            except PersistedQueryError as error:
                await self.refuse(op_id, error.code, error.message)
                return
        assert isinstance(query, str)
        if self.expired(self.endpoint.runtime.clock.now()):
            await self.expire()
            return
        limit = self.endpoint.settings.ws_max_operations_per_connection
        if len(self.operations) >= limit:
            await self.refuse(op_id, "TOO_MANY_OPERATIONS", f"At most {limit} per socket.")
            return
        task = asyncio.create_task(self.run(op_id, (query, variables, name)))
        self.operations[op_id] = task

    async def run(self, op_id: str, operation: Operation) -> None:
        """One operation, through the strawberry schema; a subscription then joins its group."""
        query, variables, name = operation
        context = self.endpoint.context(self.principal, self.websocket)
        try:
            results = await self.endpoint.schema.stream(
                query, variable_values=variables, context_value=context, operation_name=name
            )
            async with aclosing(results):
                async for result in results:
                    if not isinstance(result, StrawberryResult):  # @defer/@stream: not enabled
                        raise TypeError(f"unexpected result {type(result).__name__}")
                    if isinstance(result, PreExecutionError) and not any(
                        error.path for error in result.errors or ()
                    ):  # the document (or its cost) is refused: `error`, no `complete`
                        formatted = [error.formatted for error in result.errors or ()]
                        await self.send({"id": op_id, "type": "error", "payload": formatted})
                        return
                    body: dict[str, object] = {"data": result.data}
                    if result.errors:
                        body["errors"] = [error.formatted for error in result.errors]
                    await self.send({"id": op_id, "type": "next", "payload": body})
            if context.feed is not None:
                await self.endpoint.runtime.bus.start()  # listening (once per process)
                if refusal := self.endpoint.join(self, op_id, context.feed, operation):
                    await self.refuse(op_id, "TOO_MANY_SUBSCRIPTIONS", refusal)
                return
            await self.send({"id": op_id, "type": "complete"})
        except Exception:
            log.exception("WebSocket operation failed")
            await self.close(4500, "Internal server error")
        finally:
            await context.finish()
            if self.operations.get(op_id) is asyncio.current_task():
                del self.operations[op_id]

    def complete(self, op_id: str) -> None:
        """The client stops an operation (an unknown id is one that ended already)."""
        operation = self.operations.pop(op_id, None)
        if isinstance(operation, Subscriber):
            self.endpoint.leave(operation)
        elif operation is not None:
            operation.cancel()

    async def finish(self, subscriber: Subscriber) -> None:
        """The server ended a subscription: tell the client."""
        if self.operations.get(subscriber.op_id) is subscriber:
            del self.operations[subscriber.op_id]
            await self.send({"id": subscriber.op_id, "type": "complete"})

    async def refuse(self, op_id: str, code: str, message: str) -> None:
        log.info("subscription refused: %s", message, extra={"fields": {"code": code}})
        error = {"message": message, "extensions": {"code": code}}
        await self.send({"id": op_id, "type": "error", "payload": [error]})

    def expired(self, now: datetime) -> bool:
        return self.principal is not None and _expired(self.principal, now)

    async def expire(self) -> None:
        """The token ran out: each subscription completes, then the socket closes (4403)."""
        if self.closing:
            return
        subscriptions = [i for i, op in self.operations.items() if isinstance(op, Subscriber)]
        self.stop()
        for op_id in subscriptions:
            await self.send({"id": op_id, "type": "complete"})
        log.info("socket closed: the token expired")
        await self.websocket_close(4403, "Token expired")

    async def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.stop()
        await self.websocket_close(code, reason)

    def stop(self) -> None:
        """Leave every group, cancel running operations and the timer; once."""
        if self.closing:
            return
        self.closing = True
        self.timer.cancel()
        current = asyncio.current_task()
        for operation in self.operations.values():
            if isinstance(operation, Subscriber):
                self.endpoint.leave(operation)
            elif operation is not current:
                operation.cancel()
        self.operations.clear()
        if self.caller is not None:
            self.endpoint.dismiss(self.caller)

    def later(self, closing: Coroutine[Any, Any, None]) -> None:
        """Run a close from a timer callback (kept referenced until it is done)."""
        task = asyncio.create_task(closing)
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def send(self, message: dict[str, object]) -> None:
        await self.send_text(orjson.dumps(message).decode())

    async def send_text(self, text: str) -> None:
        with suppress(WebSocketDisconnect, RuntimeError):  # the client is gone: the
            await self.websocket.send_text(text)  # receive loop ends and cleans up

    async def websocket_close(self, code: int, reason: str) -> None:
        # a close reason has at most 123 bytes
        reason = reason.encode()[:123].decode(errors="ignore")
        with suppress(WebSocketDisconnect, RuntimeError):
            await self.websocket.close(code, reason)


def _expired(principal: Principal, now: datetime) -> bool:
    return principal.expires_at is not None and principal.expires_at <= now


def _decrement(counts: dict[Principal, int], caller: Principal) -> None:
    left = counts.get(caller, 0) - 1
    if left > 0:
        counts[caller] = left
    else:
        counts.pop(caller, None)


def _deeper_than(value: object, limit: int) -> bool:
    """Whether JSON `value` nests more than `limit` arrays or objects (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False


@lru_cache(maxsize=256)
def _document(query: str) -> DocumentNode:
    """The parsed document of a group (strawberry has validated it), shared by equal texts."""
    return parse(query)
