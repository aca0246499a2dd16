"""Diffs between two versions of one file.

:func:`load_diff` reads both contents in a short transaction; :func:`build_diff`
diffs them after it closed (through :func:`backend.services.cpu.compute`), so a
long diff never holds a pooled connection.
"""

from dataclasses import dataclass

from sqlmodel import Session

from backend.errors import InvalidInput, NotFound
from backend.merge import Hunk, hunks, unified_diff
from backend.paths import lookup_path
from backend.retention.marks import check_not_pruned
from backend.services.content import binary_hashes, check_hash, load_blob
from backend.services.files import find_file, in_history
from backend.services.sources import get_source


@dataclass(frozen=True)
class DiffInput:
    path: str
    from_hash: str
    to_hash: str
    old: str
    new: str
    context_lines: int


@dataclass(frozen=True)
class VersionDiff:
    from_hash: str
    to_hash: str
    hunks: list[Hunk]
    unified: str
    insertions: int
    deletions: int


def load_diff(
    session: Session,
    workspace_id: str,
    source_id: str,
    path: object,
    from_hash: object,
    to_hash: object,
    context: int = 3,
) -> DiffInput:
    if not 0 <= context <= 50:
        raise InvalidInput("contextLines must be between 0 and 50", "INVALID_CONTEXT")
    source = get_source(session, workspace_id, source_id)
    file = find_file(session, source.id, lookup_path(path))
    if file is None:
        raise NotFound("file not found", "FILE_NOT_FOUND")
    old_hash = check_hash(from_hash, "fromHash")
    new_hash = check_hash(to_hash, "toHash")
    # Both must be versions of this very file: the blob store is shared by workspaces.
    if (
        old_hash is None
        or new_hash is None
        or not (in_history(session, file.id, old_hash) and in_history(session, file.id, new_hash))
    ):
        raise NotFound("version not found in this file's history", "VERSION_NOT_FOUND")
    # A pruned side is refused by name: diffing it against empty text would lie.
    check_not_pruned(session, file.id, old_hash)
    check_not_pruned(session, file.id, new_hash)
    if binary_hashes(session, (old_hash, new_hash)):
        raise InvalidInput(
            "an attachment's versions are bytes and have no line diff; "
            "compare their hashes and sizes instead",
            "BINARY_NOT_DIFFABLE",
        )
    old = load_blob(session, old_hash) or ""
    new = load_blob(session, new_hash) or ""
    return DiffInput(file.relative_path, old_hash, new_hash, old, new, context)


def build_diff(given: DiffInput) -> VersionDiff:
    """Hunks and ``git diff`` text of two loaded versions (CPU only, no database)."""
    old, new, context = given.old, given.new, given.context_lines
    found = hunks(old, new, context)
    kinds = [line.kind for h in found for line in h.lines]
    return VersionDiff(
        given.from_hash,
        given.to_hash,
        found,
        unified_diff(old, new, context, f"a/{given.path}", f"b/{given.path}"),
        kinds.count("insert"),
        kinds.count("delete"),
    )
