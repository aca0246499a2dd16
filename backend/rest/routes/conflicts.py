"""Conflicts and history endpoints.

Previews and diffs are computed after their read transaction closed: the
pooled connection goes back before the CPU-bound part starts.
"""

from fastapi import APIRouter

from backend.rest import shapes
from backend.rest.bodies import BoundedJsonRoute
from backend.rest.deps import CtxDep
from backend.rest.schemas import (
    ConflictOut,
    ConflictsRequest,
    DiffOut,
    DiffRequest,
    HistoryRequest,
    PreviewOut,
    PreviewRequest,
    ResolveOut,
    ResolveRequest,
    VersionOut,
)
from backend.services import conflicts, diffs, files, preview

router = APIRouter(tags=["conflicts & history"], route_class=BoundedJsonRoute)


@router.post("/sources/conflicts", response_model=list[ConflictOut])
def list_conflicts(body: ConflictsRequest, ctx: CtxDep) -> list[ConflictOut]:
    """Lists open conflicts for a source (``status`` selects resolved ones, or null for all)."""
    with ctx.transaction(read_only=True) as session:
        rows = conflicts.list_conflicts(session, ctx.workspace_id, body.source_id, body.status)
    return [shapes.conflict(r) for r in rows]


@router.post("/sources/conflicts/preview", response_model=PreviewOut)
def preview_conflict(body: PreviewRequest, ctx: CtxDep) -> PreviewOut:
    """Returns a line-level preview: diff hunks, three-way regions, text with markers."""
    with ctx.transaction(read_only=True) as session:
        loaded = preview.load_preview(
            session, ctx.workspace_id, body.conflict_id, body.context_lines, body.source_id
        )
    return shapes.preview(preview.build_preview(loaded))


@router.post("/sources/conflicts/resolve", response_model=ResolveOut)
def resolve(body: ResolveRequest, ctx: CtxDep) -> ResolveOut:
    """Resolves a conflict with keep_local, keep_raven or manual_merge (+ resolvedContent)."""
    with ctx.transaction() as session:
        result = conflicts.resolve_conflict(
            session,
            ctx.workspace_id,
            body.conflict_id,
            body.resolution,
            ctx.settings,
            resolved_content=body.resolved_content,
            revision=body.revision,
            source_id=body.source_id,
        )
    return ResolveOut(
        conflict=shapes.conflict(result.conflict),
        hash=result.digest,
        event_cursor=result.event_cursor,
    )


@router.post("/sources/history", response_model=list[VersionOut])
def history(body: HistoryRequest, ctx: CtxDep) -> list[VersionOut]:
    """Returns version snapshots for a synced file path, newest first."""
    with ctx.transaction(read_only=True) as session:
        result = files.file_history(
            session,
            ctx.workspace_id,
            body.source_id,
            body.relative_path,
            limit=body.limit,
            before=body.before,
            with_content=body.include_content,
        )
    return shapes.history(result)


@router.post("/sources/history/diff", response_model=DiffOut)
def history_diff(body: DiffRequest, ctx: CtxDep) -> DiffOut:
    """Diff between two versions of a file (by hash), as hunks and as `git diff` text."""
    with ctx.transaction(read_only=True) as session:
        loaded = diffs.load_diff(
            session,
            ctx.workspace_id,
            body.source_id,
            body.relative_path,
            body.from_hash,
            body.to_hash,
            body.context_lines,
        )
    return shapes.diff(body.relative_path, diffs.build_diff(loaded))
