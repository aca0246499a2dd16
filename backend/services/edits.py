"""The edit rules shared by connector pushes and Raven-side edits.

One function decides what an incoming change does to a file: apply it, ignore
it as identical, merge it against a stale base, or open (or extend) a conflict.
Pushes and Raven edits differ only in which side of a conflict they fill.
"""

from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session, select

from backend.models import Conflict, File, Source, utcnow
from backend.services.content import load_stored, sha256_hex, store_blob
from backend.services.events import emit
from backend.services.files import FileRow, append_version, ensure_file, find_file, set_current

Side = Literal["local", "remote"]


@dataclass(frozen=True)
class Edit:
    """One validated change. ``content`` None means delete."""

    path: str
    side: Side
    content: str | None
    digest: str | None
    size: int
    base_hash: str | None
    check_base: bool
    origin: str
    operation_id: str | None
    connector_id: str | None
    content_type: str = "text/markdown"
    rename_from: str | None = None
    """A push that moves the file at this path to ``path`` first (services/moves.py)."""
    followed_from: str | None = None
    """The path the client pushed to, when the edit followed a move to ``path``."""
    encoding: str = "utf-8"
    """"base64" for an attachment: ``content`` is then the base64 of its bytes, never merged."""


@dataclass(frozen=True)
class Outcome:
    status: Literal["applied", "unchanged", "merged", "conflict"]
    digest: str | None
    conflict_id: str | None = None


def apply_edit(
    session: Session, source: Source, edit: Edit, files: dict[str, File] | None = None
) -> Outcome:
    """Apply ``edit`` under the source's lock (the caller holds it).

    ``files`` is a batch's preloaded path -> file map; a file row without any
    version yet (created up front for the batch) counts as a new path.
    """
    file = files.get(edit.path) if files is not None else find_file(session, source.id, edit.path)
    if file is not None and file.state == "conflict":
        conflict = _open_conflict_of(session, file)
        if conflict is not None:
            return _extend_conflict(session, source, file, conflict, edit)
    current = file.current_hash if file else None
    if edit.digest == current:
        return Outcome("unchanged", current)
    if file is None or file.version_count == 0 or not edit.check_base or edit.base_hash == current:
        _write(session, source, edit, file)
        return Outcome("applied", edit.digest)
    if current is None and edit.base_hash is None:
        _write(session, source, edit, file)  # re-creating a deleted path continues its history
        return Outcome("applied", edit.digest)
    merged = _try_merge(session, source, file, edit)
    if merged is not None:
        return merged
    return open_conflict(session, source, file, edit)


def _write(session: Session, source: Source, edit: Edit, file: File | None) -> None:
    file = file or ensure_file(session, source, edit.path, edit.content_type)
    previous = file.current_hash
    record_edit(session, file, edit)
    set_current(session, file, edit.digest, edit.size, edit.content_type)
    emit_file_event(
        session, source, file, edit.origin, edit.operation_id, edit.connector_id, previous
    )


def record_edit(session: Session, file: File, edit: Edit, conflict_id: str | None = None) -> None:
    """Keep what the client sent: its content in the blob store, an entry in history.

    ``conflict_id`` marks content that arrived as a side of a conflict rather
    than as the file's current content.
    """
    if edit.content is not None and edit.digest is not None:
        store_blob(session, edit.digest, edit.content, edit.size, edit.encoding)
    append_version(
        session,
        file,
        digest=edit.digest,
        size=edit.size,
        origin=edit.origin,
        operation_id=edit.operation_id,
        connector_id=edit.connector_id,
        conflict_id=conflict_id,
    )


def emit_file_event(
    session: Session,
    source: Source,
    file: File,
    origin: str,
    operation_id: str | None,
    connector_id: str | None,
    previous_hash: str | None,
) -> int:
    """``file.upsert`` or ``file.delete`` for the file's new current state."""
    type_, payload = file_event(file, origin, operation_id, connector_id, previous_hash)
    return emit(session, source, type_, file.relative_path, payload)


def file_event(
    file: File | FileRow,
    origin: str,
    operation_id: str | None,
    connector_id: str | None,
    previous_hash: str | None,
) -> tuple[str, dict[str, Any]]:
    """Type and payload of the event for the file's new current state.

    The payload names the pushing connector so that connector can skip its own echo;
    content is joined from the blob store when the event is read.
    """
    payload: dict[str, Any] = {
        "origin": origin,
        "operationId": operation_id,
        "previousHash": previous_hash,
    }
    if connector_id:
        payload["connectorId"] = connector_id
    if file.current_hash is None:
        return "file.delete", payload
    payload.update(hash=file.current_hash, contentType=file.content_type, size=file.size)
    return "file.upsert", payload


