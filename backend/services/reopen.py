"""Undoing a resolution: a resolved conflict opens again, as long as nothing came after it.

History is never rewritten. The resolution's version stays; reopening appends a
version that makes the content current before the resolution current again
(when it differs from the resolved content), and the conflict row, which kept
its base and both sides, becomes open with a new revision. The feed says so in
the order a connector needs: ``conflict.opened`` first, so the connector holds
the path as in conflict before it sees the file change back, then the
``file.upsert`` (or ``file.delete``) of the restored content.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from backend.db import write_deferred
from backend.errors import StateConflict
from backend.models import Blob, Conflict, File, Version, utcnow
from backend.services.conflicts import get_conflict
from backend.services.content import check_hash
from backend.services.edits import conflict_payload, emit_file_event
from backend.services.events import emit
from backend.services.files import append_version, set_current
from backend.services.sources import get_source


@dataclass(frozen=True)
class ReopenResult:
    conflict: Conflict
    digest: str | None
    """The file's current content again, as before the resolution (None: deleted)."""
    event_cursor: int


def reopen_conflict(
    session: Session,
    workspace_id: str,
    conflict_id: object,
    *,
    expected_file_hash: object = None,
    source_id: object = None,
) -> ReopenResult:
    """Reopen a resolved conflict whose file has not changed since it was resolved (409 else).

    ``expected_file_hash`` is the file hash the caller saw: a differing current
    hash is refused, so a decision taken on a stale view never undoes newer work.
    """
    expected = check_hash(expected_file_hash, "expectedFileHash")
    conflict = get_conflict(session, workspace_id, conflict_id, source_id)
    source = get_source(session, workspace_id, conflict.source_id, lock=True)
    session.refresh(conflict)
    if conflict.status != "resolved":
        raise StateConflict("conflict is open; only a resolved one reopens", "CONFLICT_OPEN")
    if conflict.resolution == "converged":
        raise StateConflict(
            "both sides became identical: there is nothing to reopen", "CONFLICT_CONVERGED"
        )
    file = session.get(File, conflict.file_id)
    assert file is not None
    session.refresh(file)
    if expected is not None and expected != file.current_hash:
        raise StateConflict(
            "the file's current hash is not the one expected; reload it", "STALE_FILE_HASH"
        )
    before = _content_before_resolution(session, file, conflict)
    size = _size_of(session, before)
    previous = file.current_hash
    now = utcnow()
    conflict.status = "open"
    conflict.revision += 1
    conflict.resolution = None
    conflict.resolved_hash = None
    conflict.resolved_at = None
    conflict.updated_at = now
    session.add(conflict)
    payload = {**conflict_payload(conflict), "reopened": True}
    cursor = emit(session, source, "conflict.opened", file.relative_path, payload)
    if before != previous:
        operation = f"reopen:{conflict.id}"
        append_version(
            session, file, digest=before, size=size, origin="merge", operation_id=operation
        )
        set_current(session, file, before, size)
        cursor = emit_file_event(session, source, file, "merge", operation, None, previous)
    file.state = "conflict"
    file.updated_at = now
    session.add(file)
    return ReopenResult(conflict, before, cursor)


def _content_before_resolution(session: Session, file: File, conflict: Conflict) -> str | None:
    """The hash current just before the resolution, read from the file's own history.

    The resolution must be the newest version: anything after it (an edit, a
    restore, another conflict's side) is newer work that reopening would undo.
    While a conflict is open the file's current content does not move and every
    version is one of its sides, so the newest version before the resolution
    that is not a side holds what was current.
    """
    write_deferred(session)
    resolution = session.exec(
        select(Version)
        .where(Version.file_id == file.id, Version.operation_id == f"resolve:{conflict.id}")
        .order_by(col(Version.seq).desc())
    ).first()
    if resolution is None or resolution.seq != file.version_count:
        raise StateConflict(
            "the file changed after this conflict was resolved; reopening would undo that",
            "FILE_CHANGED_SINCE_RESOLUTION",
        )
    current = session.exec(
        select(Version)
        .where(
            Version.file_id == file.id,
            Version.seq < resolution.seq,
            col(Version.conflict_id).is_(None),
        )
        .order_by(col(Version.seq).desc())
    ).first()
    start = current.seq if current is not None else 0
    sides = session.exec(
        select(func.count())
        .select_from(Version)
        .where(
            Version.file_id == file.id,
            Version.seq > start,
            Version.seq < resolution.seq,
            Version.conflict_id == conflict.id,
        )
    ).one()
    if current is None or sides != resolution.seq - start - 1:
        # A version in between was pruned or belongs elsewhere: what was current is unknown.
        raise StateConflict(
            "the history before this resolution is incomplete; it cannot be undone",
            "HISTORY_INCOMPLETE",
        )
    return current.hash


def _size_of(session: Session, digest: str | None) -> int:
    blob = session.get(Blob, digest) if digest is not None else None
    return blob.size if blob is not None else 0
