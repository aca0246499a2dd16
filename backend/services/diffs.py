"""Diffs between two versions of one file."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.errors import InvalidInput, NotFound
from backend.merge import Hunk, hunks, unified_diff
from backend.models import Conflict, Version
from backend.paths import normalise_path
from backend.services.content import check_hash, load_blob
from backend.services.files import find_file
from backend.services.sources import get_source


@dataclass(frozen=True)
class VersionDiff:
    from_hash: str
    to_hash: str
    hunks: list[Hunk]
    unified: str
    insertions: int
    deletions: int


def _known_hashes(session: Session, file_id: int) -> set[str]:
    """Hashes this file's history or conflicts hold.

    The blob store is shared by every workspace, so a hash is only readable
    through a file that really had that content.
    """
    versions = session.exec(select(Version.hash).where(Version.file_id == file_id))
    sides = session.exec(
        select(Conflict.base_hash, Conflict.local_hash, Conflict.remote_hash).where(
            col(Conflict.file_id) == file_id
        )
    )
    known = {h for h in versions if h}
    for row in sides:
        known.update(h for h in row if h)
    return known


def diff_versions(
    session: Session,
    workspace_id: str,
    source_id: str,
    path: object,
    from_hash: object,
    to_hash: object,
    context: int = 3,
) -> VersionDiff:
    source = get_source(session, workspace_id, source_id)
    file = find_file(session, source.id, normalise_path(path))
    if file is None:
        raise NotFound("file not found", "FILE_NOT_FOUND")
    old_hash = check_hash(from_hash, "fromHash")
    new_hash = check_hash(to_hash, "toHash")
    known = _known_hashes(session, file.id or 0)
    if old_hash is None or new_hash is None or not {old_hash, new_hash} <= known:
        raise NotFound("version not found in this file's history", "VERSION_NOT_FOUND")
    old = load_blob(session, old_hash) or ""
    new = load_blob(session, new_hash) or ""
    found = hunks(old, new, _context(context))
    kinds = [line.kind for h in found for line in h.lines]
    return VersionDiff(
        old_hash,
        new_hash,
        found,
        unified_diff(
            old, new, _context(context), f"a/{file.relative_path}", f"b/{file.relative_path}"
        ),
        kinds.count("insert"),
        kinds.count("delete"),
    )


def _context(value: int) -> int:
    if not 0 <= value <= 50:
        raise InvalidInput("contextLines must be between 0 and 50", "INVALID_CONTEXT")
    return value
