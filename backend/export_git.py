"""A source's history as a git repository: one commit per version, through ``git fast-import``.

The export reads the database directly in one read-only snapshot (REPEATABLE
READ on PostgreSQL, one WAL read transaction on SQLite), so a history being
written meanwhile is exported as of one instant, never half a batch.

What a commit is:

- One commit per version, in the order versions were recorded in the source
  (their row id: writers of a source are serialised by its lock, so that is
  commit order). Author and committer are the version's author (connector name,
  "Raven" or "Local Sync", see :mod:`backend.services.authors`) with a stable
  ``@localsync.invalid`` address, dated when the server recorded the version, so
  exporting the same history twice gives the same commit ids.
- The tree is the source as it was current after that version. A version that
  did not become current (a side of a conflict, or a pushed edit the server
  merged into the next version) is a commit that changes no file; its message
  names the content's hash, which history keeps.
- A tombstone is a git delete. Moves are not recorded by the server yet; when
  they are, :func:`_file_change` is where a version becomes a git rename (``R``).

Incremental exports continue from the ``Local-Sync-Version-Id`` trailer of the
branch's newest commit: the cursor lives in the commit that fast-import writes
atomically with the ref, so an interrupted export is simply redone. The
repository's ``localsync.source`` config names the source it belongs to.
"""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import exists
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from backend.db import READ_ONLY
from backend.models import Blob, File, Source, Version
from backend.services.authors import author_email, author_name, connector_names
from backend.services.content import Stored

BRANCH = "refs/heads/main"
CURSOR_TRAILER = "Local-Sync-Version-Id"
SOURCE_CONFIG = "localsync.source"
CHUNK = 1000
"""Versions read (and blobs loaded) per query."""


class ExportRefused(Exception):
    """The export cannot start (unknown source, a directory that is not ours) or git failed."""


@dataclass(frozen=True)
class ExportReport:
    commits: int
    last_version_id: int | None
    notes: list[str]
    """What a person should know: paths git cannot hold, a working tree left alone."""


@dataclass(frozen=True)
class _Row:
    id: int
    seq: int
    hash: str | None
    origin: str
    created_at: datetime
    connector_id: str | None
    conflict_id: str | None
    operation_id: str | None
    path: str
    superseded: bool
    """A pushed edit the server merged into the file's next version."""


def export_git(engine: Engine, source_id: str, target: Path, *, incremental: bool) -> ExportReport:
    """Write the source's history (or what is new in it) into the repository at ``target``."""
    try:
        with snapshot(engine) as session:
            source = session.get(Source, source_id)
            if source is None:
                raise ExportRefused(f"unknown source id {source_id!r}")
            after = _prepare_target(target, source.id, incremental)
            stream = _Stream(session, source.id, continues=after is not None)
            old_head = _rev(target, BRANCH)
            with _fast_import(target) as sink:
                commits = stream.write(sink, after or 0)
    except SQLAlchemyError as exc:
        # Not migrated, unreachable, or not a Local Sync database at all.
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ExportRefused(f"cannot read the database: {reason}") from None
    notes = [f"not exported (git cannot hold the path): {path}" for path in stream.skipped]
    if commits:
        notes.extend(_update_worktree(target, old_head))
    return ExportReport(commits, stream.last_id, notes)


def _update_worktree(target: Path, old_head: str | None) -> list[str]:
    """Check the new commits out; files changed by hand in the export stay, with a note."""
    try:
        if old_head is None:
            _git(target, "read-tree", "-u", "--reset", BRANCH)
        else:
            _git(target, "read-tree", "-m", "-u", old_head, BRANCH)
    except ExportRefused as exc:
        return [f"the branch has the new commits but the working tree was left as it was: {exc}"]
    return []


@contextmanager
def snapshot(engine: Engine) -> Iterator[Session]:
    """One read-only transaction that sees the database as of one instant."""
    if engine.dialect.name == "postgresql":
        options: dict[str, Any] = {
            "isolation_level": "REPEATABLE READ",
            "postgresql_readonly": True,
        }
    else:
        options = {READ_ONLY: True}  # a deferred BEGIN: WAL keeps the first read's snapshot
    with Session(engine.execution_options(**options)) as session:
        try:
            yield session
        finally:
            session.rollback()


