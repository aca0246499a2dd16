"""Garbage collection: apply each source's retention policy and free unused blobs.

A version retention gives up is marked in ``version_prunes``; its row stays
(seq, hash, origin, time), so history numbering, the events that mention it and
the audit trail keep their meaning. Only its blob goes, and only once nothing
else uses that content: no kept version of any file, no file's current
content, no open conflict.

Collection walks the source's files in runs of :data:`SNAPSHOT_FILES`. What to
prune is chosen from a read-only snapshot that holds no lock
(:func:`backend.retention.selection.choose`): reading every version and
applying the policy is most of the work, and no push waits for it. The choice
is then applied in short transactions that each hold the source's lock (the
row lock pushes take; on SQLite the database write lock), re-check the files
they touch (:func:`backend.retention.selection.confirm`) and mark their
versions pruned. Each carries about ``budget`` versions, halved or grown after
each transaction to keep its hold near :data:`TARGET_LOCK_SECONDS`, and the
collector pauses after each so a waiting push gets the lock; a push waits at
most one such transaction.

On PostgreSQL, blobs are freed after that, in transactions of their own
(:func:`_sweep`): whether a blob is still used is a question about every
source, which the source's lock does not settle, and the blob table lock it
needs can wait behind autovacuum or other pushes. Waiting for it with the
source locked stalled the source's pushes; waiting with nothing else held, and
for at most :data:`SWEEP_LOCK_TIMEOUT_MS`, stalls nobody for long. A sweep that
loses is retried; what a run leaves behind (or a crash between the two
transactions) is reported as ``blobs_left`` and found by the next run's
:func:`_leftovers`. On SQLite the source lock is the database write lock a
sweep would need anyway, so a transaction frees its blobs itself.

Crash safety: the snapshot writes nothing, and each transaction commits its
marks (and, on SQLite, the blobs they free) whole or not at all; a version is
marked before its blob is deleted, and a blob is deleted only after the
still-used check under the lock that orders it against every push.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Event
from time import perf_counter, sleep, thread_time
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from backend.models import utcnow
from backend.retention.policies import stored
from backend.retention.policy import KEEP_ALL, Policy
from backend.retention.selection import IN_CHUNK, Proposal, Pruned, choose, chunks, confirm
from backend.retention.tables import RetentionPolicy, VersionPrune

__all__ = ["GcReport", "Pruned", "collect", "collect_source"]

TARGET_LOCK_SECONDS = 0.01
"""Aim for each locked transaction (the bound is 50 ms); budgets shrink and grow around it."""
FIRST_BUDGET = 200
MIN_BUDGET = 1
MAX_BUDGET = 5000
"""Versions marked per locked transaction (first, least, most)."""
SNAPSHOT_FILES = 200
"""Files read and decided per snapshot, outside any lock."""
MIN_PAUSE_SECONDS = 0.002
SQLITE_AUTO_CHECKPOINT = 1000
"""SQLite's default, restored on the pooled connection after each batch."""
SWEEP_LOCK_TIMEOUT_MS = 20
"""PostgreSQL: how long a sweep waits for the blob table lock before trying later.

While it waits, every push's blob insert queues behind it, so the wait is short."""
SWEEP_CHUNK = 100
"""Blobs checked and deleted by a run's first sweep transaction; later ones adapt."""
SWEEP_RETRIES = (0.05, 0.2, 0.5, 1.0)
"""Pauses (seconds) between the last sweeps of a run before leaving blobs to the next."""


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
    sweep_lock_seconds: list[float] = field(default_factory=list)
    """PostgreSQL: how long each sweep held the blob table lock (pushes' blob inserts wait)."""

    @property
    def longest_lock_seconds(self) -> float:
        return max(self.lock_seconds, default=0.0)


@dataclass
class _Applied:
    """One locked transaction's work."""

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
    moment = now or utcnow()

    def decide(conn: Connection, group: list[Proposal]) -> list[tuple[int, int, Pruned]]:
        return confirm(conn, source_id, group, policy, moment, tombstone_max_age)

    pending = set() if dry_run else _leftovers(engine, source_id)
    after, budget = 0, FIRST_BUDGET
    while not _stopped(stop):
        choice = choose(engine, source_id, policy, after, SNAPSHOT_FILES, moment, tombstone_max_age)
        if choice is None:
            break
        report.files += choice.files
        queue = choice.proposals
        while queue and not _stopped(stop):
            group, queue = _take(queue, budget)
            applied = _apply(engine, source_id, group, dry_run, decide)
            if applied is None:  # the source is gone
                return report
            _record(report, applied, on_pruned)
            budget = _next_budget(budget, applied.held)
            _let_writers_in(applied.held)
            if not dry_run and engine.dialect.name == "postgresql":
                pending |= {p.hash for p in applied.pruned}
                if len(pending) >= IN_CHUNK:
                    pending = _sweep(engine, pending, report)
        after = choice.last_file_id
    pending = _sweep(engine, pending, report)
    for pause in SWEEP_RETRIES:
        if not pending or _stopped(stop):
            break
        sleep(pause)
        pending = _sweep(engine, pending, report)
    report.blobs_left = len(pending)
    return report


