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
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Event
from time import perf_counter
from typing import Any, TypeVar

from sqlalchemy import delete, exists, or_, text
from sqlalchemy import select as columns
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.models import (
    Blob,
    Conflict,
    File,
    Source,
    Version,
    utcnow,
)
from backend.retention.policies import stored
from backend.retention.policy import KEEP_ALL, Entry, Policy, Timeline, keep
from backend.retention.tables import RetentionPolicy, VersionPin, VersionPrune

TARGET_LOCK_SECONDS = 0.02
"""Aim for each batch's transaction; batches shrink and grow around it."""
MIN_BATCH_FILES = 1
MAX_BATCH_FILES = 200
_IN_CHUNK = 500
"""Values per ``IN (...)`` list: far below SQLite's bound on bound parameters."""

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
    lock_seconds: list[float] = field(default_factory=list)
    """How long each batch's transaction held the source lock."""

    @property
    def longest_lock_seconds(self) -> float:
        return max(self.lock_seconds, default=0.0)


@dataclass
class _Batch:
    last_file_id: int
    files: int
    pruned: list[Pruned]
    blobs: int
    freed: int


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
    after, size = 0, 20
    while stop is None or not stop.is_set():
        started = perf_counter()
        batch = _batch(
            engine, source_id, policy, after, size, now or utcnow(), tombstone_max_age, dry_run
        )
        held = perf_counter() - started
        if batch is None:
            break
        report.lock_seconds.append(held)
        report.files += batch.files
        report.versions_pruned += len(batch.pruned)
        report.blobs_deleted += batch.blobs
        report.bytes_freed += batch.freed
        for item in batch.pruned:
            if on_pruned is not None:
                on_pruned(item)
        after = batch.last_file_id
        size = _next_size(size, held)
    return report


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
    """One transaction over the next ``size`` files of the source (by id), or None at the end."""
    with Session(engine) as session:
        locked = select(Source.id).where(Source.id == source_id).with_for_update()
        if session.exec(locked).first() is None:
            session.rollback()
            return None
        files = list(
            session.execute(
                columns(col(File.id), col(File.relative_path), col(File.current_hash))
                .where(col(File.source_id) == source_id, col(File.id) > after)
                .order_by(col(File.id))
                .limit(size)
            )
        )
        if not files:
            session.rollback()
            return None
        doomed = _doomed(session, source_id, files, policy, now, tombstone_max_age)
        blobs, freed = _prune(session, doomed)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return _Batch(int(files[-1][0]), len(files), [p for _, _, p in doomed], blobs, freed)


def _doomed(
    session: Session,
    source_id: str,
    files: Sequence[Any],
    policy: Policy,
    now: datetime,
    tombstone_max_age: timedelta,
) -> list[tuple[int, int, Pruned]]:
    """(version id, file id, description) of each version the policy gives up now."""
    ids = [int(f[0]) for f in files]
    versions = _in(
        session,
        ids,
        lambda part: columns(
            col(Version.id),
            col(Version.file_id),
            col(Version.seq),
            col(Version.created_at),
            col(Version.hash),
            col(Version.conflict_id),
        ).where(col(Version.file_id).in_(part)),
    )
    pinned = {
        int(v)
        for v in _in_scalars(
            session,
            ids,
            lambda p: select(VersionPin.version_id).where(col(VersionPin.file_id).in_(p)),
        )
    }
    gone = {
        int(v)
        for v in _in_scalars(
            session,
            ids,
            lambda p: select(VersionPrune.version_id).where(col(VersionPrune.file_id).in_(p)),
        )
    }
    conflicts = {
        c.file_id: c
        for c in _in_scalars(
            session,
            ids,
            lambda p: select(Conflict).where(
                col(Conflict.file_id).in_(p), Conflict.status == "open"
            ),
        )
    }
    by_file: dict[int, list[Any]] = {}
    for row in versions:
        by_file.setdefault(int(row[1]), []).append(row)
    doomed = []
    for file_id, path, current in files:
        rows = by_file.get(file_id, [])
        conflict = conflicts.get(file_id)
        timeline = Timeline(
            entries=[Entry(r[0], r[2], r[3], r[4], r[0] in pinned) for r in rows],
            current_hash=current,
            open_conflict_hashes=_conflict_hashes(conflict),
            open_conflict_id=conflict.id if conflict else None,
            conflict_entry_ids=frozenset(
                r[0] for r in rows if conflict is not None and r[5] == conflict.id
            ),
        )
        kept = keep(timeline, policy, now, tombstone_max_age)
        for r in rows:
            if r[4] is not None and r[0] not in kept and r[0] not in gone:
                doomed.append((r[0], file_id, Pruned(source_id, path, r[2], r[4])))
    return doomed


