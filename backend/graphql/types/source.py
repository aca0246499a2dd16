"""Connectors, sources and their event feed."""

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from backend.graphql import loaders
from backend.graphql.context import Context
from backend.graphql.types.common import (
    ConflictStatus,
    Connection,
    Edge,
    FileState,
    MergeGranularity,
    PageInfo,
    SourceStatus,
    SyncMode,
    check_first,
    decode_int_cursor,
    decode_path_cursor,
    encode_cursor,
)
from backend.graphql.types.conflict import Conflict
from backend.graphql.types.file import File

if TYPE_CHECKING:
    from backend.graphql.retention import RetentionPolicy
from backend.models import Connector as ConnectorRow
from backend.models import Source as SourceRow
from backend.services import conflicts, deltas, files
from backend.services.connectors import is_online
from backend.services.deltas import EventView


@strawberry.type
class Connector:
    id: strawberry.ID
    name: str
    platform: str
    version: str
    created_at: datetime
    last_heartbeat_at: datetime | None
    online: bool

    @classmethod
    def from_model(cls, row: ConnectorRow, window: int) -> "Connector":
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            platform=row.platform,
            version=row.version,
            created_at=row.created_at,
            last_heartbeat_at=row.last_heartbeat_at,
            online=is_online(row, window),
        )


@strawberry.type
class Event:
    cursor: int
    type: str
    path: str | None
    payload: JSON
    created_at: datetime

    @classmethod
    def from_model(
        cls,
        row: EventView,
        contents: dict[str, str] | None = None,
        pruned: Collection[int] = (),
    ) -> "Event":
        """``pruned`` holds the cursors whose content retention removed: flagged as on REST
        deltas, so a feed reader tells "pruned" from "left out"."""
        payload = dict(row.payload)
        if contents is not None and row.type == "file.upsert":
            payload["content"] = contents.get(payload.get("hash", ""))
        if row.cursor in pruned:
            payload["contentPruned"] = True
        return cls(
            cursor=row.cursor,
            type=row.type,
            path=row.relative_path,
            payload=JSON(payload),
            created_at=row.created_at,
        )


@strawberry.type
class Source:
    row: strawberry.Private[SourceRow]
    id: strawberry.ID
    name: str
    mode: SyncMode
    status: SourceStatus
    connector_id: str | None
    include_patterns: list[str]
    exclude_patterns: list[str]
    auto_merge: bool
    merge_granularity: MergeGranularity
    last_cursor: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: SourceRow) -> "Source":
        return cls(
            row=row,
            id=strawberry.ID(row.id),
            name=row.name,
            mode=SyncMode(row.mode),
            status=SourceStatus(row.status),
            connector_id=row.connector_id,
            include_patterns=list(row.include_patterns),
            exclude_patterns=list(row.exclude_patterns),
            auto_merge=row.auto_merge,
            merge_granularity=MergeGranularity(row.merge_granularity),
            last_cursor=row.last_cursor,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def connector(self, info: Info[Context, None]) -> Connector | None:
        if self.connector_id is None:
            return None
        row = await loaders.connectors(info.context).load(self.connector_id)
        window = info.context.runtime.settings.online_window_seconds
        return Connector.from_model(row, window) if row else None

    @strawberry.field
    def file_count(self) -> int:
        """A counter kept on the source by every writer: no query, whatever the source's size."""
        return self.row.file_count

    @strawberry.field(description="What this source keeps of its history.")
    async def retention(
        self, info: Info[Context, None]
    ) -> Annotated["RetentionPolicy", strawberry.lazy("backend.graphql.retention")]:
        from backend.graphql.retention import retention_of

        return await retention_of(info, self.row.id)

    @strawberry.field
    async def open_conflict_count(self, info: Info[Context, None]) -> int:
        return await loaders.open_conflict_count(info.context).load(self.row.id)

    @strawberry.field(description="Files ordered by path; deleted ones only when asked by state.")
    async def files(
        self,
        info: Info[Context, None],
        prefix: str | None = None,
        state: FileState | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> Connection[File]:
        ctx = info.context
        size = check_first(first)
        start = decode_path_cursor(after)
        rows = await ctx.read(
            lambda s: files.list_files(
                s,
                ctx.workspace_id,
                self.row.id,
                prefix=prefix,
                state=state.value if state else None,
                after=start,
                limit=size + 1,
            )
        )
        edges = [
            Edge(cursor=encode_cursor(r.relative_path), node=File.from_model(r))
            for r in rows[:size]
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field
    async def file(self, info: Info[Context, None], path: str) -> File | None:
        ctx = info.context
        row = await ctx.read(lambda s: files.find_file(s, self.row.id, _clean(path)))
        return File.from_model(row) if row else None

    @strawberry.field(description="Conflicts, oldest first; null status lists all.")
    async def conflicts(
        self,
        info: Info[Context, None],
        status: ConflictStatus | None = ConflictStatus.OPEN,
        first: int = 100,
        after: str | None = None,
    ) -> Connection[Conflict]:
        size = check_first(first)
        skip = decode_int_cursor(after) or 0
        ctx = info.context
        rows = await ctx.read(
            lambda s: conflicts.list_conflicts(
                s, ctx.workspace_id, self.row.id, status.value if status else None
            )
        )
        page = rows[skip : skip + size]
        edges = [
            Edge(cursor=encode_cursor(skip + i + 1), node=Conflict.from_model(r))
            for i, r in enumerate(page)
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > skip + size,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(description="Events after a cursor, in order (content joined for upserts).")
    async def events(
        self, info: Info[Context, None], after: int = 0, first: int = 100
    ) -> Connection[Event]:
        size = check_first(first)
        ctx = info.context
        page = await ctx.read(
            lambda s: deltas.read_deltas(s, ctx.workspace_id, self.row.id, after, size)
        )
        edges = [
            Edge(cursor=str(e.cursor), node=Event.from_model(e, page.contents, page.pruned))
            for e in page.events
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_more, end_cursor=str(page.next_cursor)),
        )


def _clean(path: str) -> str:
    from backend.paths import normalise_path

    return normalise_path(path)
