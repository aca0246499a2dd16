"""History over a year: what a staggered policy saves, how long gc holds the lock, verify's rate.

A source of FILES files x VERSIONS versions is written straight into a fresh
database with bulk inserts (SQLAlchemy Core executemany: files, blobs,
versions and one ``file.upsert`` event per version, so cursors are gapless and
``verify`` passes), its versions' ``created_at`` drawn uniformly over the past
year (the fake clock; "now" is the real time). Then, on that database:

1. ``verify`` on the healthy database: versions audited per second.
2. A baseline: pushes to the source through the service layer, each timed.
3. ``gc`` under the staggered policy (maxAgeDays 365) while the same pushes
   run: each gc transaction's lock hold time, and each push's latency.
4. Blob bytes before and after, against the factor the policy predicts: for
   versions placed uniformly at random, the probability that a calendar day or
   week keeps a version is computed in closed form (see ``expected_kept``),
   independently of the code under test.
5. ``verify`` again after gc.

Usage: .venv/bin/python bench/history.py [--files 10000] [--versions 50]
       [--database-url postgresql+psycopg://...]
Prints one JSON object on stdout; progress on stderr.
"""

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _server import database_kind, fresh_postgres_database, log
from sqlalchemy import text
from sqlalchemy.engine import Engine

from backend.db import make_engine, run_migrations, session_scope
from backend.models import Blob, Event, File, Version
from backend.retention.gc import collect
from backend.retention.policies import set_retention
from backend.retention.verify import verify
from backend.services.sources import SourceSpec, create_source
from backend.services.sync import push_batch
from backend.settings import Settings

WORKSPACE = "bench"
YEAR = timedelta(days=365)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
MONDAY = datetime(1970, 1, 5, tzinfo=UTC)
CONTENT_BYTES = 256
CHUNK = 5000


def expected_kept(versions: int, now: datetime, max_age_days: int = 365) -> float:
    """Expected versions a staggered policy keeps per file, for ``versions`` uniform in the year.

    Every version younger than a day stays: versions * day/year. A calendar
    bucket (a day for ages 1..30 days, a week for ages 30..max_age) keeps one
    version exactly when its newest version falls inside the bucket's age
    window: no version in the bucket's part younger than the window, and at
    least one in the part inside it. For n independent uniform versions,
    P = (1 - later/T)^n - (1 - (later + inside)/T)^n.
    """
    span = YEAR.total_seconds()
    start = now - YEAR
    kept = versions * DAY.total_seconds() / span

    def windowed(size: timedelta, young: timedelta, old: timedelta) -> float:
        lo, hi = now - old, now - young  # the window, as moments
        total = 0.0
        index = (lo - MONDAY) // size
        while True:
            b_start = MONDAY + index * size
            b_end = b_start + size
            if b_start >= hi:
                return total
            inside = _overlap(b_start, b_end, max(lo, start), hi)
            later = _overlap(b_start, b_end, hi, now)
            if inside > 0:
                total += (1 - later / span) ** versions - (1 - (later + inside) / span) ** versions
            index += 1

    kept += windowed(DAY, DAY, timedelta(days=30))
    kept += windowed(WEEK, timedelta(days=30), timedelta(days=max_age_days))
    return kept


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())


def _content(file_no: int, seq: int) -> str:
    head = f"# note {file_no}\nversion {seq}\n"
    return head + "x" * (CONTENT_BYTES - len(head) - 1) + "\n"


