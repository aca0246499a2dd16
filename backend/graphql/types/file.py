"""Files, versions and diffs."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend.graphql import loaders, pruned_loader
from backend.graphql.context import Context
from backend.graphql.types.blame import Blame
from backend.graphql.types.common import (
    Connection,
    Edge,
    FileState,
    Origin,
    PageInfo,
    check_first,
    decode_int_cursor,
    encode_cursor,
)
from backend.merge import Hunk
from backend.models import Version as VersionRow
from backend.retention.errors import VersionPruned
from backend.services import blame, diffs, files
from backend.services.files import FileView


@strawberry.type
class Version:
    """One immutable snapshot of a file; a null ``hash`` marks a delete (tombstone)."""

    row: strawberry.Private[VersionRow]
    seq: int
    hash: str | None
    origin: Origin
    recorded_at: datetime
    size: int
    deleted: bool
    operation_id: str | None
    connector_id: str | None
    conflict_id: str | None = strawberry.field(
        description="Set when this content arrived as a side of a conflict, not as current."
    )
    moved_from: str | None = strawberry.field(
        default=None,
        description="Set on the entry a move wrote: the path the file had before it.",
    )

    @classmethod
    def from_model(cls, row: VersionRow) -> "Version":
        return cls(
            row=row,
            seq=row.seq,
            hash=row.hash,
            origin=Origin(row.origin),
            recorded_at=row.created_at,
            size=row.size,
            deleted=row.hash is None,
            operation_id=row.operation_id,
            connector_id=row.connector_id,
            conflict_id=row.conflict_id,
            moved_from=row.moved_from,
        )

    @strawberry.field(
        description="Null for a tombstone or an attachment; a pruned version's content fails "
        "with NOT_FOUND (reason VERSION_PRUNED)."
    )
    async def content(self, info: Info[Context, None]) -> str | None:
        if self.hash is None:
            return None
        if await pruned_loader.pruned(info.context).load(self.row.id or 0):
            raise VersionPruned(f"version {self.seq} was pruned by the source's retention policy")
        return await loaders.blobs(info.context).load(self.hash)

    @strawberry.field(
        description="An attachment: synced as bytes, never merged; `content` is null for it."
    )
    async def binary(self, info: Info[Context, None]) -> bool:
        if self.hash is None:
            return False
        return await loaders.binary(info.context).load(self.hash)

    @strawberry.field(description='"base64" for an attachment, "utf-8" for text.')
    async def content_encoding(self, info: Info[Context, None]) -> str:
        return "base64" if await self.binary(info) else "utf-8"

    @strawberry.field(
        description="An attachment's bytes as base64; null for text or a delete. A pruned "
        "version's fails with NOT_FOUND (reason VERSION_PRUNED), as `content` does."
    )
    async def content_base64(self, info: Info[Context, None]) -> str | None:
        if self.hash is None:
            return None
        if await pruned_loader.pruned(info.context).load(self.row.id or 0):
            raise VersionPruned(f"version {self.seq} was pruned by the source's retention policy")
        return await loaders.attachments(info.context).load(self.hash)

    @strawberry.field(
        description="Retention removed this version's content; the version itself stays listed."
    )
    async def pruned(self, info: Info[Context, None]) -> bool:
        return await pruned_loader.pruned(info.context).load(self.row.id or 0)

    @strawberry.field(description="Each line of this version with the version that introduced it.")
    async def blame(
        self,
        info: Info[Context, None],
        max_versions: Annotated[
            int | None,
            strawberry.argument(description="Versions to walk back (default and most: the cap)."),
        ] = None,
    ) -> Blame:
        ctx = info.context
        cap = ctx.runtime.settings.blame_max_versions
        file_id, seq = self.row.file_id, self.seq
        walk = cap if max_versions is None else max_versions
        loaded = await ctx.read(
            lambda s: blame.load_blame(s, ctx.workspace_id, file_id, seq, walk, cap)
        )
        # Diffed in a compute turn once the read closed: no pooled connection is held.
        return await ctx.compute(lambda: Blame.build(blame.build_blame(loaded)))


@strawberry.type
class DiffLine:
    kind: str = strawberry.field(description="equal, insert or delete")
    text: str
    old_no: int | None
    new_no: int | None


@strawberry.type
class DiffHunk:
    header: str
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[DiffLine]

    @classmethod
    def from_hunk(cls, hunk: Hunk) -> "DiffHunk":
        return cls(
            header=hunk.header(),
            old_start=hunk.old_start,
            old_count=hunk.old_count,
            new_start=hunk.new_start,
            new_count=hunk.new_count,
            lines=[
                DiffLine(kind=ln.kind, text=ln.text, old_no=ln.old_no, new_no=ln.new_no)
                for ln in hunk.lines
            ],
        )


@strawberry.type
class FileDiff:
    from_hash: str
    to_hash: str
    insertions: int
    deletions: int
    hunks: list[DiffHunk]
    unified: str = strawberry.field(description="The diff as `git diff` prints it.")

    @classmethod
    def build(cls, diff: diffs.VersionDiff) -> "FileDiff":
        return cls(
            from_hash=diff.from_hash,
            to_hash=diff.to_hash,
            insertions=diff.insertions,
            deletions=diff.deletions,
            hunks=[DiffHunk.from_hunk(h) for h in diff.hunks],
            unified=diff.unified,
        )


@strawberry.type
class File:
    row: strawberry.Private[FileView]
    source_id: strawberry.Private[str]
    path: str
    state: FileState
    hash: str | None
    size: int
    content_type: str
    version_count: int
    updated_at: datetime

    @classmethod
    def from_model(cls, row: FileView) -> "File":
        return cls(
            row=row,
            source_id=row.source_id,
            path=row.relative_path,
            state=FileState(row.state),
            hash=row.current_hash,
            size=row.size,
            content_type=row.content_type,
            version_count=row.version_count,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="Current text; null once deleted or for an attachment.")
    async def content(self, info: Info[Context, None]) -> str | None:
        if self.hash is None:
            return None
        return await loaders.blobs(info.context).load(self.hash)

    @strawberry.field(
        description="An attachment: synced as bytes, never merged; `content` is null for it."
    )
    async def binary(self, info: Info[Context, None]) -> bool:
        if self.hash is None:
            return False
        return await loaders.binary(info.context).load(self.hash)

    @strawberry.field(description='"base64" for an attachment, "utf-8" for text.')
    async def content_encoding(self, info: Info[Context, None]) -> str:
        return "base64" if await self.binary(info) else "utf-8"

    @strawberry.field(description="An attachment's bytes as base64; null for text or a delete.")
    async def content_base64(self, info: Info[Context, None]) -> str | None:
        if self.hash is None:
            return None
        return await loaders.attachments(info.context).load(self.hash)

    @strawberry.field(description="The newest history entry (batched across files).")
    async def latest_version(self, info: Info[Context, None]) -> Version | None:
        row = await loaders.latest_versions(info.context).load(self.row.id or 0)
        return Version.from_model(row) if row else None

    @strawberry.field(description="History, newest first.")
    async def versions(
        self, info: Info[Context, None], first: int = 50, after: str | None = None
    ) -> Connection[Version]:
        size = check_first(first)
        before = decode_int_cursor(after)
        ctx = info.context
        history = await ctx.read(
            lambda s: files.file_history(
                s,
                ctx.workspace_id,
                self.source_id,
                self.path,
                limit=size,
                before=before,
                with_content=False,
            )
        )
        rows = history.versions
        edges = [Edge(cursor=encode_cursor(v.seq), node=Version.from_model(v)) for v in rows]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=history.has_more, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(description="Diff between two versions of this file, by hash.")
    async def diff(
        self,
        info: Info[Context, None],
        from_hash: str,
        to_hash: str,
        context_lines: Annotated[int, strawberry.argument(description="0..50")] = 3,
    ) -> FileDiff:
        ctx = info.context
        loaded = await ctx.read(
            lambda s: diffs.load_diff(
                s, ctx.workspace_id, self.source_id, self.path, from_hash, to_hash, context_lines
            )
        )
        # Diffed in a compute turn once the read closed: no pooled connection is held.
        return await ctx.compute(lambda: FileDiff.build(diffs.build_diff(loaded)))

    @strawberry.field(description="The open conflict on this file, if any.")
    async def open_conflict_id(self, info: Info[Context, None]) -> str | None:
        if self.state is not FileState.CONFLICT:
            return None
        row = await loaders.open_conflicts(info.context).load(self.row.id or 0)
        return row.id if row else None
