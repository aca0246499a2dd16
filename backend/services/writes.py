"""The rows one locked write of a source changes, written one statement per table.

A batch's decisions are taken on :class:`FileRow` columns, not ORM objects, and
its rows are collected here, then written once: new files in one INSERT (ids
returned), changed files in one executemany UPDATE, blobs, versions, events and
operations in one executemany each (:func:`backend.db.write_deferred`), with
timestamps pre-formatted so no value goes through a bind processor. The source
row (cursor and file count) is the one ORM object; it is written once at commit.

A file that needs the rare paths (opening or extending a conflict) is handed to
the ORM with :meth:`Changes.materialize`, after which the ORM object is the one
written for it.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from backend.db import (
    analyze_after_commit,
    db_time,
    defer_insert,
    insert_rows,
    update_rows,
    write_deferred,
)
from backend.models import Blob, File, Operation, Source, Version
from backend.services.events import EventRun
from backend.services.files import FileRow

_FILES = File.__table__  # type: ignore[attr-defined]


class Changes:
    """What a locked write appends and changes; none of it is written before :meth:`write`."""

    def __init__(self, session: Session, source: Source, now: datetime) -> None:
        self.session = session
        self.source = source
        self.now = db_time(now)
        self.events = EventRun(session, source, self.now)
        self.files: dict[str, FileRow] = {}
        self._blobs: dict[str, dict[str, Any]] = {}
        self._versions: list[tuple[FileRow, dict[str, Any]]] = []
        self._operations: list[dict[str, Any]] = []
        self._counted = 0
        """File-count change of files handed to the ORM, up to the hand-over."""
        self.moved: list[tuple[int, str, str]] = []
        """Files moved by this write (services/moves.py): id, old path, new path."""

    def new_file(self, path: str, content_type: str) -> FileRow:
        file = FileRow(None, path, None, "deleted", content_type, 0, 0, was_live=False, dirty=True)
        self.files[path] = file
        return file

    def blob(self, digest: str, content: str, size: int, encoding: str = "utf-8") -> None:
        row = {"hash": digest, "content": content, "size": size, "encoding": encoding}
        self._blobs.setdefault(digest, row)

    def version(
        self,
        file: FileRow,
        *,
        digest: str | None,
        size: int,
        origin: str,
        operation_id: str | None,
        connector_id: str | None,
        moved_from: str | None = None,
    ) -> None:
        file.version_count += 1
        file.dirty = True
        row = {
            "seq": file.version_count,
            "hash": digest,
            "origin": origin,
            "size": size,
            "operation_id": operation_id,
            "connector_id": connector_id,
            "conflict_id": None,
            "moved_from": moved_from,
            "created_at": self.now,
        }
        self._versions.append((file, row))

    def set_current(
        self, file: FileRow, digest: str | None, size: int, content_type: str | None = None
    ) -> None:
        file.current_hash = digest
        file.size = size if digest else 0
        file.state = "ok" if digest else "deleted"
        if content_type:
            file.content_type = content_type
        file.dirty = True

    def event(self, type_: str, path: str | None, payload: dict[str, Any]) -> int:
        """Append an event; the caller holds the source's lock, so cursors stay gapless."""
        return self.events.append(type_, path, payload)

    def operation(self, row: dict[str, Any]) -> None:
        self._operations.append(row | {"source_id": self.source.id, "created_at": self.now})

    def materialize(self, file: FileRow) -> File:
        """The file as an ORM object, its pending columns written first (rare paths only).

        The ORM paths emit through the source row, so the batch's cursor count is
        settled into it first: their events follow this batch's so far.
        """
        self.events.settle()
        if file.orm is not None:
            return file.orm
        if file.id is None:
            self._insert_files([file])
        elif file.dirty:
            update_rows(self.session, _FILES, [self._file_values(file)])
        file.dirty = False
        # From here the ORM counts the file's state changes (see files._count_orm_files).
        self._counted += file.live - file.was_live
        orm = self.session.get(File, file.id, populate_existing=True)
        assert orm is not None
        file.orm = orm
        return orm

    def write(self) -> None:
        """Write everything collected, one statement per table, and the source's counters."""
        self.events.settle()
        self._write_paths()
        fresh = [f for f in self.files.values() if f.id is None and f.orm is None]
        self._insert_files(fresh)
        changed = [self._file_values(f) for f in self.files.values() if f.dirty and f.orm is None]
        update_rows(self.session, _FILES, changed)
        for blob in self._blobs.values():
            defer_insert(self.session, Blob, blob, ignore_existing=True)
        for file, row in self._versions:
            defer_insert(self.session, Version, row | {"file_id": file.id})
        for operation in self._operations:
            defer_insert(self.session, Operation, operation)
        write_deferred(self.session)
        for file in self.files.values():
            if file.orm is not None:
                _refresh(file, file.orm)
        mine = [f for f in self.files.values() if f.orm is None]
        delta = self._counted + sum(f.live - f.was_live for f in mine)
        if delta:
            before = self.source.file_count
            self.source.file_count += delta
            if _doubled(before, self.source.file_count):
                analyze_after_commit(self.session)
        self._counted = 0
        self.session.add(self.source)
        self._blobs, self._versions, self._operations = {}, [], []

    def _write_paths(self) -> None:
        """Moved files' new paths, before a new file may take one they left.

        One statement; but when a file takes a path another one leaves in the same
        write, one per move in order, as one statement's row order is not defined
        (PostgreSQL checks the unique path on each row).
        """
        moved, self.moved = self.moved, []
        rows = [{"id": i, "relative_path": new} for i, _, new in moved]
        if {new for _, _, new in moved} & {old for _, old, _ in moved}:
            for row in rows:
                update_rows(self.session, _FILES, [row])
        else:
            update_rows(self.session, _FILES, rows)

    def _insert_files(self, files: list[FileRow]) -> None:
        if not files:
            return
        rows = [
            {
                "source_id": self.source.id,
                "relative_path": f.relative_path,
                "current_hash": f.current_hash,
                "state": f.state,
                "content_type": f.content_type,
                "size": f.size,
                "version_count": f.version_count,
                "created_at": self.now,
                "updated_at": self.now,
            }
            for f in files
        ]
        returned = insert_rows(self.session, _FILES, rows, returning=("relative_path", "id"))
        ids: dict[str, int] = {r.relative_path: r.id for r in returned}
        for file in files:
            file.id = ids[file.relative_path]
            file.dirty = False

    def _file_values(self, file: FileRow) -> dict[str, Any]:
        return {
            "id": file.id,
            "current_hash": file.current_hash,
            "state": file.state,
            "content_type": file.content_type,
            "size": file.size,
            "version_count": file.version_count,
            "updated_at": self.now,
        }


def _refresh(file: FileRow, orm: File) -> None:
    file.current_hash, file.state, file.size = orm.current_hash, orm.state, orm.size
    file.version_count, file.content_type = orm.version_count, orm.content_type


ANALYZE_FROM = 1024
"""Statistics are refreshed each time a source's file count doubles from here on."""


def _doubled(before: int, after: int) -> bool:
    """Whether the count crossed ANALYZE_FROM times a power of two."""
    if after < ANALYZE_FROM or after <= before:
        return False
    return max(before, 1).bit_length() < after.bit_length() or before < ANALYZE_FROM
