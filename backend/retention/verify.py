"""The no-loss audit: everything history promises to keep is really there.

Run against a live database without blocking it: one read-only snapshot
transaction (REPEATABLE READ on PostgreSQL; a WAL read transaction on SQLite,
which never blocks writers), with every large table read in keyset pages so
memory stays flat. A breach is reported, never repaired: the audit writes
nothing.

What is checked:

- every blob's content hashes to its name (sha256 of its bytes: the UTF-8 of a
  text, the decoded base64 of an attachment);
- every version that was not pruned has its blob, and that blob is sound;
- every file's current hash is its newest version (sides of an open conflict
  aside) and its content is stored;
- every deleted file ends in a tombstone and has content history before it;
- every open conflict's base, local and remote sides are readable (a base the
  file's kept history does not hold was never a true base, and is counted);
- every source's event cursors run 1..last_cursor without a gap.
"""

import binascii
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from sqlalchemy import bindparam, inspect, text
from sqlalchemy.engine import Connection, Engine

from backend.db import READ_ONLY
from backend.services.content import Stored

PAGE = 1000
BLOB_PAGE = 100
"""Blobs per page: each may be megabytes, and the page is held in memory."""
GAPS_LISTED = 20


@dataclass(frozen=True)
class Breach:
    kind: str
    """missing_blob, corrupt_blob, current_not_newest, current_missing, no_history,
    tombstone_without_history, conflict_side_unreadable, cursor_gap."""
    detail: str


