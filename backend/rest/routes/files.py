"""File sync endpoints: files, file, file/update, push-batch, deltas."""

from fastapi import APIRouter, Response

from backend import metrics
from backend.rest import shapes
from backend.rest.bodies import BoundedJsonRoute
from backend.rest.deps import CtxDep
from backend.rest.schemas import (
    DeltasOut,
    DeltasRequest,
    FileOut,
    FileRecordOut,
    FileRequest,
    ListFilesRequest,
    PushBatchOut,
    PushBatchRequest,
    UpdateFileOut,
    UpdateFileRequest,
)
from backend.services import deltas as deltas_service
from backend.services import files, sync
from backend.services.content import check_accept

router = APIRouter(tags=["files"], route_class=BoundedJsonRoute)

_STATUS = {"applied": "ok", "merged": "merged", "conflict": "conflict", "unchanged": "unchanged"}


@router.post("/sources/files", response_model=list[FileOut])
def list_files(body: ListFilesRequest, ctx: CtxDep) -> list[FileOut]:
    """Lists synced files for a source, ordered by path (page with ``after``)."""
    with ctx.transaction(read_only=True) as session:
        rows = files.list_files(
            session,
            ctx.workspace_id,
            body.source_id,
            prefix=body.prefix,
            state=body.state,
            include_deleted=body.include_deleted,
            after=body.after,
            limit=body.limit,
        )
    return [shapes.file(r) for r in rows]


@router.post("/sources/file", response_model=FileRecordOut)
def get_file(body: FileRequest, ctx: CtxDep) -> FileRecordOut:
    """Returns a synced file content record."""
    with ctx.transaction(read_only=True) as session:
        record = files.get_file(
            session,
            ctx.workspace_id,
            body.source_id,
            body.relative_path,
            check_accept(body.accept_encodings),
        )
    return shapes.file_record(record)


@router.post("/sources/file/update", response_model=UpdateFileOut)
def update_file(body: UpdateFileRequest, ctx: CtxDep) -> UpdateFileOut:
    """Updates a synced file from Raven-side editing (bidirectional sources only)."""
    with ctx.transaction() as session:
        result = sync.update_file(
            session,
            ctx.workspace_id,
            body.source_id,
            body.relative_path,
            body.content,
            body.base_hash,
            ctx.settings,
            body.content_encoding,
        )
    outcome = result.outcome
    return UpdateFileOut(
        status=_STATUS[outcome.status],
        source_id=result.source_id,
        relative_path=result.relative_path,
        hash=outcome.digest,
        conflict_id=outcome.conflict_id,
        event_cursor=result.event_cursor,
    )


@router.post("/sources/push-batch", response_model=PushBatchOut)
def push_batch(body: PushBatchRequest, ctx: CtxDep) -> Response:
    """Pushes connector operations (upserts/deletes) in one transaction."""
    sync.check_batch_size(len(body.items), ctx.settings)
    with ctx.transaction() as session:
        result = sync.push_batch(
            session, ctx.workspace_id, body.source_id, body.items, ctx.settings, body.connector_id
        )
    metrics.count_push_items(r.status for r in result.results)
    return Response(shapes.batch_json(result), media_type="application/json")


@router.post("/sources/deltas", response_model=DeltasOut)
def deltas(body: DeltasRequest, ctx: CtxDep) -> Response:
    """Returns ordered events after a cursor."""
    with ctx.transaction(read_only=True) as session:
        page = deltas_service.read_deltas(
            session,
            ctx.workspace_id,
            body.source_id,
            body.cursor,
            body.limit,
            ctx.settings.deltas_default_limit,
            body.own_connector_id,
            check_accept(body.accept_encodings),
            ctx.settings.deltas_max_page_bytes,
        )
    return Response(shapes.deltas_json(page), media_type="application/json")
