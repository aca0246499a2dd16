"""Garbage collection: apply each source's retention policy and free unused blobs.

A version retention gives up is marked in ``version_prunes``; its row stays
(seq, hash, origin, time), so history numbering, the events that mention it and
the audit trail keep their meaning. Only its blob goes, and only once nothing
else uses that content: no kept version of any file, no file's current
content, no open conflict.

Work is cut into small batches of files, one short transaction each. Each
batch holds the source's lock (the row lock pushes take; on SQLite the
database write lock) so the state that protects versions (current content,
open conflicts, pins) cannot change under it, and releases it at commit, so a
push waits at most one batch. The batch size adapts to keep each transaction
near :data:`TARGET_LOCK_SECONDS`.

On PostgreSQL, blobs are freed after that, in transactions of their own
(:func:`_sweep`): whether a blob is still used is a question about every
source, which the source's lock does not settle, and the blob table lock it
needs can wait behind autovacuum or other pushes. Waiting for it with the
source locked stalled the source's pushes; waiting with nothing else held, and
for at most :data:`SWEEP_LOCK_TIMEOUT_MS`, stalls nobody. A sweep that loses is
retried; what a run leaves behind (or a crash between the two transactions) is
found by the next run's :func:`_leftovers`. On SQLite the source lock is the
database write lock a sweep would need anyway, so a batch frees its blobs itself.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Event
from time import perf_counter, sleep, thread_time
from typing import Any, TypeVar

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from sqlmodel.sql.sqltypes import UTCDateTime

from backend.models import utcnow
from backend.retention.policies import stored
from backend.retention.policy import KEEP_ALL, Entry, Policy, Timeline, keep
from backend.retention.tables import RetentionPolicy, VersionPrune

TARGET_LOCK_SECONDS = 0.02
"""Aim for each batch's transaction (the bound is 50 ms); batches shrink and grow around it."""
MIN_BATCH_FILES = 1
MAX_BATCH_FILES = 200
SQLITE_AUTO_CHECKPOINT = 1000
"""SQLite's default, restored on the pooled connection after each batch."""
_IN_CHUNK = 500
"""Values per ``IN (...)`` list: far below SQLite's bound on bound parameters."""
SWEEP_LOCK_TIMEOUT_MS = 50
"""PostgreSQL: how long a sweep waits for the blob table lock before trying later.

While it waits, every push's blob insert queues behind it, so the wait is short."""
SWEEP_RETRIES = (0.05, 0.2, 0.5, 1.0)
"""Pauses (seconds) between the last sweeps of a run before leaving blobs to the next."""

T = TypeVar("T")


@dataclass(frozen=True)
class Pruned:
    """One version whose content retention gave up."""

    source_id: str
    path: str
    seq: int
    hash: str


@dataclass
class GcReport:
    """What one source's collection did (or, for a dry run, would do)."""

    source_id: str
    policy: Policy
    dry_run: bool
    files: int = 0
    versions_pruned: int = 0
    blobs_deleted: int = 0
    bytes_freed: int = 0
    blobs_left: int = 0
    """Unused blobs not freed yet (the blob table stayed busy); the next run frees them."""
    lock_seconds: list[float] = field(default_factory=list)
    """How long each batch's transaction held the source lock (waiting for it excluded)."""
    lock_cpu_seconds: list[float] = field(default_factory=list)
    """CPU time of this thread during each of those holds."""

    @property
    def longest_lock_seconds(self) -> float:
        return max(self.lock_seconds, default=0.0)


@dataclass
class _Batch:
    last_file_id: int
    files: int
    pruned: list[Pruned]
    blobs: int
    """Freed (SQLite) or, in a dry run, that would go; on PostgreSQL :func:`_sweep` frees them."""
    freed: int
    held: float
    """Seconds from taking the source lock to releasing it at commit (or rollback)."""
    cpu: float
    """CPU seconds this thread spent meanwhile: on a busy machine, far less than ``held``."""


