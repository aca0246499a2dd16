"""Root mutation fields: each one calls a single service function."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import metrics
from backend.errors import InvalidInput
from backend.graphql.context import Context
from backend.graphql.types.common import MergeGranularity, SyncMode
from backend.graphql.types.conflict import Conflict, RegionDecisionInput, to_decisions
from backend.graphql.types.results import EditResult, PushBatchResult, ResolveResult
from backend.graphql.types.source import Connector, Source
from backend.services import conflicts, connectors, preview, restore, sources, sync


@strawberry.input
class CreateSourceInput:
    name: str
    mode: SyncMode
    connector_id: str | None = None
    include_patterns: list[str] | None = None
    exclude_patterns: list[str] = strawberry.field(default_factory=list)
    auto_merge: bool = True
    merge_granularity: MergeGranularity = MergeGranularity.LINE


@strawberry.input
class PushItemInput:
    operation_id: str
    path: str
    content: str | None = None
    content_type: str | None = None
    content_hash: str | None = None
    base_hash: str | None = None
    is_delete: bool = False
    rename_from: str | None = strawberry.field(
        default=None,
        description="Move the file at this path to `path` with its history first "
        "(as push-batch's renameFrom). Without content, contentHash must be the moved "
        "file's hash: a move with the content unchanged (MOVE_CONTENT_CHANGED, "
        "MOVE_SOURCE_GONE otherwise).",
    )


@strawberry.enum
class Resolution(Enum):
    KEEP_LOCAL = "keep_local"
    KEEP_RAVEN = "keep_raven"
    MANUAL_MERGE = "manual_merge"
    KEEP_BOTH = "keep_both"


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def register_connector(
        self, info: Info[Context, None], name: str, platform: str, version: str
    ) -> Connector:
        ctx = info.context
        row = await ctx.run(
            lambda s: connectors.register_connector(s, ctx.workspace_id, name, platform, version)
        )
        return Connector.from_model(row, ctx.runtime.settings.online_window_seconds)

    @strawberry.mutation
    async def heartbeat(self, info: Info[Context, None], connector_id: str) -> Connector:
        ctx = info.context
        row = await ctx.run(lambda s: connectors.heartbeat(s, ctx.workspace_id, connector_id))
        return Connector.from_model(row, ctx.runtime.settings.online_window_seconds)

    @strawberry.mutation
    async def create_source(self, info: Info[Context, None], input: CreateSourceInput) -> Source:
        ctx = info.context
        spec = sources.SourceSpec(
            name=input.name,
            mode=input.mode.value,
            connector_id=input.connector_id,
            include_patterns=input.include_patterns,
            exclude_patterns=input.exclude_patterns,
            auto_merge=input.auto_merge,
            merge_granularity=input.merge_granularity.value,
        )
        row = await ctx.run(lambda s: sources.create_source(s, ctx.workspace_id, spec))
        return Source.from_model(row)

    @strawberry.mutation
    async def pause_source(self, info: Info[Context, None], source_id: str) -> Source:
        ctx = info.context
        row = await ctx.run(lambda s: sources.set_status(s, ctx.workspace_id, source_id, "paused"))
        return Source.from_model(row)

    @strawberry.mutation
    async def resume_source(self, info: Info[Context, None], source_id: str) -> Source:
        ctx = info.context
        row = await ctx.run(lambda s: sources.set_status(s, ctx.workspace_id, source_id, "active"))
        return Source.from_model(row)

    @strawberry.mutation
    async def push_batch(
        self,
        info: Info[Context, None],
        source_id: str,
        items: list[PushItemInput],
        connector_id: str | None = None,
    ) -> PushBatchResult:
        ctx = info.context
        sync.check_batch_size(len(items), ctx.runtime.settings)
        batch = [
            {
                "operationId": i.operation_id,
                "relativePath": i.path,
                "content": i.content,
                "contentType": i.content_type,
                "contentHash": i.content_hash,
                "baseHash": i.base_hash,
                "isDelete": i.is_delete,
                "renameFrom": i.rename_from,
            }
            for i in items
        ]
        settings = ctx.runtime.settings
        result = await ctx.run(
            lambda s: sync.push_batch(s, ctx.workspace_id, source_id, batch, settings, connector_id)
        )
        metrics.count_push_items(r.status for r in result.results)
        return PushBatchResult.from_result(result)

    @strawberry.mutation(description="A Raven-side edit (bidirectional sources only).")
    async def update_file(
        self,
        info: Info[Context, None],
        source_id: str,
        path: str,
        content: str,
        base_hash: str | None = None,
    ) -> EditResult:
        ctx = info.context
        settings = ctx.runtime.settings
        result = await ctx.run(
            lambda s: sync.update_file(
                s, ctx.workspace_id, source_id, path, content, base_hash, settings
            )
        )
        return EditResult.from_result(result)

    @strawberry.mutation(
        description="Resolve with a whole-file choice, manual content, or per-region decisions."
    )
    async def resolve_conflict(
        self,
        info: Info[Context, None],
        conflict_id: str,
        resolution: Resolution | None = None,
        content: str | None = None,
        decisions: list[RegionDecisionInput] | None = None,
        revision: Annotated[
            int | None, strawberry.argument(description="Refuse if the conflict changed since")
        ] = None,
    ) -> ResolveResult:
        ctx = info.context
        settings = ctx.runtime.settings
        if decisions is not None and (
            content is not None or resolution not in (None, Resolution.MANUAL_MERGE)
        ):
            # Decisions are a manual merge; silently dropping a chosen side would surprise.
            raise InvalidInput(
                "decisions cannot be combined with content or a KEEP_* resolution",
                "INVALID_RESOLUTION",
            )
        if decisions is not None:
            # Read, merge with no connection held, then store if the conflict is unchanged.
            chosen = to_decisions(decisions)
            view = await ctx.read(
                lambda s: preview.load_decision(s, ctx.workspace_id, conflict_id, revision)
            )
            decided = await ctx.compute(lambda: preview.decide(view, chosen))
            result = await ctx.run(
                lambda s: preview.store_decision(s, ctx.workspace_id, view, decided, settings)
            )
        else:
            value = resolution.value if resolution else None
            result = await ctx.run(
                lambda s: conflicts.resolve_conflict(
                    s,
                    ctx.workspace_id,
                    conflict_id,
                    value,
                    settings,
                    resolved_content=content,
                    revision=revision,
                )
            )
        return ResolveResult(
            conflict=Conflict.from_model(result.conflict),
            hash=result.digest,
            event_cursor=result.event_cursor,
        )

    @strawberry.mutation(description="Make an old version current again, as a new version.")
    async def restore_version(
        self, info: Info[Context, None], source_id: str, path: str, hash: str
    ) -> EditResult:
        ctx = info.context
        settings = ctx.runtime.settings
        result = await ctx.run(
            lambda s: restore.restore_version(s, ctx.workspace_id, source_id, path, hash, settings)
        )
        return EditResult.from_result(result)