def _stopped(stop: Event | None) -> bool:
    return stop is not None and stop.is_set()


def _record(
    report: GcReport, applied: "_Applied", on_pruned: Callable[[Pruned], None] | None
) -> None:
    report.lock_seconds.append(applied.held)
    report.lock_cpu_seconds.append(applied.cpu)
    report.versions_pruned += len(applied.pruned)
    report.blobs_deleted += applied.blobs
    report.bytes_freed += applied.freed
    if on_pruned is not None:
        for item in applied.pruned:
            on_pruned(item)


def _take(proposals: list[Proposal], budget: int) -> tuple[list[Proposal], list[Proposal]]:
    """The first files whose proposals add up to about ``budget`` versions, and the rest.

    A file's proposal is never split: its re-check and its marks go together.
    """
    count = 0
    for index, proposal in enumerate(proposals):
        count += len(proposal.doomed)
        if count >= budget:
            return proposals[: index + 1], proposals[index + 1 :]
    return proposals, []


def _sweep(engine: Engine, hashes: set[str], report: GcReport) -> set[str]:
    """Free the blobs among ``hashes`` that nothing uses; returns those still to try.

    Its own transaction, with no source lock held. The no-loss argument is
    :func:`_free`'s, and needs no source lock: "still used" asks about every
    source, and the blob table lock orders this against every push.
    """
    left, size = sorted(hashes), SWEEP_CHUNK
    while left:
        # One chunk per transaction: the blob table lock stops every push's blob
        # inserts, whatever the source, so it is held for one chunk at a time,
        # sized like the source's transactions to stay near the target.
        part = set(left[:size])
        try:
            with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, the database write lock
                if conn.dialect.name == "postgresql":
                    conn.execute(text(f"SET LOCAL lock_timeout = '{SWEEP_LOCK_TIMEOUT_MS}ms'"))
                    conn.execute(text("SET LOCAL synchronous_commit = off"))
                started = perf_counter()
                blobs, freed = _free(conn, part, lock=True)
            held = perf_counter() - started
        except OperationalError as exc:
            if not _lock_busy(exc):
                raise
            return set(left)
        report.sweep_lock_seconds.append(held)
        report.blobs_deleted += blobs
        report.bytes_freed += freed
        left = left[len(part) :]
        size = min(IN_CHUNK, _next_budget(size, held))
        _let_writers_in(held)
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
    """Pause as long as the transaction held the lock before taking it again.

    SQLite has no queue: a waiting writer polls, sleeping a little longer each
    time, and would keep missing a collector that takes the lock straight back.
    PostgreSQL queues lock waiters, but a push in this process also needs the
    interpreter, which a collector busy choosing its next proposals would hand
    over only every switch interval, at each of the push's statements. Half
    the time free keeps a push's wait near one transaction on both.
    """
    sleep(max(held, MIN_PAUSE_SECONDS))


def _next_budget(budget: int, held: float) -> int:
    """Versions for the next locked transaction, so that it holds the lock near the target."""
    if held > TARGET_LOCK_SECONDS:
        return max(MIN_BUDGET, budget // 2)
    if held < TARGET_LOCK_SECONDS / 2:
        return min(MAX_BUDGET, budget + max(1, budget // 2))
    return budget


def _apply(
    engine: Engine,
    source_id: str,
    proposals: list[Proposal],
    dry_run: bool,
    decide: Callable[[Connection, list[Proposal]], list[tuple[int, int, Pruned]]],
) -> "_Applied | None":
    """Under the source's lock: confirm the proposals, mark them pruned, commit.

    None when the source no longer exists. On SQLite the blobs the marks free
    go in the same transaction (the write lock a sweep would need is held).
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _auto_checkpoint(conn, 0)
        transaction = conn.begin()  # SQLite: BEGIN IMMEDIATE, the database write lock
        try:
            if not sqlite:
                # Losing a transaction to a crash loses nothing (it is redone next run),
                # so its commit need not wait for the disk while it holds the source lock.
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            if conn.execute(_LOCK[conn.dialect.name], {"s": source_id}).first() is None:
                return None
            acquired, cpu = perf_counter(), thread_time()
            doomed = decide(conn, proposals)
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
    return _Applied([p for _, _, p in doomed], blobs, freed, held, cpu)


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


def _mark(conn: Connection, doomed: list[tuple[int, int, Pruned]]) -> None:
    """Mark ``doomed`` pruned: from now on nothing reads their content."""
    now = utcnow()
    rows = [{"version_id": v, "file_id": f, "pruned_at": now} for v, f, _ in doomed]
    for rows_part in chunks(rows):
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
    for part in chunks(sorted(hashes)):
        used = {r[0] for r in conn.execute(_STILL_USED, {"hashes": part})}
        free = [h for h in part if h not in used]
        if free:
            sizes.extend(int(r[0]) for r in conn.execute(_DELETE_BLOBS, {"hashes": free}))
    return len(sizes), sum(sizes)