def collect(
    engine: Engine,
    *,
    tombstone_max_age: timedelta,
    source_id: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    on_pruned: Callable[[Pruned], None] | None = None,
    stop: Event | None = None,
) -> list[GcReport]:
    """Collect every source that has a policy other than keep-all (or just ``source_id``).

    ``now`` is the clock the policy ages versions by; tests and benchmarks pass
    a fake one. ``stop`` ends the run between two batches (a server shutting down).
    """
    with Session(engine) as session:
        statement = select(RetentionPolicy)
        if source_id is not None:
            statement = statement.where(RetentionPolicy.source_id == source_id)
        wanted = [(row.source_id, stored(row)) for row in session.exec(statement)]
        session.rollback()
    reports = []
    for sid, policy in wanted:
        reports.append(
            collect_source(
                engine,
                sid,
                policy,
                tombstone_max_age=tombstone_max_age,
                dry_run=dry_run,
                now=now,
                on_pruned=on_pruned,
                stop=stop,
            )
        )
        if stop is not None and stop.is_set():
            break
    return reports


def collect_source(
    engine: Engine,
    source_id: str,
    policy: Policy,
    *,
    tombstone_max_age: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
    on_pruned: Callable[[Pruned], None] | None = None,
    stop: Event | None = None,
) -> GcReport:
    report = GcReport(source_id, policy, dry_run)
    if policy == KEEP_ALL:
        return report
    pending = set() if dry_run else _leftovers(engine, source_id)
    after, size = 0, 20
    while stop is None or not stop.is_set():
        batch = _batch(
            engine, source_id, policy, after, size, now or utcnow(), tombstone_max_age, dry_run
        )
        if batch is None:
            break
        held = batch.held
        report.lock_seconds.append(held)
        report.lock_cpu_seconds.append(batch.cpu)
        report.files += batch.files
        report.versions_pruned += len(batch.pruned)
        report.blobs_deleted += batch.blobs
        report.bytes_freed += batch.freed
        for item in batch.pruned:
            if on_pruned is not None:
                on_pruned(item)
        after = batch.last_file_id
        size = _next_size(size, held)
        if engine.dialect.name == "sqlite":
            _let_writers_in(held)
        if not dry_run and engine.dialect.name == "postgresql":
            pending |= {p.hash for p in batch.pruned}
            pending = _sweep(engine, pending, report)
    pending = _sweep(engine, pending, report)
    for pause in SWEEP_RETRIES:
        if not pending or (stop is not None and stop.is_set()):
            break
        sleep(pause)
        pending = _sweep(engine, pending, report)
    report.blobs_left = len(pending)
    return report


def _sweep(engine: Engine, hashes: set[str], report: GcReport) -> set[str]:
    """Free the blobs among ``hashes`` that nothing uses; returns those still to try.

    Its own transaction, with no source lock held. The no-loss argument is
    :func:`_free`'s, and needs no source lock: "still used" asks about every
    source, and the blob table lock orders this against every push.
    """
    left = sorted(hashes)
    while left:
        # One chunk per transaction: the blob table lock stops every push's blob
        # inserts, whatever the source, so it is held for one chunk at a time.
        part = set(left[:_IN_CHUNK])
        try:
            with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, the database write lock
                if conn.dialect.name == "postgresql":
                    conn.execute(text(f"SET LOCAL lock_timeout = '{SWEEP_LOCK_TIMEOUT_MS}ms'"))
                    conn.execute(text("SET LOCAL synchronous_commit = off"))
                blobs, freed = _free(conn, part, lock=True)
        except OperationalError as exc:
            if not _lock_busy(exc):
                raise
            return set(left)
        report.blobs_deleted += blobs
        report.bytes_freed += freed
        left = left[_IN_CHUNK:]
    return set()


def _lock_busy(exc: OperationalError) -> bool:
    """PostgreSQL's lock_timeout (55P03), or SQLite's busy write lock."""
    if getattr(exc.orig, "sqlstate", None) == "55P03":
        return True
    return "database is locked" in str(exc.orig)


def _leftovers(engine: Engine, source_id: str) -> set[str]:
    """Hashes of this source's pruned versions whose blob is stored but looks unused.

    Left by a run whose sweep lost to a busy blob table, or that stopped between
    its two transactions. Read without any lock, so only a hint: :func:`_free`
    checks each again under the blob table lock before deleting anything.
    """
    with engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(_LEFTOVERS, {"s": source_id})}


def _let_writers_in(held: float) -> None:
    """Pause as long as the batch held the lock before taking it again.

    PostgreSQL queues lock waiters, so a push waiting on the source row gets it
    as soon as a batch commits. SQLite has no queue: a waiting writer polls,
    sleeping a little longer each time, and would keep missing a collector that
    takes the lock straight back. Half the time free keeps its wait near one batch.
    """
    sleep(max(held, 0.002))


