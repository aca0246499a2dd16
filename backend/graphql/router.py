"""The FastAPI router serving the schema over HTTP and WebSocket at ``/graphql``."""

from datetime import timedelta
from functools import cached_property
from typing import Any

from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from backend.graphql import live
from backend.graphql.context import Context
from backend.graphql.schema import build_schema
from backend.rest.deps import Runtime
from backend.settings import Settings


class LocalSyncRouter(GraphQLRouter[Context, None]):
    """Strawberry's router with our transport policies (request bodies, live feeds)."""

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime

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
        **LocalSyncRouter.live_options(runtime.settings),
    )
