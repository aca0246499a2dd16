"""What gc may prune: chosen from a snapshot without any lock, confirmed under the source's lock.

Choosing is the costly part of collection (every version of every file read,
the policy applied in Python), so :func:`choose` does it in a read-only
snapshot that blocks no writer. What it chose is only a proposal: a push,
a delete, a pin, a conflict opened or reopened may have changed a file since.
:func:`confirm` runs under the source's lock and keeps a proposal only for a
file whose protecting state is unchanged, which makes it exactly the decision
the policy would take under the lock:

- a file's versions are only ever added (each bumps ``version_count``), and
  a version's hash, time and conflict are fixed when it is recorded;
- its current hash, state and open conflict (id, base, sides) are compared;
- pins and earlier prunes of the proposed versions are read again.

The policy reads nothing else (``policy.keep``: entries, current hash, open
conflict, pins, and ``now``, fixed for the run). A file that changed is decided
again under the lock, from its rows as they are then.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel.sql.sqltypes import UTCDateTime

from backend.db import READ_ONLY
from backend.retention.policy import Entry, Policy, Timeline, keep

IN_CHUNK = 500
"""Values per ``IN (...)`` list: far below SQLite's bound on bound parameters."""

T = TypeVar("T")


@dataclass(frozen=True)
class Pruned:
    """One version whose content retention gave up."""

    source_id: str
    path: str
    seq: int
    hash: str


@dataclass(frozen=True)
class Guard:
    """The state of a file that decides which of its versions are protected."""

    current_hash: str | None
    state: str
    version_count: int
    conflict: tuple[Any, ...] | None
    """The open conflict's (id, base, local, remote) hashes, or None."""


@dataclass(frozen=True)
class Proposal:
    """A file's versions the policy gives up, as the snapshot saw the file."""

    file_id: int
    guard: Guard
    doomed: tuple[tuple[int, Pruned], ...]
    """(version id, description) of each version to prune."""


@dataclass(frozen=True)
class Choice:
    """What one snapshot over a run of files proposes."""

    last_file_id: int
    files: int
    proposals: list[Proposal]


def choose(
    engine: Engine,
    source_id: str,
    policy: Policy,
    after: int,
    size: int,
    now: datetime,
    tombstone_max_age: timedelta,
) -> Choice | None:
    """Proposals for the next ``size`` files after ``after`` (by id), or None at the end.

    One read-only snapshot (REPEATABLE READ on PostgreSQL, a WAL read on SQLite),
    so a file's row, versions, conflict and pins agree with one another.
    """
    bind = engine.execution_options(**{READ_ONLY: True})
    if engine.dialect.name == "postgresql":
        bind = bind.execution_options(isolation_level="REPEATABLE READ")
    with bind.connect() as conn, conn.begin():
        files = conn.execute(_FILES, {"s": source_id, "after": after, "n": size}).all()
        if not files:
            return None
        proposals = _propose(conn, source_id, files, policy, now, tombstone_max_age)
    return Choice(int(files[-1][0]), len(files), proposals)


def confirm(
    conn: Connection,
    source_id: str,
    proposals: Sequence[Proposal],
    policy: Policy,
    now: datetime,
    tombstone_max_age: timedelta,
) -> list[tuple[int, int, Pruned]]:
    """(version id, file id, description) of the versions to prune now.

    Runs under the source's lock, so nothing it reads changes before commit.
    Two keyed reads: the files' guards with their open conflicts, and the pins
    and prunes of the proposed versions. A file whose guard moved since the snapshot
    (usually none; a file a push just touched) is decided again here, from what
    the lock now shows, so a busy file is pruned as exactly as a quiet one.
    """
    file_ids = [p.file_id for p in proposals]
    now_files = {
        int(r[0]): r for part in chunks(file_ids) for r in conn.execute(_GUARDS, {"ids": part})
    }
    version_ids = [v for p in proposals for v, _ in p.doomed]
    taken = {int(r[0]) for part in chunks(version_ids) for r in conn.execute(_TAKEN, {"ids": part})}
    confirmed: list[tuple[int, int, Pruned]] = []
    moved = []
    for proposal in proposals:
        row = now_files.get(proposal.file_id)
        if row is None:
            continue
        conflict = (row[5], row[6], row[7], row[8]) if row[5] is not None else None
        if _guard(row, conflict) != proposal.guard:
            moved.append(row)
            continue
        confirmed.extend(
            (v, proposal.file_id, pruned) for v, pruned in proposal.doomed if v not in taken
        )
    for again in _propose(conn, source_id, moved, policy, now, tombstone_max_age):
        confirmed.extend((v, again.file_id, pruned) for v, pruned in again.doomed)
    return confirmed


def chunks(values: Sequence[T]) -> Iterator[list[T]]:
    for start in range(0, len(values), IN_CHUNK):
        yield list(values[start : start + IN_CHUNK])


def _guard(row: Any, conflict: tuple[Any, ...] | None) -> Guard:
    return Guard(row[1], str(row[2]), int(row[3]), conflict)


def _open_conflicts(conn: Connection, file_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    return {
        int(r[1]): (r[0], r[2], r[3], r[4])
        for part in chunks(file_ids)
        for r in conn.execute(_CONFLICTS, {"ids": part})
    }


def _propose(
    conn: Connection,
    source_id: str,
    files: Sequence[Any],
    policy: Policy,
    now: datetime,
    tombstone_max_age: timedelta,
) -> list[Proposal]:
    ids = [int(f[0]) for f in files]
    by_file: dict[int, list[Any]] = {}
    for part in chunks(ids):
        for row in conn.execute(_VERSIONS, {"ids": part}):
            by_file.setdefault(int(row[1]), []).append(row)
    conflicts = _open_conflicts(conn, ids)
    proposals = []
    for file in files:
        file_id, path = int(file[0]), file[4]
        rows = by_file.get(file_id, [])
        conflict = conflicts.get(file_id)
        timeline = Timeline(
            entries=[Entry(r[0], r[2], r[3], r[4], bool(r[6])) for r in rows],
            current_hash=file[1],
            open_conflict_hashes=frozenset(h for h in conflict[1:] if h)
            if conflict
            else frozenset(),
            open_conflict_id=conflict[0] if conflict else None,
            conflict_entry_ids=frozenset(
                r[0] for r in rows if conflict is not None and r[5] == conflict[0]
            ),
        )
        kept = keep(timeline, policy, now, tombstone_max_age)
        doomed = tuple(
            (int(r[0]), Pruned(source_id, path, r[2], r[4]))
            for r in rows
            if r[4] is not None and r[0] not in kept and not r[7]
        )
        if doomed:
            proposals.append(Proposal(file_id, _guard(file, conflict), doomed))
    return proposals


_FILES = text(
    "SELECT id, current_hash, state, version_count, relative_path FROM files"
    " WHERE source_id = :s AND id > :after ORDER BY id LIMIT :n"
)
_GUARDS = text(
    "SELECT f.id, f.current_hash, f.state, f.version_count, f.relative_path,"
    " c.id, c.base_hash, c.local_hash, c.remote_hash"
    " FROM files f LEFT JOIN conflicts c ON c.file_id = f.id AND c.status = 'open'"
    " WHERE f.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
"""Each file's guard with its open conflict, if any (a file has at most one), in one read."""
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
_TAKEN = text(
    "SELECT version_id FROM version_pins WHERE version_id IN :ids"
    " UNION SELECT version_id FROM version_prunes WHERE version_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
"""Proposed versions pinned, or pruned by another run, since the snapshot."""
