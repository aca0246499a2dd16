"""The FastAPI router serving the schema over HTTP and WebSocket at ``/graphql``."""

import json
from contextvars import ContextVar
from datetime import timedelta
from functools import cached_property
from typing import Any

from cross_web import AsyncHTTPRequestAdapter
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from backend.bodies import JsonLimits, decode_body, decode_message
from backend.errors import LocalSyncError, TooLarge
from backend.graphql import live
from backend.graphql.context import Context
from backend.graphql.errors import graphql_code
from backend.graphql.schema import build_schema
from backend.rest.deps import Runtime
from backend.settings import Settings

_decoded: ContextVar[tuple[bytes, object] | None] = ContextVar("graphql_body", default=None)
"""The body of the request being parsed, and what it decoded to (see ``parse_http_body``)."""

_admitted: ContextVar[bool] = ContextVar("graphql_ws_admitted", default=False)
"""Whether this WebSocket's ``connection_init`` was accepted (each socket is one task,
so each has its own value)."""

MAX_MESSAGE_BEFORE_ADMISSION = 8 * 1024
"""Largest WebSocket message decoded before ``connection_init`` is accepted: that
message holds a token and a workspace id, and no one unauthenticated may have the
server decode megabytes."""


class _Refused(Exception):
    def __init__(self, error: LocalSyncError) -> None:
        super().__init__(error.message)
        self.error = error


class DocumentTooLarge(TooLarge):
    code = "DOCUMENT_TOO_LARGE"


class OperationsNeedPost(LocalSyncError):
    """GET /graphql serves the GraphiQL page only: an operation in a URL would run
    before any credentials are checked, outside the checks POST bodies get."""

    status = 405
    code = "METHOD_NOT_ALLOWED"


def check_document(request: object, limit: int) -> None:
    """Refuse a ``query`` text over ``limit`` bytes before GraphQL reads it: its lexer
    runs on the event loop at about a microsecond per character. (A lone surrogate
    escape is measured as the three bytes it is written with, not an error.)"""
    query = request.get("query") if isinstance(request, dict) else None
    if isinstance(query, str) and (
        len(query) > limit or len(query.encode("utf-8", "surrogatepass")) > limit
    ):
        raise DocumentTooLarge(
            f"GraphQL document over {limit} bytes; pass large values as variables"
        )


def refusal_result(error: LocalSyncError) -> dict[str, Any]:
    """A request refused before it runs, as the result a resolver raising ``error`` gives."""
    extensions = {"code": graphql_code(error), "reason": error.code}
    return {"data": None, "errors": [{"message": error.message, "extensions": extensions}]}


class LocalSyncRouter(GraphQLRouter[Context, None]):
    """Strawberry's router with our transport policies (request bodies, live feeds)."""

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime

    # -- request bodies and messages: bounded JSON (backend.bodies)

    @cached_property
    def json_limits(self) -> JsonLimits:
        """The request body limits, with GraphQL's own, lower, count of values."""
        settings = self.runtime.settings
        limits = JsonLimits.from_settings(settings)
        values = min(limits.max_values, settings.graphql_max_json_values)
        return JsonLimits(values, limits.max_depth, limits.offload_bytes)

    @property
    def max_document_bytes(self) -> int:
        return self.runtime.settings.graphql_max_document_bytes

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Decode a JSON body within the limits, off the event loop when it is large,
        and refuse a document over ``graphql_max_document_bytes``.

        Strawberry decodes through the synchronous ``decode_json``; the body is
        decoded here first and ``decode_json`` hands that result back.
        """
        if request.method == "GET":
            raise _Refused(OperationsNeedPost("send GraphQL operations with POST"))
        if request.method != "POST" or "json" not in (request.content_type or ""):
            return await super().parse_http_body(request)
        body = await request.get_body()
        try:
            decoded = await decode_body(body, self.json_limits)
            for request_data in decoded if isinstance(decoded, list) else [decoded]:
                check_document(request_data, self.max_document_bytes)
        except LocalSyncError as exc:
            raise _Refused(exc) from None
        except ValueError as exc:  # not JSON: Strawberry's own 400
            raise json.JSONDecodeError(str(exc), "", 0) from None
        token = _decoded.set((body, decoded))
        try:
            return await super().parse_http_body(request)
        finally:
            _decoded.reset(token)

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON text Strawberry reads: HTTP bodies and WebSocket messages (whose
        documents are held to the same size limit as over HTTP)."""
        decoded = _decoded.get()
        if decoded is not None and decoded[0] is data:
            return decoded[1]
        if not _admitted.get() and len(data) > MAX_MESSAGE_BEFORE_ADMISSION:
            # Closes the socket 4400, like unreadable JSON.
            raise json.JSONDecodeError("message too large before connection_init", "", 0)
        message = decode_message(data, self.json_limits)
        if isinstance(message, dict) and message.get("type") == "subscribe":
            try:
                check_document(message.get("payload"), self.max_document_bytes)
            except LocalSyncError as exc:  # closes the socket 4400, like unreadable JSON
                raise json.JSONDecodeError(exc.message, "", 0) from None
        return message

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Answer a body over the limits with a GraphQL error carrying a code."""
        try:
            return await super().run(request, context, root_value)
        except _Refused as refused:
            result = refusal_result(refused.error)
            headers = {"Allow": "POST"} if refused.error.status == 405 else None
            return JSONResponse(result, status_code=refused.error.status, headers=headers)

    # -- live feeds (WebSocket): policy in backend.graphql.live

    graphql_transport_ws_handler_class = live.LiveConnection

    @staticmethod
    def live_options(settings: Settings) -> dict[str, Any]:
        """graphql-transport-ws only (the legacy graphql-ws protocol has no auth close
        codes), a bounded wait for ``connection_init``, bounded operations in flight."""
        return {
            "subscription_protocols": (GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            "connection_init_wait_timeout": timedelta(seconds=settings.ws_init_timeout_seconds),
            "max_subscriptions_per_connection": settings.max_subscriptions_per_connection
            + live.OPERATIONS_BESIDE_SUBSCRIPTIONS,
        }

    @cached_property
    def subscription_counts(self) -> live.SubscriptionCounts:
        """Open subscriptions per token, shared by every connection to this app."""
        return live.SubscriptionCounts.from_settings(self.runtime.settings)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Admit ``connection_init`` or close the socket 4401/4403 (``live.Refused``)."""
        live.admit(context, self.subscription_counts)
        _admitted.set(True)
        return UnsetType()  # a bare connection_ack


def graphql_router(runtime: Runtime) -> LocalSyncRouter:
    """Mount at ``/graphql``; auth comes from headers or the WebSocket ``connection_init``."""

    async def get_context(connection: HTTPConnection) -> Context:
        headers = connection.headers
        return Context(
            runtime=runtime,
            authorization=headers.get("authorization"),
            workspace_header=headers.get("x-workspace-id"),
        )

    return LocalSyncRouter(
        runtime,
        schema=build_schema(runtime.settings),
        context_getter=get_context,
        graphql_ide="graphiql" if runtime.settings.graphql_ide else None,
        allow_queries_via_get=False,
        **LocalSyncRouter.live_options(runtime.settings),
    )
