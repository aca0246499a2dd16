"""Conflicts and history endpoints.

Previews and diffs are computed after their read transaction closed: the
pooled connection goes back before the CPU-bound part starts. Those two routes
are async so that waiting for a compute turn (``backend.services.cpu``) happens
on the event loop: the read and the computation each take a worker thread only
while they run, and the answer is encoded on the computing thread too.
"""

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from backend.rest import shapes
from backend.rest.bodies import BoundedJsonRoute
from backend.rest.deps import Ctx, CtxDep
from backend.rest.routes.retention import GONE
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
from backend.services.content import check_accept
from backend.services.cpu import compute

router = APIRouter(tags=["conflicts & history"], route_class=BoundedJsonRoute)


@router.post("/sources/conflicts", response_model=list[ConflictOut])
def list_conflicts(body: ConflictsRequest, ctx: CtxDep) -> list[ConflictOut]:
    """Lists open conflicts for a source (``status`` selects resolved ones, or null for all)."""
    with ctx.transaction(read_only=True) as session:
        rows = conflicts.list_conflicts(session, ctx.workspace_id, body.source_id, body.status)
    return [shapes.conflict(r) for r in rows]


async def _computed(ctx: Ctx, build: Callable[[], BaseModel]) -> JSONResponse:
    """``build()`` in a compute turn, encoded as ``response_model`` would be."""

    def answer() -> JSONResponse:
        return JSONResponse(build().model_dump(mode="json", by_alias=True))

    return await compute(answer, max_queued=ctx.settings.max_queued_computations)


@router.post("/sources/conflicts/preview", response_model=PreviewOut)
async def preview_conflict(body: PreviewRequest, ctx: CtxDep) -> JSONResponse:
    """Returns a line-level preview: diff hunks, three-way regions, text with markers."""

    def load() -> preview.PreviewInput:
        with ctx.transaction(read_only=True) as session:
            return preview.load_preview(
                session, ctx.workspace_id, body.conflict_id, body.context_lines, body.source_id
            )

    loaded = await run_in_threadpool(load)
    return await _computed(ctx, lambda: shapes.preview(preview.build_preview(loaded)))


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
    accept_binary = check_accept(body.accept_encodings)
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
    return shapes.history(result, accept_binary)


@router.post("/sources/history/diff", response_model=DiffOut, responses=GONE)
async def history_diff(body: DiffRequest, ctx: CtxDep) -> JSONResponse:
    """Diff between two versions of a file (by hash), as hunks and as `git diff` text.

    A side whose content retention pruned answers 410 VERSION_PRUNED.
    """

    def load() -> diffs.DiffInput:
        with ctx.transaction(read_only=True) as session:
            return diffs.load_diff(
                session,
                ctx.workspace_id,
                body.source_id,
                body.relative_path,
                body.from_hash,
                body.to_hash,
                body.context_lines,
            )

    loaded = await run_in_threadpool(load)
    return await _computed(ctx, lambda: shapes.diff(body.relative_path, diffs.build_diff(loaded)))
