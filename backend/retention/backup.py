"""Online backups of the SQLite database, and a restore that refuses a live one.

``backup`` uses SQLite's own backup API in one step: it reads a single
snapshot (in WAL mode a reader never blocks writers), so the copy is
consistent while the server keeps accepting pushes. ``restore`` writes through
the same API into the database file, which keeps SQLite's WAL bookkeeping
right where a file copy would not, and only after checking the backup; the
replaced database is itself backed up first, so a restore loses nothing.

A running server holds a shared lock on ``<database>.server`` (see
:class:`ServerPresence`); restore takes it exclusively, without waiting, and
refuses if any server holds it. The operating system drops the lock when a
server process dies, so a crash never leaves a stale mark.

PostgreSQL has its own tools (``pg_dump``/``pg_restore``); see :data:`PG_ADVICE`.
"""

import fcntl
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from backend.settings import Settings

PG_ADVICE = """\
This database is PostgreSQL: back it up and restore it with PostgreSQL's tools.
  backup:   pg_dump --format=custom --file=localsync.dump "$DATABASE_URL"
  restore:  stop every Local Sync server, then
            pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" localsync.dump
  then:     localsync verify
pg_dump reads one consistent snapshot and does not block writers, so it is safe
while servers run. (Use a libpq URL: postgresql://..., without "+psycopg".)"""


class BackupError(Exception):
    """Why a backup or restore did not happen; the message is for the operator."""


def sqlite_path(settings: Settings) -> Path | None:
    """The database file, or None when the database is not a SQLite file."""
    url = make_url(settings.resolved_database_url())
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return Path(name)


@dataclass
class ServerPresence:
    """A running server's shared lock on ``<database>.server`` (SQLite files only)."""

    handle: IO[bytes] | None

    @classmethod
    def hold(cls, settings: Settings) -> "ServerPresence":
        path = sqlite_path(settings)
        if path is None:
            return cls(None)
        handle = open(_mark(path), "ab")  # noqa: SIM115  (held for the server's life)
        fcntl.flock(handle, fcntl.LOCK_SH)
        return cls(handle)

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing drops the lock
            self.handle = None


def _mark(path: Path) -> Path:
    return path.with_name(path.name + ".server")


def backup(settings: Settings, target: Path) -> int:
    """Copy a consistent snapshot of the live database to ``target``; returns its size.

    The copy is written beside ``target`` and renamed into place, so a failed
    backup never leaves a half-written file under the final name.
    """
    source = require_sqlite(settings)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    target = target.resolve()
    if target == source.resolve():
        raise BackupError("the backup file cannot be the database itself")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy(source, partial)
    check_integrity(partial)
    os.replace(partial, target)
    return target.stat().st_size


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)  # pages=-1: all in one step, one snapshot
        # A self-contained file: no -wal beside it to forget when copying it around.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def check_integrity(path: Path) -> None:
    """Refuse a file that is not a sound SQLite database."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from None
    if result is None or result[0] != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")
    if not {"sources", "versions", "blobs"} <= tables:
        raise BackupError(f"{path} is not a Local Sync database")


def read_only_engine(path: Path) -> Engine:
    """An engine that can only read ``path``: auditing a backup leaves it byte for byte."""
    return create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")


def restore(settings: Settings, backup_file: Path) -> Path | None:
    """Replace the database with ``backup_file``; returns where the old one was saved.

    Refuses while a server uses the database. The caller checks the backup's
    content (``localsync verify``) before calling; integrity is checked here.
    """
    target = require_sqlite(settings)
    check_integrity(backup_file)
    with _exclusive(target):
        saved = None
        if target.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            saved = target.with_name(f"{target.name}.before-restore-{stamp}")
            _copy(target, saved)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=0)
        try:
            dst.execute("PRAGMA journal_mode=WAL")
            with dst:
                src.backup(dst)
        except sqlite3.OperationalError as exc:
            raise BackupError(f"the database is in use ({exc}); stop the server first") from None
        finally:
            dst.close()
            src.close()
    return saved


class _exclusive:
    """Hold ``<database>.server`` exclusively, or refuse: a server is running."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> None:
        self.database.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(_mark(self.database), "ab")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise BackupError(
                f"a Local Sync server is using {self.database}; stop it before restoring"
            ) from None

    def __exit__(self, *_: object) -> None:
        if self.handle is not None:
            self.handle.close()


def require_sqlite(settings: Settings) -> Path:
    path = sqlite_path(settings)
    if path is None:
        raise BackupError(PG_ADVICE)
    return path