def _prepare_target(target: Path, source_id: str, incremental: bool) -> int | None:
    """Check or create the repository; the version id to continue after (None: from scratch)."""
    if target.exists() and not target.is_dir():
        raise ExportRefused(f"{target} is not a directory")
    if not target.exists() or not any(target.iterdir()):
        target.mkdir(parents=True, exist_ok=True)
        _git(target, "init", "-q", "-b", "main")
        _git(target, "config", SOURCE_CONFIG, source_id)
        return None
    if not _is_repository_root(target):
        raise ExportRefused(f"{target} is not empty and is not a git repository")
    owner = _config(target, SOURCE_CONFIG)
    head = _rev(target, BRANCH)
    if owner is None and not _git(target, "for-each-ref", "--count=1").strip():
        _git(target, "config", SOURCE_CONFIG, source_id)  # an empty repository someone made
        return None
    if owner is None:
        raise ExportRefused(f"{target} is a git repository that is not a Local Sync export")
    if owner != source_id:
        raise ExportRefused(f"{target} holds the export of another source ({owner})")
    if head is None:
        return None
    if not incremental:
        raise ExportRefused(f"{target} already holds this export; pass --incremental to add to it")
    value = _git(
        target, "log", "-1", f"--format=%(trailers:key={CURSOR_TRAILER},valueonly)", BRANCH
    )
    try:
        return int(value.strip())
    except ValueError:
        raise ExportRefused(f"{target}: the newest commit does not say what it exported") from None