def build(engine: Engine, settings: Settings, files: int, versions: int, now: datetime) -> str:
    """The source, written in bulk; returns its id."""
    with session_scope(engine) as session:
        source = create_source(session, WORKSPACE, SourceSpec(name="year", mode="bidirectional"))
        source_id = source.id
    rng = random.Random(7)
    cursor = 0
    for first in range(0, files, max(1, CHUNK // versions)):
        last = min(files, first + max(1, CHUNK // versions))
        file_rows, timelines = [], {}
        for n in range(first, last):
            moments = sorted(now - YEAR * rng.random() for _ in range(versions))
            contents = [_content(n, s + 1) for s in range(versions)]
            timelines[f"notes/{n:06d}.md"] = (moments, contents)
            file_rows.append(
                {
                    "source_id": source_id,
                    "relative_path": f"notes/{n:06d}.md",
                    "current_hash": hashlib.sha256(contents[-1].encode()).hexdigest(),
                    "state": "ok",
                    "content_type": "text/markdown",
                    "size": CONTENT_BYTES,
                    "version_count": versions,
                    "created_at": moments[0],
                    "updated_at": moments[-1],
                }
            )
        with engine.begin() as conn:
            conn.execute(File.__table__.insert(), file_rows)  # type: ignore[attr-defined]
            ids: dict[str, int] = dict(
                conn.execute(
                    text("SELECT relative_path, id FROM files WHERE source_id = :s AND id > 0"),
                    {"s": source_id},
                ).all()
            )
            blobs, rows, events = [], [], []
            for path, (moments, contents) in timelines.items():
                for seq, (moment, content) in enumerate(zip(moments, contents, strict=True), 1):
                    digest = hashlib.sha256(content.encode()).hexdigest()
                    blobs.append({"hash": digest, "content": content, "size": CONTENT_BYTES})
                    rows.append(
                        {
                            "file_id": ids[path],
                            "seq": seq,
                            "hash": digest,
                            "origin": "connector",
                            "size": CONTENT_BYTES,
                            "created_at": moment,
                        }
                    )
                    cursor += 1
                    events.append(
                        {
                            "source_id": source_id,
                            "cursor": cursor,
                            "type": "file.upsert",
                            "relative_path": path,
                            "payload": {"hash": digest, "origin": "connector"},
                            "created_at": moment,
                        }
                    )
            conn.execute(Blob.__table__.insert(), blobs)  # type: ignore[attr-defined]
            conn.execute(Version.__table__.insert(), rows)  # type: ignore[attr-defined]
            conn.execute(Event.__table__.insert(), events)  # type: ignore[attr-defined]
        if first % 1000 == 0:
            log(f"built {last}/{files} files")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE sources SET last_cursor = :c WHERE id = :s"), {"c": cursor, "s": source_id}
        )
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
        else:
            conn.exec_driver_sql("ANALYZE")
    return source_id


def blob_bytes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(SUM(size), 0) FROM blobs")).scalar_one())


class Pusher(threading.Thread):
    """Edits files of the source one push at a time, timing each, until stopped."""

    def __init__(self, engine: Engine, settings: Settings, source_id: str, files: int) -> None:
        super().__init__(daemon=True)
        self.engine, self.settings, self.source_id, self.files = engine, settings, source_id, files
        self.latencies: list[float] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.n = 0

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.push_one()
                time.sleep(0.01)
        except BaseException as exc:
            self.error = exc

    def push_one(self) -> None:
        self.n += 1
        path = f"notes/{(self.n * 7919) % self.files:06d}.md"
        item = {
            "operationId": f"bench-{self.n}-{time.monotonic_ns()}",
            "relativePath": path,
            "content": f"# pushed during the bench {self.n}\n",
        }
        started = time.perf_counter()
        with session_scope(self.engine) as session:
            result = push_batch(session, WORKSPACE, self.source_id, [item], self.settings)
        self.latencies.append(time.perf_counter() - started)
        assert result.results[0].status in ("applied", "merged", "conflict"), result.results[0]


def _ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "count": len(values),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def run(database_url: str, data_dir: Path, files: int, versions: int) -> dict[str, Any]:
    settings = Settings(database_url=database_url, data_dir=data_dir, jwt_secret="b" * 40)
    engine = make_engine(settings)
    run_migrations(engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    source_id = build(engine, settings, files, versions, now)
    built = time.perf_counter() - started
    log(f"built in {built:.1f} s; verifying")

    healthy = verify(engine)
    assert healthy.ok, healthy.breaches[:5]
    before = blob_bytes(engine)

    baseline = Pusher(engine, settings, source_id, files)
    for _ in range(50):
        baseline.push_one()
        time.sleep(0.01)

    with session_scope(engine) as session:
        set_retention(session, WORKSPACE, source_id, "staggered", None, 365)
    log("gc under the staggered policy, with pushes running")
    pusher = Pusher(engine, settings, source_id, files)
    pusher.start()
    gc_started = time.perf_counter()
    (report,) = collect(engine, tombstone_max_age=timedelta(days=90), now=now)
    gc_seconds = time.perf_counter() - gc_started
    pusher.stopping.set()
    pusher.join()
    assert pusher.error is None, pusher.error
    after = blob_bytes(engine)

    log("verifying after gc")
    audited = verify(engine)
    assert audited.ok, audited.breaches[:5]
    engine.dispose()

    total = files * versions
    per_file = expected_kept(versions, now)
    measured_factor = before / after if after else float("inf")
    return {
        "database": database_kind(database_url),
        "files": files,
        "versions_per_file": versions,
        "versions": total,
        "build_seconds": round(built, 1),
        "build": "bulk Core inserts (files, blobs, versions, one event per version)",
        "policy": {"kind": "staggered", "maxAgeDays": 365},
        "blob_bytes_before": before,
        "blob_bytes_after": after,
        "storage_factor_measured": round(measured_factor, 3),
        "versions_kept_expected_per_file": round(per_file, 2),
        "storage_factor_expected": round(versions / per_file, 3),
        "versions_pruned": report.versions_pruned,
        "blobs_deleted": report.blobs_deleted,
        "gc_seconds": round(gc_seconds, 2),
        "gc_transactions": len(report.lock_seconds),
        "gc_lock_hold": _ms(report.lock_seconds),
        "gc_lock_hold_over_50ms": sum(s > 0.05 for s in report.lock_seconds),
        "gc_lock_hold_cpu": _ms(report.lock_cpu_seconds),
        "gc_lock_hold_cpu_over_50ms": sum(s > 0.05 for s in report.lock_cpu_seconds),
        "gc_blob_lock_hold": _ms(report.sweep_lock_seconds),
        "gc_blob_lock_hold_over_50ms": sum(s > 0.05 for s in report.sweep_lock_seconds),
        "blobs_left": report.blobs_left,
        "push_latency_baseline": _ms(baseline.latencies),
        "push_latency_during_gc": _ms(pusher.latencies),
        "push_latency_during_gc_over_50ms": sum(s > 0.05 for s in pusher.latencies),
        "verify_healthy_seconds": round(healthy.seconds, 2),
        "verify_versions_per_second": round(
            (healthy.counts.get("versions", 0)) / healthy.seconds, 0
        ),
        "verify_after_gc_seconds": round(audited.seconds, 2),
        "verify_after_gc_versions_per_second": round(
            (audited.counts.get("versions", 0) + audited.counts.get("versions_pruned", 0))
            / audited.seconds,
            0,
        ),
        "machine": "shared (2 cores, several engineers' test runs)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="localsync-history-") as tmp:
        if args.database_url and args.database_url.startswith("postgresql"):
            with fresh_postgres_database(args.database_url, "localsync_history") as url:
                result = run(url, Path(tmp), args.files, args.versions)
        else:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'history.db'}"
            result = run(url, Path(tmp), args.files, args.versions)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
