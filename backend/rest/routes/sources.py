"""Source management: create, list, pause, resume."""

from fastapi import APIRouter

from backend.rest import shapes
from backend.rest.bodies import BoundedJsonRoute
from backend.rest.deps import CtxDep
from backend.rest.schemas import CreateSourceRequest, ListSourcesRequest, SourceOut, SourceRequest
from backend.services import sources

router = APIRouter(tags=["sources"], route_class=BoundedJsonRoute)


@router.post("/sources", response_model=SourceOut)
def create(body: CreateSourceRequest, ctx: CtxDep) -> SourceOut:
    """Creates a sync source."""
    spec = sources.SourceSpec(
        name=body.name,
        mode=body.mode,
        connector_id=body.connector_id,
        include_patterns=body.include_patterns,
        exclude_patterns=body.exclude_patterns,
        auto_merge=body.auto_merge,
        merge_granularity=body.merge_granularity,
    )
    with ctx.transaction() as session:
        row = sources.create_source(session, ctx.workspace_id, spec)
    return shapes.source(row, sources.SourceStats(0, 0))


@router.post("/sources/list", response_model=list[SourceOut])
def list_(ctx: CtxDep, body: ListSourcesRequest | None = None) -> list[SourceOut]:
    """Lists sources for the workspace."""
    with ctx.transaction(read_only=True) as session:
        rows = sources.list_sources(session, ctx.workspace_id)
        stats = sources.source_stats(session, rows)
    return [shapes.source(r, stats[r.id]) for r in rows]


@router.post("/sources/pause", response_model=SourceOut)
def pause(body: SourceRequest, ctx: CtxDep) -> SourceOut:
    """Pauses syncing for a source."""
    with ctx.transaction() as session:
        row = sources.set_status(session, ctx.workspace_id, body.source_id, "paused")
    return shapes.source(row)


@router.post("/sources/resume", response_model=SourceOut)
def resume(body: SourceRequest, ctx: CtxDep) -> SourceOut:
    """Resumes syncing for a source."""
    with ctx.transaction() as session:
        row = sources.set_status(session, ctx.workspace_id, body.source_id, "active")
    return shapes.source(row)