def _conflict_hashes(conflict: Conflict | None) -> frozenset[str]:
    if conflict is None:
        return frozenset()
    sides = (conflict.base_hash, conflict.local_hash, conflict.remote_hash)
    return frozenset(h for h in sides if h)


def _prune(session: Session, doomed: list[tuple[int, int, Pruned]]) -> tuple[int, int]:
    """Mark ``doomed`` pruned and delete the blobs nothing uses any more.

    Returns (blobs deleted, bytes freed). On PostgreSQL the blob table is locked
    against inserts (``SHARE ROW EXCLUSIVE``; reads go on) while the references
    are counted: a push elsewhere that stores the same content either committed
    before the count, so its version is seen, or inserts after the delete and
    brings the blob back. SQLite's write lock already serialises the two.
    """
    if not doomed:
        return 0, 0
    now = utcnow()
    rows = [{"version_id": v, "file_id": f, "pruned_at": now} for v, f, _ in doomed]
    for rows_part in _chunks(rows):
        session.execute(VersionPrune.__table__.insert(), rows_part)  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE blobs IN SHARE ROW EXCLUSIVE MODE"))
    candidates = sorted({p.hash for _, _, p in doomed})
    used = set(_in_scalars(session, candidates, _kept_versions))
    used |= set(
        _in_scalars(
            session,
            candidates,
            lambda p: select(File.current_hash).where(col(File.current_hash).in_(p)),
        )
    )
    for conflict in _in_scalars(session, candidates, _open_conflicts_using):
        used |= _conflict_hashes(conflict)
    free = [h for h in candidates if h not in used]
    sizes = _in_scalars(session, free, lambda p: select(Blob.size).where(col(Blob.hash).in_(p)))
    for part in _chunks(free):
        session.execute(delete(Blob).where(col(Blob.hash).in_(part)))
    return len(sizes), sum(int(s) for s in sizes)


def _open_conflicts_using(hashes: list[str]) -> Any:
    sides = (Conflict.base_hash, Conflict.local_hash, Conflict.remote_hash)
    return select(Conflict).where(
        Conflict.status == "open", or_(*(col(side).in_(hashes) for side in sides))
    )


def _kept_versions(hashes: list[str]) -> Any:
    """Versions holding one of ``hashes`` that are not pruned."""
    pruned = exists().where(col(VersionPrune.version_id) == Version.id)
    return select(Version.hash).where(col(Version.hash).in_(hashes), ~pruned).distinct()


def _in(session: Session, values: Sequence[T], build: Callable[[list[T]], Any]) -> list[Any]:
    """Run ``build(part)`` for each bounded slice of ``values`` and gather the rows."""
    found: list[Any] = []
    for part in _chunks(values):
        found.extend(session.execute(build(part)).all())
    return found


def _in_scalars(
    session: Session, values: Sequence[T], build: Callable[[list[T]], Any]
) -> list[Any]:
    """:func:`_in` for one selected column or entity."""
    return [row[0] for row in _in(session, values, build)]


def _chunks(values: Sequence[T]) -> Iterator[list[T]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield list(values[start : start + _IN_CHUNK])