def _open_conflict_of(session: Session, file: File) -> Conflict | None:
    statement = select(Conflict).where(Conflict.file_id == file.id, Conflict.status == "open")
    return session.exec(statement).first()


def _try_merge(session: Session, source: Source, file: File, edit: Edit) -> Outcome | None:
    """Three-way merge against a base the server really stored; None when it cannot merge."""
    from backend.services.automerge import merge_edit

    return merge_edit(session, source, file, edit)


def open_conflict(
    session: Session, source: Source, file: File, edit: Edit, reason: str | None = None
) -> Outcome:
    current = file.current_hash
    conflict = Conflict(
        source_id=source.id,
        file_id=file.id or 0,
        relative_path=file.relative_path,
        reason=reason or _reason(edit, current),
        base_hash=edit.base_hash,
    )
    _set_side(conflict, edit.side, edit.digest)
    _set_side(conflict, "remote" if edit.side == "local" else "local", current)
    session.add(conflict)
    session.flush()
    record_edit(session, file, edit, conflict.id)
    file.state = "conflict"
    file.updated_at = utcnow()
    session.add(file)
    emit(session, source, "conflict.opened", file.relative_path, conflict_payload(conflict))
    return Outcome("conflict", edit.digest, conflict.id)


def _reason(edit: Edit, current: str | None) -> str:
    if edit.digest is None or current is None:
        return "edit_delete"
    if edit.base_hash is None:
        return "no_base"
    return "stale_base"


def _set_side(conflict: Conflict, side: Side, digest: str | None) -> None:
    if side == "local":
        conflict.local_hash, conflict.local_deleted = digest, digest is None
    else:
        conflict.remote_hash, conflict.remote_deleted = digest, digest is None


def _side_hash(conflict: Conflict, side: Side) -> str | None:
    return conflict.local_hash if side == "local" else conflict.remote_hash


def _extend_conflict(
    session: Session, source: Source, file: File, conflict: Conflict, edit: Edit
) -> Outcome:
    """A later change to a file in conflict replaces that side of the conflict, not the file."""
    if _side_hash(conflict, edit.side) == edit.digest:
        return Outcome("conflict", edit.digest, conflict.id)
    _set_side(conflict, edit.side, edit.digest)
    conflict.revision += 1
    conflict.updated_at = utcnow()
    session.add(conflict)
    record_edit(session, file, edit, conflict.id)
    emit(session, source, "conflict.updated", file.relative_path, conflict_payload(conflict))
    if conflict.local_hash == conflict.remote_hash:
        # Both sides now hold the same bytes: nothing is left to decide.
        finish_conflict(session, source, file, conflict, conflict.local_hash, "converged")
        return Outcome("applied", edit.digest)
    return Outcome("conflict", edit.digest, conflict.id)


def finish_conflict(
    session: Session,
    source: Source,
    file: File,
    conflict: Conflict,
    digest: str | None,
    resolution: str,
) -> int:
    """Close ``conflict`` with ``digest`` (None: deleted) as the file's new current state."""
    stored = load_stored(session, digest)
    size = len(stored.data()) if stored is not None else 0
    previous = file.current_hash
    append_version(
        session,
        file,
        digest=digest,
        size=size,
        origin="merge",
        operation_id=f"resolve:{conflict.id}",
        conflict_id=None,
    )
    set_current(session, file, digest, size)
    now = utcnow()
    conflict.status = "resolved"
    conflict.resolution = resolution
    conflict.resolved_hash = digest
    conflict.resolved_at = now
    conflict.updated_at = now
    session.add(conflict)
    emit(
        session,
        source,
        "conflict.resolved",
        file.relative_path,
        {**conflict_payload(conflict), "resolution": resolution, "hash": digest},
    )
    return emit_file_event(session, source, file, "merge", f"resolve:{conflict.id}", None, previous)


def conflict_payload(conflict: Conflict) -> dict[str, Any]:
    return {
        "conflictId": conflict.id,
        "reason": conflict.reason,
        "revision": conflict.revision,
        "baseHash": conflict.base_hash,
        "localHash": conflict.local_hash,
        "remoteHash": conflict.remote_hash,
        "localDeleted": conflict.local_deleted,
        "remoteDeleted": conflict.remote_deleted,
    }


def content_edit(
    path: str,
    side: Side,
    content: str,
    size: int,
    base_hash: str | None,
    *,
    origin: str,
    check_base: bool = True,
    operation_id: str | None = None,
    connector_id: str | None = None,
    content_type: str = "text/markdown",
) -> Edit:
    return Edit(
        path,
        side,
        content,
        sha256_hex(content),
        size,
        base_hash,
        check_base,
        origin,
        operation_id,
        connector_id,
        content_type,
    )