@dataclass
class VerifyReport:
    counts: dict[str, int] = field(default_factory=dict)
    breaches: list[Breach] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.breaches

    def count(self, name: str, by: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + by

    def breach(self, kind: str, detail: str) -> None:
        self.breaches.append(Breach(kind, detail))


def verify(engine: Engine) -> VerifyReport:
    """Audit the whole database in one read-only snapshot."""
    report = VerifyReport()
    started = perf_counter()
    with _snapshot(engine) as conn:
        pruned_table = inspect(conn).has_table("version_prunes")
        corrupt = _check_blobs(conn, report)
        _check_versions(conn, report, corrupt, pruned_table)
        _check_files(conn, report, corrupt)
        _check_conflicts(conn, report, corrupt, pruned_table)
        _check_cursors(conn, report)
    report.seconds = perf_counter() - started
    return report


class _snapshot:
    """A read-only transaction that sees one consistent state of the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None

    def __enter__(self) -> Connection:
        if self.engine.dialect.name == "postgresql":
            bind = self.engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        else:
            bind = self.engine.execution_options(**{READ_ONLY: True})
        self.conn = bind.connect()
        self.conn.begin()
        return self.conn

    def __exit__(self, *_: object) -> None:
        assert self.conn is not None
        self.conn.rollback()
        self.conn.close()


def _pages(
    conn: Connection, sql: str, key: Callable[[Any], Any], start: Any, size: int = PAGE
) -> Iterator[Any]:
    """Rows of ``sql`` (which filters ``> :after``, orders by the key, ``LIMIT :size``)."""
    after = start
    while True:
        rows = conn.execute(text(sql), {"after": after, "size": size}).all()
        yield from rows
        if len(rows) < size:
            return
        after = key(rows[-1])


def _check_blobs(conn: Connection, report: VerifyReport) -> set[str]:
    corrupt: set[str] = set()
    sql = "SELECT hash, content, encoding FROM blobs WHERE hash > :after ORDER BY hash LIMIT :size"
    for digest, content, encoding in _pages(conn, sql, lambda r: r[0], "", BLOB_PAGE):
        try:
            data = Stored(content, encoding).data()
        except (binascii.Error, ValueError):
            data = b""  # undecodable base64 cannot hash to its name: reported as corrupt
        report.count("blobs")
        report.count("blob_bytes", len(data))
        if hashlib.sha256(data).hexdigest() != digest:
            corrupt.add(digest)
            report.breach("corrupt_blob", f"blob {digest} does not hash to its name")
    return corrupt


def _check_versions(
    conn: Connection, report: VerifyReport, corrupt: set[str], pruned_table: bool
) -> None:
    pruned = "p.version_id IS NOT NULL" if pruned_table else "0 = 1"
    join = "LEFT JOIN version_prunes p ON p.version_id = v.id" if pruned_table else ""
    sql = (
        f"SELECT v.id, f.source_id, f.relative_path, v.seq, v.hash, b.hash IS NOT NULL, {pruned} "
        "FROM versions v JOIN files f ON f.id = v.file_id"
        f" LEFT JOIN blobs b ON b.hash = v.hash {join} "
        "WHERE v.id > :after ORDER BY v.id LIMIT :size"
    )
    for _, source_id, path, seq, digest, stored, is_pruned in _pages(conn, sql, lambda r: r[0], 0):
        if digest is None:
            report.count("tombstones")
            continue
        if is_pruned:
            report.count("versions_pruned")
            continue
        report.count("versions")
        where = f"source {source_id} file {path!r} version {seq}"
        if not stored:
            report.breach("missing_blob", f"{where}: content {digest} is not stored")
        elif digest in corrupt:
            report.breach("corrupt_blob", f"{where}: content {digest} does not match its hash")


def _check_files(conn: Connection, report: VerifyReport, corrupt: set[str]) -> None:
    sql = (
        "SELECT f.id, f.source_id, f.relative_path, f.current_hash, b.hash IS NOT NULL "
        "FROM files f LEFT JOIN blobs b ON b.hash = f.current_hash "
        "WHERE f.id > :after ORDER BY f.id LIMIT :size"
    )
    page: list[Any] = []
    for row in _pages(conn, sql, lambda r: r[0], 0):
        page.append(row)
        if len(page) == PAGE:
            _files_page(conn, report, corrupt, page)
            page = []
    if page:
        _files_page(conn, report, corrupt, page)


def _files_page(
    conn: Connection, report: VerifyReport, corrupt: set[str], files: list[Any]
) -> None:
    ids = {"ids": [f[0] for f in files]}
    newest: dict[int, str | None] = dict(
        conn.execute(
            text(
                "SELECT v.file_id, v.hash FROM versions v JOIN ("
                " SELECT file_id, MAX(seq) AS seq FROM versions"
                " WHERE file_id IN :ids AND conflict_id IS NULL GROUP BY file_id"
                ") n ON n.file_id = v.file_id AND n.seq = v.seq"
            ).bindparams(_expanding()),
            ids,
        ).all()
    )
    with_content: dict[int, int] = dict(
        conn.execute(
            text(
                "SELECT file_id, COUNT(*) FROM versions"
                " WHERE file_id IN :ids AND hash IS NOT NULL GROUP BY file_id"
            ).bindparams(_expanding()),
            ids,
        ).all()
    )
    for file_id, source_id, path, current, stored in files:
        report.count("files")
        where = f"source {source_id} file {path!r}"
        if file_id not in newest:
            report.breach("no_history", f"{where}: no version in its history")
            continue
        if current is None:
            report.count("deleted_files")
            if newest[file_id] is not None or not with_content.get(file_id):
                report.breach(
                    "tombstone_without_history",
                    f"{where}: deleted, but its history has no delete after content",
                )
            continue
        if newest[file_id] != current:
            report.breach(
                "current_not_newest",
                f"{where}: current hash {current} is not its newest version ({newest[file_id]})",
            )
        if not stored:
            report.breach("current_missing", f"{where}: current content {current} is not stored")
        elif current in corrupt:
            report.breach("corrupt_blob", f"{where}: current content {current} is corrupt")


def _expanding() -> Any:
    return bindparam("ids", expanding=True)


def _check_conflicts(
    conn: Connection, report: VerifyReport, corrupt: set[str], pruned_table: bool
) -> None:
    sql = (
        "SELECT c.id, c.relative_path, c.base_hash, c.local_hash, c.remote_hash,"
        " b.hash IS NOT NULL, l.hash IS NOT NULL, r.hash IS NOT NULL, c.file_id "
        "FROM conflicts c LEFT JOIN blobs b ON b.hash = c.base_hash"
        " LEFT JOIN blobs l ON l.hash = c.local_hash LEFT JOIN blobs r ON r.hash = c.remote_hash "
        "WHERE c.status = 'open' AND c.id > :after ORDER BY c.id LIMIT :size"
    )
    for row in _pages(conn, sql, lambda r: r[0], ""):
        conflict_id, path = row[0], row[1]
        report.count("open_conflicts")
        for side, digest, stored in zip(
            ("base", "local", "remote"), row[2:5], row[5:8], strict=True
        ):
            if digest is None:
                continue
            if side == "base" and not _kept_in_history(conn, row[8], digest, pruned_table):
                # A base the file never had, or whose versions retention pruned before
                # the conflict opened: the conflict was opened without a true base.
                report.count("open_conflicts_without_stored_base")
                continue
            if not stored or digest in corrupt:
                report.breach(
                    "conflict_side_unreadable",
                    f"conflict {conflict_id} on {path!r}: {side} {digest} is not readable",
                )


def _kept_in_history(conn: Connection, file_id: int, digest: str, pruned_table: bool) -> bool:
    """Whether a version of the file holds ``digest`` and was not pruned."""
    kept = (
        " AND NOT EXISTS (SELECT 1 FROM version_prunes p WHERE p.version_id = v.id)"
        if pruned_table
        else ""
    )
    sql = f"SELECT 1 FROM versions v WHERE v.file_id = :f AND v.hash = :h{kept} LIMIT 1"
    return conn.execute(text(sql), {"f": file_id, "h": digest}).first() is not None


def _check_cursors(conn: Connection, report: VerifyReport) -> None:
    sql = (
        "SELECT s.id, s.last_cursor, COUNT(e.cursor), MIN(e.cursor), MAX(e.cursor) "
        "FROM sources s LEFT JOIN events e ON e.source_id = s.id "
        "WHERE s.id > :after GROUP BY s.id, s.last_cursor ORDER BY s.id LIMIT :size"
    )
    for source_id, last, count, low, high in _pages(conn, sql, lambda r: r[0], ""):
        report.count("sources")
        report.count("events", count)
        if count == last and (count == 0 or (low == 1 and high == last)):
            continue
        missing = _gaps(conn, source_id, last)
        shown = ", ".join(str(c) for c in missing[:GAPS_LISTED])
        more = f" and {len(missing) - GAPS_LISTED} more" if len(missing) > GAPS_LISTED else ""
        report.breach(
            "cursor_gap",
            f"source {source_id}: {count} events for cursors 1..{last};"
            f" missing {shown or 'none'}{more}"
            + (f"; beyond last_cursor up to {high}" if high and high > last else ""),
        )


def _gaps(conn: Connection, source_id: str, last: int) -> list[int]:
    """The cursors in 1..last with no event, read in pages."""
    missing: list[int] = []
    expected = 1
    sql = (
        "SELECT cursor FROM events WHERE source_id = :source AND cursor > :after"
        " ORDER BY cursor LIMIT :size"
    )
    after = 0
    while expected <= last:
        rows = conn.execute(text(sql), {"source": source_id, "after": after, "size": PAGE}).all()
        for row in rows:
            cursor = int(row[0])
            missing.extend(range(expected, min(cursor, last + 1)))
            expected = max(expected, cursor + 1)
        if len(rows) < PAGE:
            break
        after = rows[-1][0]
    missing.extend(range(expected, last + 1))
    return missing