def _is_repository_root(target: Path) -> bool:
    result = subprocess.run(
        ["git", "-C", str(target), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == target.resolve()


def _config(target: Path, key: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(target), "config", "--get", key],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _rev(target: Path, ref: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(target), "rev-parse", "--verify", "--quiet", ref],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _git(target: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(target), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ExportRefused(f"git {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


@contextmanager
def _fast_import(target: Path) -> Iterator[IO[bytes]]:
    """A ``git fast-import`` reading what is written; fails loudly if it refuses the stream."""
    process = subprocess.Popen(
        ["git", "-C", str(target), "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stderr is not None
    try:
        yield process.stdin
        process.stdin.write(b"done\n")
        process.stdin.close()
    except BaseException:
        process.kill()
        process.wait()
        raise
    errors = process.stderr.read().decode("utf-8", "replace")
    if process.wait() != 0:
        raise ExportRefused(f"git fast-import failed: {errors.strip()}")


class _Stream:
    """The fast-import commands for the source's versions after a given id, chunk by chunk."""

    def __init__(self, session: Session, source_id: str, *, continues: bool) -> None:
        self.session = session
        self.source_id = source_id
        self.continues = continues
        self.marks: dict[str, int] = {}
        self.names: dict[str, str] = {}
        self.last_id: int | None = None
        self.skipped: list[str] = []

    def write(self, sink: IO[bytes], after: int) -> int:
        commits = 0
        while True:
            rows = self._rows(after)
            if not rows:
                return commits
            self._load_names(rows)
            self._write_blobs(sink, rows)
            for row in rows:
                sink.write(self._commit(row, first=commits == 0))
                commits += 1
            after = self.last_id = rows[-1].id

    def _rows(self, after: int) -> list[_Row]:
        later = aliased(Version)
        superseded = (
            exists()
            .where(
                col(later.file_id) == col(Version.file_id),
                col(later.seq) == col(Version.seq) + 1,
                col(later.origin) == "merge",
                col(later.operation_id) == col(Version.operation_id),
            )
            .label("superseded")
        )
        statement = (
            sa_select(
                col(Version.id),
                col(Version.seq),
                col(Version.hash),
                col(Version.origin),
                col(Version.created_at),
                col(Version.connector_id),
                col(Version.conflict_id),
                col(Version.operation_id),
                col(File.relative_path),
                superseded,
            )
            .join(File, col(File.id) == col(Version.file_id))
            .where(col(File.source_id) == self.source_id, col(Version.id) > after)
            .order_by(col(Version.id))
            .limit(CHUNK)
        )
        # Plain rows, not ORM objects: the export reads every version of the source.
        return [
            _Row(
                id=r.id,
                seq=r.seq,
                hash=r.hash,
                origin=r.origin,
                created_at=r.created_at,
                connector_id=r.connector_id,
                conflict_id=r.conflict_id,
                operation_id=r.operation_id,
                path=r.relative_path,
                superseded=bool(r.superseded) and r.origin != "merge",
            )
            for r in self.session.execute(statement)
        ]

    def _load_names(self, rows: list[_Row]) -> None:
        wanted = {r.connector_id for r in rows if r.connector_id} - set(self.names)
        self.names.update(connector_names(self.session, wanted))

    def _write_blobs(self, sink: IO[bytes], rows: list[_Row]) -> None:
        """Each distinct content once per export, marked, before the commits that use it."""
        wanted = {r.hash for r in rows if r.hash and _becomes_current(r)} - set(self.marks)
        if not wanted:
            return
        statement = select(Blob.hash, Blob.content, Blob.encoding).where(col(Blob.hash).in_(wanted))
        for digest, content, encoding in self.session.exec(statement):
            mark = len(self.marks) + 1
            self.marks[digest] = mark
            data = Stored(content, encoding).data()  # an attachment's exact bytes
            sink.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n")

    def _commit(self, row: _Row, *, first: bool) -> bytes:
        name = author_name(row.origin, self.names.get(row.connector_id or ""))
        ident = f"{_clean_ident(name)} <{author_email(name)}> {_epoch(row.created_at)} +0000"
        message = _message(self.source_id, row).encode("utf-8")
        parts = [
            f"commit {BRANCH}\nauthor {ident}\ncommitter {ident}\n".encode(),
            b"data %d\n" % len(message) + message + b"\n",
        ]
        if first and self.continues:
            parts.append(f"from {BRANCH}^0\n".encode())
        change = self._file_change(row)
        if change:
            parts.append(change)
        parts.append(b"\n")
        return b"".join(parts)

    def _file_change(self, row: _Row) -> bytes:
        """The tree change of one version: a modify, a delete, or nothing (not current).

        Moves: once the server records a move, it becomes ``R <old> <new>`` here.
        """
        if not _becomes_current(row):
            return b""
        if _git_cannot_hold(row.path):
            if row.path not in self.skipped:
                self.skipped.append(row.path)  # git cannot hold it; history still does
            return b""
        path = _quote(row.path)
        if row.hash is None:
            return b"D " + path + b"\n"
        mark = self.marks.get(row.hash)
        if mark is None:  # content missing from the store: keep the commit, say so
            return b""
        return b"M 100644 :%d " % mark + path + b"\n"


def _git_cannot_hold(path: str) -> bool:
    """A path git refuses in a tree: a ``.git`` directory under any spelling a filesystem
    may fold to it (case, trailing dots or spaces, the NTFS short name)."""
    for part in path.split("/"):
        folded = part.lower().rstrip(". ")
        if folded in (".git", "git~1"):
            return True
    return False


def _becomes_current(row: _Row) -> bool:
    return row.conflict_id is None and not row.superseded


def _message(source_id: str, row: _Row) -> str:
    operation = row.operation_id or ""
    if row.conflict_id is not None:
        subject = f"Conflict side for {row.path} (not current)"
    elif row.superseded:
        subject = f"Pushed edit of {row.path}, merged in the next commit"
    elif operation.startswith("resolve:"):
        subject = f"Resolve conflict on {row.path}"
    elif operation.startswith("reopen:"):
        subject = f"Reopen conflict on {row.path}"
    elif row.hash is None:
        subject = f"Delete {row.path}"
    elif row.origin == "merge":
        subject = f"Merge {row.path}"
    else:
        subject = f"{'Create' if row.seq == 1 else 'Update'} {row.path}"
    trailers = [
        ("Local-Sync-Source", source_id),
        ("Local-Sync-Path", row.path),
        ("Local-Sync-File-Version", str(row.seq)),
        ("Local-Sync-Origin", row.origin),
        ("Local-Sync-Hash", row.hash or "deleted"),
    ]
    if row.operation_id:
        trailers.append(("Local-Sync-Operation", row.operation_id))
    if row.conflict_id:
        trailers.append(("Local-Sync-Conflict", row.conflict_id))
    trailers.append((CURSOR_TRAILER, str(row.id)))
    body = "\n".join(f"{key}: {_one_line(value)}" for key, value in trailers)
    return f"{subject}\n\n{body}\n"


def _one_line(value: str) -> str:
    """Trailers are one line each: control characters a client sent become spaces."""
    return "".join(" " if ord(c) < 0x20 or c == "\x7f" else c for c in value)


def _clean_ident(name: str) -> str:
    """An author name git accepts: no angle brackets or line breaks."""
    cleaned = "".join(c for c in _one_line(name) if c not in "<>").strip()
    return cleaned or "unnamed"


def _epoch(moment: datetime) -> int:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(aware.timestamp())


def _quote(path: str) -> bytes:
    """A C-style quoted path, as fast-import reads any path (spaces, quotes, non-ASCII)."""
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return b'"' + escaped.encode("utf-8") + b'"'
