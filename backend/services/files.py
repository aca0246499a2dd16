"""Files and their append-only version history."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import event, inspect, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from backend.db import db_time, defer_insert, keyed_rows, write_deferred
from backend.errors import InvalidInput, NotFound, StateConflict
from backend.models import Conflict, File, Source, Version, utcnow
from backend.paths import MAX_PATH_BYTES, lookup_path
from backend.retention.marks import pruned_ids
from backend.services.content import binary_hashes, load_stored, load_stored_many, require_text
from backend.services.sources import get_source

STATES = ("ok", "conflict", "deleted")
MAX_LIST_LIMIT = 5000
MAX_HISTORY_LIMIT = 500


@dataclass
class FileRow:
    """A file's columns as one write transaction reads and changes them, without an ORM object.

    ``was_live`` is whether the file counted in ``sources.file_count`` when read.
    Once a rare path (a conflict) needs the ORM object, ``orm`` holds it and it is
    the one written; the columns here are then refreshed from it.
    """

    id: int | None
    relative_path: str
    current_hash: str | None
    state: str
    content_type: str
    size: int
    version_count: int
    was_live: bool
    dirty: bool = False
    orm: File | None = None

    @property
    def live(self) -> bool:
        return self.state != "deleted"


_FILE_COLUMNS = ("id", "relative_path", "current_hash", "state", "content_type", "size")


def load_file_rows(session: Session, source_id: str, paths: Iterable[str]) -> dict[str, FileRow]:
    """The files at ``paths`` (those that exist), one unique-index probe per path."""
    columns = (*_FILE_COLUMNS, "version_count")
    table = File.__table__  # type: ignore[attr-defined]
    rows = keyed_rows(session, table, columns, "relative_path", paths, ("source_id", source_id))
    return {
        r.relative_path: FileRow(
            r.id,
            r.relative_path,
            r.current_hash,
            r.state,
            r.content_type,
            r.size,
            r.version_count,
            was_live=r.state != "deleted",
        )
        for r in rows
    }


@event.listens_for(Session, "before_flush")
def _count_orm_files(session: Session, _context: object, _instances: object) -> None:
    """Keep ``sources.file_count`` for files changed through the ORM, whoever changed them.

    Batches count the files they write as columns themselves (``Changes``); the
    rarer paths (conflicts opened, resolved or reopened) change ORM objects, and
    each flush counts those whose state crossed "deleted". The writer holds the
    source's lock and has the source loaded, so the counter is changed on that
    object and written with it.
    """
    deltas: dict[str, int] = {}
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, File):
            continue
        history = inspect(obj).attrs.state.history
        if obj in session.new:
            before = False
        elif history.deleted:
            before = history.deleted[0] != "deleted"
        else:
            continue
        change = (obj.state != "deleted") - before
        if change:
            deltas[obj.source_id] = deltas.get(obj.source_id, 0) + change
    for source_id, change in deltas.items():
        source = session.identity_map.get(identity_key(Source, source_id))
        if isinstance(source, Source):
            source.file_count += change
        else:
            count = col(Source.file_count) + change
            session.execute(
                update(Source).where(col(Source.id) == source_id).values(file_count=count)
            )


def find_file(session: Session, source_id: str, path: str | None) -> File | None:
    """``path`` None (a name no file can have, see ``lookup_path``) finds nothing."""
    if path is None:
        return None
    statement = select(File).where(File.source_id == source_id, File.relative_path == path)
    return session.exec(statement).first()


def ensure_file(session: Session, source: Source, path: str, content_type: str) -> File:
    """The file row for ``path``; a deleted path keeps its row, so history continues."""
    existing = find_file(session, source.id, path)
    if existing is not None:
        return existing
    created = File(source_id=source.id, relative_path=path, content_type=content_type)
    session.add(created)
    session.flush()
    return created


def append_version(
    session: Session,
    file: File,
    *,
    digest: str | None,
    size: int,
    origin: str,
    operation_id: str | None = None,
    connector_id: str | None = None,
    conflict_id: str | None = None,
) -> None:
    """Append one history entry; the cost does not depend on how long the history is.

    ``digest`` None records a tombstone. The caller decides separately whether
    the entry also becomes the file's current content.
    """
    file.version_count += 1
    row = {
        "file_id": file.id,
        "seq": file.version_count,
        "hash": digest,
        "origin": origin,
        "size": size,
        "operation_id": operation_id,
        "connector_id": connector_id,
        "conflict_id": conflict_id,
        "created_at": db_time(utcnow()),
    }
    defer_insert(session, Version, row)
    session.add(file)


def in_history(session: Session, file_id: int | None, digest: str | None) -> bool:
    """Whether this file ever held ``digest``.

    The blob store is shared by all workspaces, so a client-supplied hash (a
    ``baseHash``) only counts as a known base when this file really had it.
    """
    if file_id is None or digest is None:
        return False
    write_deferred(session)
    statement = select(Version.id).where(Version.file_id == file_id, Version.hash == digest)
    return session.exec(statement.limit(1)).first() is not None


def set_current(
    session: Session, file: File, digest: str | None, size: int, content_type: str | None = None
) -> None:
    file.current_hash = digest
    file.size = size if digest else 0
    file.state = "ok" if digest else "deleted"
    if content_type:
        file.content_type = content_type
    file.updated_at = utcnow()
    session.add(file)


class FileView(Protocol):
    """A file's columns, as a listing reads them (a row) or the ORM holds them (a ``File``)."""

    @property
    def id(self) -> int | None: ...
    @property
    def source_id(self) -> str: ...
    @property
    def relative_path(self) -> str: ...
    @property
    def current_hash(self) -> str | None: ...
    @property
    def state(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def version_count(self) -> int: ...
    @property
    def updated_at(self) -> datetime: ...


_LISTED = [
    col(File.id),
    col(File.source_id),
    col(File.relative_path),
    col(File.current_hash),
    col(File.state),
    col(File.content_type),
    col(File.size),
    col(File.version_count),
    col(File.updated_at),
]


@dataclass(frozen=True)
class FileRecord:
    source_id: str
    file: File
    content: str | None
    conflict_id: str | None
    encoding: str = "utf-8"
    """"base64" when the file is an attachment (``content`` is then its base64)."""


def open_conflict_id(session: Session, file: File) -> str | None:
    if file.state != "conflict":
        return None
    statement = select(Conflict.id).where(Conflict.file_id == file.id, Conflict.status == "open")
    return session.exec(statement).first()


def get_file(
    session: Session, workspace_id: str, source_id: str, path: object, accept_binary: bool = False
) -> FileRecord:
    """The file with its content; an attachment only for a reader that asked for bytes.

    A reader that did not ask gets ``BINARY_CONTENT`` rather than base64 in a
    field it takes for text.
    """
    source = get_source(session, workspace_id, source_id)
    file = find_file(session, source.id, lookup_path(path))
    if file is None:
        raise NotFound("file not found", "FILE_NOT_FOUND")
    stored = load_stored(session, file.current_hash)
    conflict_id = open_conflict_id(session, file)
    if stored is None or not stored.binary:
        content = stored.content if stored is not None else None
        return FileRecord(source.id, file, content, conflict_id)
    if not accept_binary:
        raise StateConflict(
            f"{file.relative_path} is an attachment ({file.size} bytes); "
            'ask with acceptEncodings ["base64"] to receive its bytes',
            "BINARY_CONTENT",
        )
    return FileRecord(source.id, file, stored.content, conflict_id, stored.encoding)


def list_files(
    session: Session,
    workspace_id: str,
    source_id: str,
    *,
    prefix: str | None = None,
    state: str | None = None,
    include_deleted: bool = False,
    after: str | None = None,
    limit: int = 1000,
) -> list[FileView]:
    """Files ordered by path; ``after`` is the last path of the previous page.

    Rows of columns, not ORM objects: a page of thousands costs no identity map.
    """
    source = get_source(session, workspace_id, source_id)
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST_LIMIT}", "INVALID_LIMIT")
    statement = select(*_LISTED).where(File.source_id == source.id)
    if state is not None:
        if state not in STATES:
            raise InvalidInput(f"state must be one of {', '.join(STATES)}", "INVALID_STATE")
        statement = statement.where(File.state == state)
    elif not include_deleted:
        statement = statement.where(File.state != "deleted")
    if prefix:
        _path_bound(prefix, "prefix")
        statement = statement.where(col(File.relative_path).startswith(prefix, autoescape=True))
    if after:
        _path_bound(after, "after")
        statement = statement.where(col(File.relative_path) > after)
    statement = statement.order_by(col(File.relative_path)).limit(limit)
    return cast(list[FileView], list(session.execute(statement)))


