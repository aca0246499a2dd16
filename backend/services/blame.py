"""Blame: which version introduced each line of a version of a file.

:func:`load_blame` reads the versions in a short read transaction; :func:`build_blame`
diffs them after it closed (in a compute turn), so a long walk never holds a
pooled connection. The walk goes forward through the file's own version chain,
oldest first, and each version inherits, line by line, the attribution of the
version(s) it was made from; a line no parent has is credited to the version.

Parents, and so what "introduced" means here:

- An ordinary version's parent is the version before it.
- A merge result (an auto-merge, a conflict resolution) has as parents every
  version since the file's last current content: the pushed side and the
  current content it was merged into, or every side of the conflict and the
  content current when it opened. A merged line is credited to whichever side
  introduced it, tried newest first; only a line typed into a manual merge is
  credited to the resolution itself.
- A restore, or the reopening of a resolved conflict, is a new version made
  from the one before it: lines it brings back are credited to the restore
  (as ``git blame`` credits a revert), not to the old version they came from.
  The restored version is named in history, and its own blame shows the origin.

The walk stops after ``max_versions`` versions (setting ``blame_max_versions``):
lines present in the oldest version walked are credited to "version N or older".
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.errors import InvalidInput, NotFound
from backend.merge.script import edit_script
from backend.merge.text import split_lines, strip_eol
from backend.models import File, Source, Version
from backend.services.authors import author_name, connector_names
from backend.services.content import binary_hashes, load_blobs

MAX_MERGE_PARENTS = 16
"""Sides of one conflict tried for a resolution's lines; older ones count as not found."""


@dataclass(frozen=True)
class BlameVersion:
    seq: int
    hash: str | None
    origin: str
    recorded_at: datetime
    connector_id: str | None
    author: str
    operation_id: str | None
    conflict_id: str | None


@dataclass(frozen=True)
class BlameInput:
    versions: list[BlameVersion]
    """The versions walked, oldest first; the last one is blamed."""
    contents: dict[str, str]


@dataclass(frozen=True)
class BlameLine:
    line_no: int
    text: str
    version: BlameVersion
    or_older: bool
    """The line was already there in the oldest version walked: it may be older."""


@dataclass(frozen=True)
class Blame:
    seq: int
    lines: list[BlameLine]
    versions_walked: int
    stops_at: int | None
    """The oldest version walked when the walk stopped short of version 1."""

    @property
    def note(self) -> str | None:
        if self.stops_at is None:
            return None
        return (
            f"blame stops at version {self.stops_at}: lines credited to it may be"
            f" from version {self.stops_at} or older"
        )


def load_blame(
    session: Session, workspace_id: str, file_id: int, seq: int, max_versions: int, cap: int
) -> BlameInput:
    """Read version ``seq`` of the file and up to ``max_versions - 1`` before it."""
    if not 1 <= max_versions <= cap:
        raise InvalidInput(f"maxVersions must be between 1 and {cap}", "INVALID_LIMIT")
    file = session.get(File, file_id)
    source = session.get(Source, file.source_id) if file is not None else None
    if file is None or source is None or source.workspace_id != workspace_id:
        raise NotFound("file not found", "FILE_NOT_FOUND")
    if not 1 <= seq <= file.version_count:
        raise NotFound("version not found", "VERSION_NOT_FOUND")
    statement = (
        select(Version)
        .where(Version.file_id == file_id, Version.seq <= seq, Version.seq > seq - max_versions)
        .order_by(col(Version.seq))
    )
    rows = list(session.exec(statement))
    if rows and binary_hashes(session, [rows[-1].hash]):
        raise InvalidInput(
            "this version is an attachment (bytes): it has no lines to blame",
            "BINARY_NOT_BLAMABLE",
        )
    names = connector_names(session, {r.connector_id for r in rows if r.connector_id})
    versions = [_blame_version(r, names.get(r.connector_id or "")) for r in rows]
    return BlameInput(versions, load_blobs(session, (r.hash for r in rows)))


def _blame_version(row: Version, connector_name: str | None) -> BlameVersion:
    return BlameVersion(
        seq=row.seq,
        hash=row.hash,
        origin=row.origin,
        recorded_at=row.created_at,
        connector_id=row.connector_id,
        author=author_name(row.origin, connector_name),
        operation_id=row.operation_id,
        conflict_id=row.conflict_id,
    )


def build_blame(loaded: BlameInput) -> Blame:
    """Walk the versions forward; CPU only, run in a compute turn."""
    versions = loaded.versions
    first = versions[0]
    # Attribution of each line of each version walked, as an index into ``versions``.
    owners: list[list[int]] = []
    texts: list[list[str]] = []
    for index, version in enumerate(versions):
        lines = split_lines(loaded.contents.get(version.hash or "", ""))
        texts.append(lines)
        owner = [index] * len(lines)
        # Parents newest first: a line found in the first keeps that parent's credit.
        for parent in reversed(_parents(versions, index)):
            _inherit(owner, lines, texts[parent], owners[parent], index)
        owners.append(owner)
    truncated = first.seq > 1
    blamed = [
        BlameLine(
            line_no=n + 1,
            text=strip_eol(line),
            version=versions[owner],
            or_older=truncated and owner == 0,
        )
        for n, (line, owner) in enumerate(zip(texts[-1], owners[-1], strict=True))
    ]
    return Blame(versions[-1].seq, blamed, len(versions), first.seq if truncated else None)


def _parents(versions: list[BlameVersion], index: int) -> list[int]:
    """Indices of the versions ``versions[index]`` was made from, oldest first."""
    if index == 0:
        return []
    version = versions[index]
    if version.origin != "merge":
        return [index - 1]
    parents: list[int] = []
    for j in range(index - 1, max(-1, index - 1 - MAX_MERGE_PARENTS), -1):
        parents.append(j)
        candidate = versions[j]
        if candidate.conflict_id is None and candidate.operation_id != version.operation_id:
            break  # the content that was current when the merge began
    return list(reversed(parents))


def _inherit(
    owner: list[int], lines: list[str], old: list[str], old_owner: list[int], me: int
) -> None:
    """Lines of ``lines`` unchanged from ``old`` take its credit, unless already taken."""
    i = j = 0
    for change in edit_script(old, lines):
        _copy_run(owner, old_owner, i, j, change.b_start - j, me)
        i, j = change.a_end, change.b_end
    _copy_run(owner, old_owner, i, j, len(lines) - j, me)


def _copy_run(owner: list[int], old_owner: list[int], i: int, j: int, count: int, me: int) -> None:
    for k in range(count):
        if owner[j + k] == me:
            owner[j + k] = old_owner[i + k]
