"""Conflicts: listing, preview and resolution."""

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, select

from backend.errors import InvalidInput, NotFound, StateConflict
from backend.models import Conflict, File
from backend.services.content import check_content, load_blob, require_text, store_blob
from backend.services.edits import finish_conflict
from backend.services.files import in_history
from backend.services.sources import get_source
from backend.settings import Settings

Resolution = Literal["keep_local", "keep_raven", "manual_merge"]
RESOLUTIONS = ("keep_local", "keep_raven", "manual_merge")


def list_conflicts(
    session: Session, workspace_id: str, source_id: str, status: str | None = "open"
) -> list[Conflict]:
    source = get_source(session, workspace_id, source_id)
    statement = select(Conflict).where(Conflict.source_id == source.id)
    if status is not None:
        if status not in ("open", "resolved"):
            raise InvalidInput("status must be 'open' or 'resolved'", "INVALID_STATUS")
        statement = statement.where(Conflict.status == status)
    return list(session.exec(statement.order_by(col(Conflict.created_at), col(Conflict.id))))


def get_conflict(
    session: Session, workspace_id: str, conflict_id: object, source_id: object = None
) -> Conflict:
    """Another workspace's conflict, or one of a different source, answers as missing."""
    if not isinstance(conflict_id, str) or not conflict_id:
        raise InvalidInput("conflictId is required")
    require_text(conflict_id, "conflictId")
    conflict = session.get(Conflict, conflict_id)
    if conflict is None or (source_id is not None and conflict.source_id != source_id):
        raise NotFound("conflict not found", "CONFLICT_NOT_FOUND")
    try:
        get_source(session, workspace_id, conflict.source_id)
    except NotFound:
        raise NotFound("conflict not found", "CONFLICT_NOT_FOUND") from None
    return conflict


@dataclass(frozen=True)
class ConflictSides:
    conflict: Conflict
    base: str | None
    local: str | None
    remote: str | None


def conflict_sides(session: Session, conflict: Conflict) -> ConflictSides:
    """The three contents; a base the file never held counts as unknown."""
    known_base = in_history(session, conflict.file_id, conflict.base_hash)
    return ConflictSides(
        conflict,
        load_blob(session, conflict.base_hash) if known_base else None,
        load_blob(session, conflict.local_hash),
        load_blob(session, conflict.remote_hash),
    )


@dataclass(frozen=True)
class ResolveResult:
    conflict: Conflict
    digest: str | None
    event_cursor: int


def resolve_conflict(
    session: Session,
    workspace_id: str,
    conflict_id: object,
    resolution: object,
    settings: Settings,
    *,
    resolved_content: object = None,
    revision: int | None = None,
    source_id: object = None,
) -> ResolveResult:
    """Close a conflict; ``revision`` refuses a decision taken on a stale view (409)."""
    if resolution not in RESOLUTIONS:
        raise InvalidInput(
            f"resolution must be one of {', '.join(RESOLUTIONS)}", "INVALID_RESOLUTION"
        )
    conflict = get_conflict(session, workspace_id, conflict_id, source_id)
    source = get_source(session, workspace_id, conflict.source_id, lock=True)
    session.refresh(conflict)
    check_current(conflict, revision)
    digest = _resolution_hash(session, conflict, resolution, resolved_content, settings)
    file = session.get(File, conflict.file_id)
    assert file is not None
    cursor = finish_conflict(session, source, file, conflict, digest, str(resolution))
    return ResolveResult(conflict, digest, cursor)


def check_current(conflict: Conflict, revision: int | None) -> None:
    """Refuse a decision on a closed conflict, or one taken on a stale view of it."""
    if conflict.status != "open":
        raise StateConflict("conflict is already resolved", "CONFLICT_RESOLVED")
    if revision is not None and revision != conflict.revision:
        raise StateConflict(
            f"conflict changed since revision {revision} (now {conflict.revision}); reload it",
            "STALE_REVISION",
        )


def _resolution_hash(
    session: Session, conflict: Conflict, resolution: object, content: object, settings: Settings
) -> str | None:
    if resolution == "keep_local":
        return conflict.local_hash
    if resolution == "keep_raven":
        return conflict.remote_hash
    if content is None:
        raise InvalidInput("manual_merge needs resolvedContent", "MISSING_CONTENT")
    digest, size = check_content(content, settings.max_file_bytes)
    assert isinstance(content, str)
    store_blob(session, digest, content, size)
    return digest
