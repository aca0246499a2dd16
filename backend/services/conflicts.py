"""Conflicts: listing, preview and resolution."""

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, select

from backend.errors import InvalidInput, NotFound, StateConflict
from backend.models import Conflict, File, Source
from backend.services.attachments import keep_both_path
from backend.services.content import (
    check_content,
    load_blob,
    load_stored,
    load_stored_many,
    require_text,
    store_blob,
)
from backend.services.edits import Edit, apply_edit, finish_conflict
from backend.services.files import find_file, in_history
from backend.services.sources import get_source
from backend.services.tree import check_path_free, is_live
from backend.settings import Settings

Resolution = Literal["keep_local", "keep_raven", "manual_merge", "keep_both"]
RESOLUTIONS = ("keep_local", "keep_raven", "manual_merge", "keep_both")


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
    binary: bool = False
    """A side is an attachment: its texts are left out (None) and nothing is diffed or merged."""


def conflict_sides(session: Session, conflict: Conflict) -> ConflictSides:
    """The three contents; a base the file never held counts as unknown."""
    known_base = in_history(session, conflict.file_id, conflict.base_hash)
    return ConflictSides(
        conflict,
        load_blob(session, conflict.base_hash) if known_base else None,
        load_blob(session, conflict.local_hash),
        load_blob(session, conflict.remote_hash),
        is_binary_conflict(session, conflict),
    )


def is_binary_conflict(session: Session, conflict: Conflict) -> bool:
    """Whether either side is an attachment (such a conflict is never merged by hand)."""
    found = load_stored_many(session, (conflict.local_hash, conflict.remote_hash))
    return any(s.binary for s in found.values())


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
    if resolution == "keep_both":
        return _keep_both(session, source, conflict)
    digest = _resolution_hash(session, conflict, resolution, resolved_content, settings)
    file = session.get(File, conflict.file_id)
    assert file is not None
    cursor = finish_conflict(session, source, file, conflict, digest, str(resolution))
    return ResolveResult(conflict, digest, cursor)


def _keep_both(session: Session, source: Source, conflict: Conflict) -> ResolveResult:
    """Raven's side stays at the path; the connector's side moves to :func:`keep_both_path`.

    The side that arrived second (the connector's stale edit opened the conflict)
    is the one renamed, as a desktop sync client names a conflicted copy. Both
    contents are already in the blob store, so nothing is re-sent; the copy is
    a new file with its own history, announced by an ordinary ``file.upsert``.
    """
    if conflict.local_hash is None or conflict.remote_hash is None:
        raise InvalidInput(
            "keep_both needs content on both sides; one side is a delete, "
            "choose keep_local or keep_raven",
            "KEEP_BOTH_NEEDS_CONTENT",
        )
    local = load_stored(session, conflict.local_hash)
    if local is None:
        raise InvalidInput("the connector's side is no longer stored", "CONTENT_MISSING")
    file = session.get(File, conflict.file_id)
    assert file is not None
    copy_path = keep_both_path(conflict.relative_path, conflict.local_hash)
    finish_conflict(session, source, file, conflict, conflict.remote_hash, "keep_both")
    if not is_live(find_file(session, source.id, copy_path)):
        check_path_free(session, source.id, copy_path)
    copy = Edit(
        copy_path,
        "local",
        local.content,
        conflict.local_hash,
        len(local.data()),
        None,
        False,
        "merge",
        f"resolve:{conflict.id}:copy",
        None,
        file.content_type,
        encoding=local.encoding,
    )
    apply_edit(session, source, copy)
    return ResolveResult(conflict, conflict.remote_hash, source.last_cursor)


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
    if is_binary_conflict(session, conflict):
        raise InvalidInput(
            "an attachment cannot be merged by hand; choose keep_local, keep_raven or keep_both",
            "BINARY_NOT_MERGEABLE",
        )
    if content is None:
        raise InvalidInput("manual_merge needs resolvedContent", "MISSING_CONTENT")
    digest, size = check_content(content, settings.max_file_bytes)
    assert isinstance(content, str)
    store_blob(session, digest, content, size)
    return digest