def _path_bound(value: object, field: str) -> None:
    """A prefix or page bound longer than any path matches nothing; say so instead.

    Left unchecked, a long prefix becomes a LIKE pattern SQLite refuses as "too
    complex", which would read as a busy database rather than the client's mistake.
    """
    text = require_text(value, field)
    if len(text.encode("utf-8")) > MAX_PATH_BYTES:
        raise InvalidInput(f"{field} is longer than a path can be ({MAX_PATH_BYTES} bytes)")


@dataclass(frozen=True)
class History:
    source_id: str
    file: File
    versions: list[Version]
    contents: dict[str, str]
    has_more: bool
    """Whether older versions exist beyond this page."""
    pruned: set[int]
    """Ids of the versions on this page whose content retention removed."""
    binary: dict[str, str] = field(default_factory=dict)
    """Attachments on this page: hash -> base64 (empty strings when content was not asked)."""


def file_history(
    session: Session,
    workspace_id: str,
    source_id: str,
    path: object,
    *,
    limit: int = 100,
    before: int | None = None,
    with_content: bool = True,
) -> History:
    """Versions newest first; ``before`` is a version ``seq`` to page backwards from."""
    source = get_source(session, workspace_id, source_id)
    file = find_file(session, source.id, lookup_path(path))
    if file is None:
        raise NotFound("file not found", "FILE_NOT_FOUND")
    if not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_HISTORY_LIMIT}", "INVALID_LIMIT")
    statement = select(Version).where(Version.file_id == file.id)
    if before is not None:
        statement = statement.where(Version.seq < before)
    # One row past the page tells whether another page follows.
    rows = list(session.exec(statement.order_by(col(Version.seq).desc()).limit(limit + 1)))
    versions = rows[:limit]
    pruned = pruned_ids(session, [v.id for v in versions if v.id is not None])
    # A pruned version's hash may still name a kept blob (the same text came back
    # later); its own content is gone all the same, as the retention reads say.
    kept = [v.hash for v in versions if v.id not in pruned]
    if with_content:
        stored = load_stored_many(session, kept)
        contents = {h: s.content for h, s in stored.items() if not s.binary}
        binary = {h: s.content for h, s in stored.items() if s.binary}
    else:
        contents, binary = {}, dict.fromkeys(binary_hashes(session, kept), "")
    return History(source.id, file, versions, contents, len(rows) > limit, pruned, binary)
