"""History extensions beyond the documented API: reopening a resolved conflict."""

from fastapi import APIRouter

from backend.rest import shapes
from backend.rest.bodies import BoundedJsonRoute
from backend.rest.deps import CtxDep
from backend.rest.schemas import ConflictOut, HashIn, Id, Wire, WireIn
from backend.services import reopen

router = APIRouter(tags=["conflicts & history"], route_class=BoundedJsonRoute)


class ReopenRequest(WireIn):
    source_id: Id | None = None
    conflict_id: Id
    expected_file_hash: HashIn | None = None


class ReopenOut(Wire):
    conflict: ConflictOut
    hash: str | None
    event_cursor: int


@router.post("/sources/conflicts/reopen", response_model=ReopenOut)
def reopen_conflict(body: ReopenRequest, ctx: CtxDep) -> ReopenOut:
    """Undoes a resolution: the conflict opens again (409 if the file changed since)."""
    with ctx.transaction() as session:
        result = reopen.reopen_conflict(
            session,
            ctx.workspace_id,
            body.conflict_id,
            expected_file_hash=body.expected_file_hash,
            source_id=body.source_id,
        )
    return ReopenOut(
        conflict=shapes.conflict(result.conflict),
        hash=result.digest,
        event_cursor=result.event_cursor,
    )
