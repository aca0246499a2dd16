"""The durable local journal: SQLite in ``DIR/.localsync/journal.db``.

Everything the connector has not yet delivered lives here before it goes on the
wire, so a crash, ``kill -9`` or server outage loses nothing: an operation is
written (with its content, its stable ``operationId`` and the base hash the edit
was made on) in a committed transaction before it is pushed, and marked done
only after the server answered. Replaying an operation is harmless because the
server records operation ids and answers ``duplicate``.
"""

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from connector.collector import collector_paused

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    base_hash TEXT NOT NULL,      -- hash of the local content when last in sync (next push's base)
    remote_hash TEXT,             -- server's current hash as last seen
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT -1,
    conflict_id TEXT,
    rejected_hash TEXT,           -- content the server refused; not re-pushed until it changes
    inode INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    is_delete INTEGER NOT NULL,
    content TEXT,
    content_hash TEXT,
    base_hash TEXT,
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT -1,
    inode INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ops_path ON ops(path);
"""

_ADDED_COLUMNS = (
    ("files", "inode INTEGER NOT NULL DEFAULT 0"),
    ("ops", "inode INTEGER NOT NULL DEFAULT 0"),
)
"""Columns newer than a journal may be; added on open (their default means "unknown")."""


COMPACT_MIN_FREE_PAGES = 256
"""Free pages (4 KiB each) below which compacting is not worth a rewrite."""


class JournalCorrupt(Exception):
    """The journal file exists but cannot be read as our database."""


class FileRow(NamedTuple):
    """A tuple, not a dataclass: a scan builds one per synced file, and tuples build fast."""

    path: str
    base_hash: str
    remote_hash: str | None
    mtime_ns: int
    size: int
    conflict_id: str | None
    rejected_hash: str | None
    inode: int = 0


_PATH = itemgetter(0)
_AS_FILE_ROW = partial(tuple.__new__, FileRow)
"""A selected row as a ``FileRow`` (same columns, same order), built in C."""


@dataclass(frozen=True)
class Op:
    seq: int
    op_id: str
    path: str
    is_delete: bool
    content: str | None
    content_hash: str | None
    base_hash: str | None
    mtime_ns: int
    size: int
    attempts: int
    next_try: float
    last_error: str | None
    inode: int = 0


@dataclass(frozen=True)
class NewOp:
    """An operation about to be journaled; the id is minted once and never changes."""

    path: str
    is_delete: bool
    content: str | None
    content_hash: str | None
    base_hash: str | None
    mtime_ns: int = 0
    size: int = -1
    inode: int = 0


class Journal:
    """One SQLite connection; every public write is its own committed transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        existed = path.exists()
        self.fresh = not existed
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if existed:
                row = self.db.execute("PRAGMA quick_check").fetchone()
                if row is None or row[0] != "ok":
                    raise JournalCorrupt(f"integrity check failed: {row}")
            self.db.executescript(_SCHEMA)
            self._add_columns()
            if existed and self.get_meta("schema") != SCHEMA_VERSION:
                raise JournalCorrupt("journal has no schema marker")
            self.set_meta("schema", SCHEMA_VERSION)
        except sqlite3.DatabaseError as exc:
            raise JournalCorrupt(str(exc)) from exc

    def _add_columns(self) -> None:
        for table, column in _ADDED_COLUMNS:
            names = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column.split()[0] not in names:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ---- meta ---------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value``; an unchanged value is not written, so a run that changes
        nothing (the usual rerun) writes nothing to the journal."""
        if self.get_meta(key) == value:
            return
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def cursor(self) -> int:
        return int(self.get_meta("cursor") or 0)

    def set_cursor(self, value: int) -> None:
        self.set_meta("cursor", str(value))

    # ---- files --------------------------------------------------------------

    def files(self) -> dict[str, FileRow]:
        """Every file row by path, built without a Python call per row (a scan reads them
        all: ten thousand rows this way cost a few milliseconds)."""
        with collector_paused():
            rows = self.db.execute(
                "SELECT path, base_hash, remote_hash, mtime_ns, size, conflict_id, "
                "rejected_hash, inode FROM files"
            ).fetchall()
            return dict(zip(map(_PATH, rows), map(_AS_FILE_ROW, rows), strict=True))

    def file(self, path: str) -> FileRow | None:
        r = self.db.execute(
            "SELECT path, base_hash, remote_hash, mtime_ns, size, conflict_id, rejected_hash, "
            "inode FROM files WHERE path = ?",
            (path,),
        ).fetchone()
        return None if r is None else FileRow(*r)

    def set_file(
        self,
        path: str,
        base_hash: str,
        remote_hash: str | None,
        mtime_ns: int,
        size: int,
        conflict_id: str | None = None,
        inode: int = 0,
    ) -> None:
        """Record ``path`` as in sync; ``inode`` 0 means unknown (the next scan hashes it)."""
        self.db.execute(
            "INSERT INTO files(path, base_hash, remote_hash, mtime_ns, size, conflict_id, inode) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
            "base_hash = excluded.base_hash, remote_hash = excluded.remote_hash, "
            "mtime_ns = excluded.mtime_ns, size = excluded.size, inode = excluded.inode, "
            "conflict_id = excluded.conflict_id, rejected_hash = NULL",
            (path, base_hash, remote_hash, mtime_ns, size, conflict_id, inode),
        )

    def set_remote(self, path: str, remote_hash: str | None) -> None:
        self.db.execute("UPDATE files SET remote_hash = ? WHERE path = ?", (remote_hash, path))

    def set_conflict(self, path: str, conflict_id: str | None) -> None:
        self.db.execute("UPDATE files SET conflict_id = ? WHERE path = ?", (conflict_id, path))

    def set_stat(self, path: str, mtime_ns: int, size: int, inode: int) -> None:
        self.db.execute(
            "UPDATE files SET mtime_ns = ?, size = ?, inode = ? WHERE path = ?",
            (mtime_ns, size, inode, path),
        )

    def set_rejected(self, path: str, rejected_hash: str | None) -> None:
        self.db.execute(
            "INSERT INTO files(path, base_hash, rejected_hash) VALUES (?, '', ?) "
            "ON CONFLICT(path) DO UPDATE SET rejected_hash = excluded.rejected_hash",
            (path, rejected_hash),
        )

    def drop_file(self, path: str) -> None:
        self.db.execute("DELETE FROM files WHERE path = ?", (path,))

    def conflicts(self) -> dict[str, str]:
        rows = self.db.execute("SELECT path, conflict_id FROM files WHERE conflict_id IS NOT NULL")
        return {str(r[0]): str(r[1]) for r in rows}

    # ---- operations ----------------------------------------------------------

    def add_ops(self, ops: Iterable[NewOp]) -> list[str]:
        """Journal ``ops`` in one committed transaction; returns their operation ids."""
        with self.transaction():
            return self.insert_ops(ops)

    def insert_ops(self, ops: Iterable[NewOp]) -> list[str]:
        """Journal ``ops`` inside the caller's transaction; returns their operation ids."""
        import uuid  # only runs that have changes to journal pay for the import

        now = time.time()
        ids: list[str] = []
        for op in ops:
            op_id = f"op-{uuid.uuid4()}"
            ids.append(op_id)
            self.db.execute(
                "INSERT INTO ops(op_id, path, is_delete, content, content_hash, base_hash, "
                "mtime_ns, size, inode, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    op_id,
                    op.path,
                    int(op.is_delete),
                    op.content,
                    op.content_hash,
                    op.base_hash,
                    op.mtime_ns,
                    op.size,
                    op.inode,
                    now,
                ),
            )
        return ids

    def pending(self, due_before: float | None = None) -> list[Op]:
        sql = (
            "SELECT seq, op_id, path, is_delete, content, content_hash, base_hash, mtime_ns, "
            "size, attempts, next_try, last_error, inode FROM ops"
        )
        args: tuple[float, ...] = ()
        if due_before is not None:
            sql += " WHERE next_try <= ?"
            args = (due_before,)
        rows = self.db.execute(sql + " ORDER BY seq", args)
        return [
            Op(
                r[0],
                r[1],
                r[2],
                bool(r[3]),
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
                r[10],
                r[11],
                r[12],
            )
            for r in rows
        ]

    def pending_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM ops").fetchone()[0])

    def latest_ops(self) -> dict[str, Op]:
        """The newest pending operation of each path (what the server will soon hold)."""
        return {op.path: op for op in self.pending()}

    def finish_op(self, op_id: str) -> None:
        self.db.execute("DELETE FROM ops WHERE op_id = ?", (op_id,))

    def retry_later(self, op_ids: Iterable[str], delay: float, error: str) -> None:
        now = time.time()
        with self.transaction():
            for op_id in op_ids:
                self.db.execute(
                    "UPDATE ops SET attempts = attempts + 1, next_try = ?, last_error = ? "
                    "WHERE op_id = ?",
                    (now + delay, error, op_id),
                )

    def compact(self) -> bool:
        """Give back the space of delivered operations once nothing is pending.

        A first upload journals every file's content and then drops it as the server
        answers, which leaves a journal of mostly free pages; every later open checks
        the whole file, so a no-op run would keep paying for a past upload. Returns
        whether the file was rewritten.
        """
        pages = int(self.db.execute("PRAGMA page_count").fetchone()[0])
        free = int(self.db.execute("PRAGMA freelist_count").fetchone()[0])
        if free < COMPACT_MIN_FREE_PAGES or free * 2 < pages or self.pending_count():
            return False
        self.db.execute("VACUUM")
        return True

    def due_now(self) -> None:
        """Make every waiting operation due (the reason it waited has gone away)."""
        self.db.execute("UPDATE ops SET next_try = 0 WHERE next_try > 0")
