"""What retention did to a file's versions: pins, prunes, and reading kept content.

Pinning names a version by its ``seq`` (1, 2, 3, ... within the file), the one
identity a version keeps forever; hashes repeat when content comes back.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.db import write_deferred
from backend.errors import InvalidInput, NotFound, StateConflict
from backend.models import File, Version, utcnow
from backend.paths import lookup_path
from backend.retention.errors import VersionPruned
from backend.retention.tables import VersionPin, VersionPrune
from backend.services.content import load_stored
from backend.services.files import MAX_HISTORY_LIMIT, find_file
from backend.services.sources import get_source


@dataclass(frozen=True)
class VersionStatus:
    """A version with what retention knows of it."""

    seq: int
    hash: str | None
    created_at: datetime
    pinned: bool
    pruned: bool
    pruned_at: datetime | None


@dataclass(frozen=True)
class VersionContent:
    seq: int
    hash: str | None
    content: str | None
    """None for a tombstone."""


def _file(session: Session, workspace_id: str, source_id: str, path: object) -> File:
    source = get_source(session, workspace_id, source_id)
    file = find_file(session, source.id, lookup_path(path))
    if file is None:
        raise NotFound("file not found", "FILE_NOT_FOUND")
    return file


def _version(session: Session, file: File, seq: object) -> Version:
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise InvalidInput("seq must be a whole number from 1", "INVALID_SEQ")
    write_deferred(session)
    statement = select(Version).where(Version.file_id == file.id, Version.seq == seq)
    row = session.exec(statement).first()
    if row is None:
        raise NotFound("version not found in this file's history", "VERSION_NOT_FOUND")
    return row


def set_pin(
    session: Session, workspace_id: str, source_id: str, path: object, seq: object, pinned: bool
) -> VersionStatus:
    """Pin (keep whatever the policy says) or unpin a version; repeating either is a no-op.

    Pinning a version whose content was already pruned is refused: a pin
    promises the content stays, and it is already gone.
    """
    source = get_source(session, workspace_id, source_id, lock=True)
    file = _file(session, workspace_id, source.id, path)
    version = _version(session, file, seq)
    assert version.id is not None and file.id is not None
    pin = session.get(VersionPin, version.id)
    prune = session.get(VersionPrune, version.id)
    if pinned and pin is None:
        if prune is not None:
            raise VersionPruned(f"version {version.seq} was pruned; its content cannot be pinned")
        pin = VersionPin(version_id=version.id, file_id=file.id, pinned_at=utcnow())
        session.add(pin)
    elif not pinned and pin is not None:
        session.delete(pin)
    session.flush()
    return VersionStatus(
        version.seq,
        version.hash,
        version.created_at,
        pinned,
        prune is not None,
        prune.pruned_at if prune else None,
    )


def version_statuses(
    session: Session,
    workspace_id: str,
    source_id: str,
    path: object,
    *,
    limit: int = 100,
    before: int | None = None,
) -> list[VersionStatus]:
    """Newest first, paged like history: which versions are pinned and which pruned."""
    file = _file(session, workspace_id, source_id, path)
    if not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_HISTORY_LIMIT}", "INVALID_LIMIT")
    statement = (
        select(Version, VersionPin.version_id, VersionPrune.pruned_at)
        .outerjoin(VersionPin, col(VersionPin.version_id) == Version.id)
        .outerjoin(VersionPrune, col(VersionPrune.version_id) == Version.id)
        .where(Version.file_id == file.id)
    )
    if before is not None:
        statement = statement.where(Version.seq < before)
    rows = session.exec(statement.order_by(col(Version.seq).desc()).limit(limit))
    return [
        VersionStatus(v.seq, v.hash, v.created_at, pin is not None, pruned is not None, pruned)
        for v, pin, pruned in rows
    ]


def version_content(
    session: Session, workspace_id: str, source_id: str, path: object, seq: object
) -> VersionContent:
    """One version's content, or VERSION_PRUNED when retention removed it."""
    file = _file(session, workspace_id, source_id, path)
    version = _version(session, file, seq)
    if session.get(VersionPrune, version.id) is not None:
        raise VersionPruned(f"version {version.seq} was pruned by the source's retention policy")
    stored = load_stored(session, version.hash)
    if stored is not None and stored.binary:
        raise StateConflict(
            f"version {version.seq} is an attachment; read it through history with "
            'acceptEncodings ["base64"]',
            "BINARY_CONTENT",
        )
    content = stored.content if stored is not None else None
    if version.hash is not None and content is None:
        raise NotFound("that version's content is missing", "CONTENT_MISSING")
    return VersionContent(version.seq, version.hash, content)
