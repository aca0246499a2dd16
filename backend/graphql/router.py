"""The FastAPI router serving the schema over HTTP and WebSocket at ``/graphql``."""

from typing import Any

from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter

from backend.graphql.context import Context
from backend.graphql.schema import build_schema
from backend.rest.deps import Runtime


class LocalSyncRouter(GraphQLRouter[Context, None]):
    """Strawberry's router with our transport policies (request bodies, live feeds)."""

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime


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
    )
