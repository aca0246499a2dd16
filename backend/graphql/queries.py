"""Root query fields."""

import strawberry
from strawberry.types import Info

from backend.graphql.context import Context
from backend.graphql.types.conflict import Conflict
from backend.graphql.types.source import Connector, Source
from backend.services import conflicts, connectors, sources


@strawberry.type
class Query:
    @strawberry.field(description="Connectors registered in this workspace.")
    async def connectors(self, info: Info[Context, None]) -> list[Connector]:
        ctx = info.context
        rows = await ctx.read(lambda s: connectors.list_connectors(s, ctx.workspace_id))
        window = ctx.runtime.settings.online_window_seconds
        return [Connector.from_model(r, window) for r in rows]

    @strawberry.field(description="Sources of this workspace.")
    async def sources(self, info: Info[Context, None]) -> list[Source]:
        ctx = info.context
        rows = await ctx.read(lambda s: sources.list_sources(s, ctx.workspace_id))
        return [Source.from_model(r) for r in rows]

    @strawberry.field
    async def source(self, info: Info[Context, None], id: strawberry.ID) -> Source:
        ctx = info.context
        row = await ctx.read(lambda s: sources.get_source(s, ctx.workspace_id, str(id)))
        return Source.from_model(row)

    @strawberry.field
    async def conflict(self, info: Info[Context, None], id: strawberry.ID) -> Conflict:
        ctx = info.context
        row = await ctx.read(lambda s: conflicts.get_conflict(s, ctx.workspace_id, str(id)))
        return Conflict.from_model(row)