def _next_size(size: int, held: float) -> int:
    if held > TARGET_LOCK_SECONDS:
        return max(MIN_BATCH_FILES, size // 2)
    if held < TARGET_LOCK_SECONDS / 2:
        return min(MAX_BATCH_FILES, size + max(1, size // 2))
    return size


def _batch(
    engine: Engine,
    source_id: str,
    policy: Policy,
    after: int,
    size: int,
    now: datetime,
    tombstone_max_age: timedelta,
    dry_run: bool,
) -> _Batch | None:
    """One transaction over the next ``size`` files of the source (by id), or None at the end.

    Plain Core statements, a fixed handful per batch, so the lock is held for
    the work and not for building queries.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _auto_checkpoint(conn, 0)
        transaction = conn.begin()  # SQLite: BEGIN IMMEDIATE, the database write lock
        try:
            if not sqlite:
                # Losing a batch to a crash loses nothing (it is redone next run), so
                # its commit need not wait for the disk while it holds the source lock.
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            if conn.execute(_LOCK[conn.dialect.name], {"s": source_id}).first() is None:
                return None
            acquired, cpu = perf_counter(), thread_time()
            files = conn.execute(_FILES, {"s": source_id, "after": after, "n": size}).all()
            if not files:
                return None
            doomed = _doomed(conn, source_id, files, policy, now, tombstone_max_age)
            _mark(conn, doomed)
            blobs = freed = 0
            if sqlite or dry_run:
                # SQLite: under the write lock already. A dry run counts what a
                # sweep would free before its rollback, and locks nothing for it.
                blobs, freed = _free(conn, {p.hash for _, _, p in doomed}, lock=False)
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()
            held, cpu = perf_counter() - acquired, thread_time() - cpu
        finally:
            if transaction.is_active:
                transaction.rollback()
            if sqlite:
                _checkpoint_outside_the_lock(conn)
    pruned = [p for _, _, p in doomed]
    return _Batch(int(files[-1][0]), len(files), pruned, blobs, freed, held, cpu)


def _auto_checkpoint(conn: Connection, pages: int) -> None:
    """Set SQLite's auto-checkpoint on this connection, outside any transaction."""
    raw: Any = conn.connection.dbapi_connection
    raw.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")


def _checkpoint_outside_the_lock(conn: Connection) -> None:
    """Copy the WAL back into the database file after the batch, not inside its commit.

    A commit that crosses SQLite's auto-checkpoint threshold checkpoints before
    it returns; collection writes a lot, so it checkpoints itself here, once the
    write lock is released. A PASSIVE checkpoint never blocks writers.
    """
    raw: Any = conn.connection.dbapi_connection
    raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
    _auto_checkpoint(conn, SQLITE_AUTO_CHECKPOINT)


_LOCK = {
    "postgresql": text("SELECT id FROM sources WHERE id = :s FOR UPDATE"),
    "sqlite": text("SELECT id FROM sources WHERE id = :s"),
}
_FILES = text(
    "SELECT id, relative_path, current_hash FROM files"
    " WHERE source_id = :s AND id > :after ORDER BY id LIMIT :n"
)
_VERSIONS = (
    text(
        "SELECT v.id, v.file_id, v.seq, v.created_at, v.hash, v.conflict_id,"
        " pin.version_id IS NOT NULL AS pinned, gone.version_id IS NOT NULL AS pruned"
        " FROM versions v"
        " LEFT JOIN version_pins pin ON pin.version_id = v.id"
        " LEFT JOIN version_prunes gone ON gone.version_id = v.id"
        " WHERE v.file_id IN :ids"
    )
    .bindparams(bindparam("ids", expanding=True))
    .columns(created_at=UTCDateTime())
)
_CONFLICTS = text(
    "SELECT id, file_id, base_hash, local_hash, remote_hash FROM conflicts"
    " WHERE status = 'open' AND file_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_STILL_USED = text(
    "SELECT DISTINCT v.hash FROM versions v WHERE v.hash IN :hashes"
    " AND NOT EXISTS (SELECT 1 FROM version_prunes p WHERE p.version_id = v.id)"
    " UNION SELECT f.current_hash FROM files f WHERE f.current_hash IN :hashes"
).bindparams(bindparam("hashes", expanding=True))
"""Hashes a kept version of any file, or any file's current content, still uses.

Open conflicts need no clause of their own: their sides and base are versions
of the conflicted file, which the policy protects (``policy.protected``), so
those versions are never pruned and keep the blob. Two index lookups per hash
(``ix_versions_hash``, ``ix_files_current_hash``); a single anti-join DELETE
let PostgreSQL's planner scan instead.
"""
_LEFTOVERS = text(
    "SELECT DISTINCT v.hash FROM version_prunes p"
    " JOIN files f ON f.id = p.file_id"
    " JOIN versions v ON v.id = p.version_id"
    " JOIN blobs b ON b.hash = v.hash"
    " WHERE f.source_id = :s"
    " AND NOT EXISTS (SELECT 1 FROM versions k WHERE k.hash = v.hash"
    " AND NOT EXISTS (SELECT 1 FROM version_prunes q WHERE q.version_id = k.id))"
    " AND NOT EXISTS (SELECT 1 FROM files c WHERE c.current_hash = v.hash)"
)
_DELETE_BLOBS = text("DELETE FROM blobs WHERE hash IN :hashes RETURNING size").bindparams(
    bindparam("hashes", expanding=True)
)


def _doomed(
    conn: Connection,
    source_id: str,
    files: Sequence[Any],
    policy: Policy,
    now: datetime,
    tombstone_max_age: timedelta,
) -> list[tuple[int, int, Pruned]]:
    """(version id, file id, description) of each version the policy gives up now."""
    ids = [int(f[0]) for f in files]
    by_file: dict[int, list[Any]] = {}
    for part in _chunks(ids):
        for row in conn.execute(_VERSIONS, {"ids": part}):
            by_file.setdefault(int(row[1]), []).append(row)
    conflicts = {
        int(row[1]): row for part in _chunks(ids) for row in conn.execute(_CONFLICTS, {"ids": part})
    }
    doomed = []
    for file_id, path, current in files:
        rows = by_file.get(file_id, [])
        conflict = conflicts.get(file_id)
        timeline = Timeline(
            entries=[Entry(r[0], r[2], r[3], r[4], bool(r[6])) for r in rows],
            current_hash=current,
            open_conflict_hashes=frozenset(h for h in conflict[2:5] if h)
            if conflict
            else frozenset(),
            open_conflict_id=conflict[0] if conflict else None,
            conflict_entry_ids=frozenset(
                r[0] for r in rows if conflict is not None and r[5] == conflict[0]
            ),
        )
        kept = keep(timeline, policy, now, tombstone_max_age)
        for r in rows:
            if r[4] is not None and r[0] not in kept and not r[7]:
                doomed.append((r[0], file_id, Pruned(source_id, path, r[2], r[4])))
    return doomed


def _mark(conn: Connection, doomed: list[tuple[int, int, Pruned]]) -> None:
    """Mark ``doomed`` pruned: from now on nothing reads their content."""
    now = utcnow()
    rows = [{"version_id": v, "file_id": f, "pruned_at": now} for v, f, _ in doomed]
    for rows_part in _chunks(rows):
        conn.execute(VersionPrune.__table__.insert(), rows_part)  # type: ignore[attr-defined]


def _free(conn: Connection, hashes: set[str], *, lock: bool) -> tuple[int, int]:
    """Delete the blobs among ``hashes`` nothing uses any more: (blobs deleted, bytes freed).

    With ``lock`` on PostgreSQL the blob table is locked against inserts
    (``SHARE ROW EXCLUSIVE``; reads go on) while references are checked and
    blobs deleted: a push anywhere that stores the same content either committed
    before, so its version is seen, or inserts after the delete and brings the
    blob back (every push inserts its blobs, ``ON CONFLICT DO NOTHING``). SQLite's
    write lock already serialises them.
    """
    if not hashes:
        return 0, 0
    if lock and conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE blobs IN SHARE ROW EXCLUSIVE MODE"))
    sizes: list[int] = []
    for part in _chunks(sorted(hashes)):
        used = {r[0] for r in conn.execute(_STILL_USED, {"hashes": part})}
        free = [h for h in part if h not in used]
        if free:
            sizes.extend(int(r[0]) for r in conn.execute(_DELETE_BLOBS, {"hashes": free}))
    return len(sizes), sum(sizes)


def _chunks(values: Sequence[T]) -> Iterator[list[T]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield list(values[start : start + _IN_CHUNK])
