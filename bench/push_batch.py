"""Benchmark push-batch and deltas against a real ``localsync serve`` subprocess.

Run from the repository root:

    .venv/bin/python bench/push_batch.py                       # SQLite (default)
    .venv/bin/python bench/push_batch.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

With ``--database-url`` a fresh database is created next to the given one for the
run and dropped afterwards. Prints one JSON object on stdout; progress goes to stderr.

Measured, with one persistent keep-alive ``httpx.Client`` sending pre-encoded bodies:

1. push-batch throughput: batches of 100 new files of 1 KiB, then of 100 KiB;
2. deltas catch-up: the 1 KiB source is topped up to 10,000 events, then paged
   from cursor 0 with limit 500;
3. baselines, so the server's overhead reads as a ratio: the same 1 KiB files
   inserted with the ``sqlite3`` module into one table (path, content, sha256;
   one transaction per 100 rows; WAL + synchronous=NORMAL like the server); and
   the rows the server itself writes for them (blob, file, version, event,
   operation, the source's cursor) into the server's own schema, one executemany
   per table and one transaction per batch, with ``sqlite3`` and, on PostgreSQL,
   with ``psycopg`` in a fresh database.

Client and server share the machine, so client CPU (JSON decoding of responses)
is included in the numbers, as it would be for a real connector on the same box.
Wall-clock rates suffer when other work runs on the machine; ``details`` also
gives the server process's CPU milliseconds per file (Linux), which does not.
"""

import argparse
import contextlib
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _server import BenchApi, ServerProcess, database_kind, fresh_postgres_database, log

KIB = 1024
MIB = 1024 * 1024

_WORD_TEXT = (
    "sync vault note draft merge local remote cursor event history version conflict "
    "markdown heading list link table source connector workspace batch delta blob hash "
    "the a of to and in is for on with as by at from that this it be are was"
)
WORDS = _WORD_TEXT.split()


def _corpus(size: int, seed: int = 7) -> str:
    """Markdown-ish text to slice file bodies from (built once, cheaply)."""
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    n = 0
    while total < size:
        n += 1
        if n % 9 == 1:
            chunk = f"\n## Section {n}\n\n"
        elif n % 9 == 5:
            chunk = "".join(f"- {' '.join(rng.choices(WORDS, k=6))}\n" for _ in range(4)) + "\n"
        else:
            sentence = " ".join(rng.choices(WORDS, k=rng.randint(30, 60)))
            chunk = sentence.capitalize() + ".\n\n"
        parts.append(chunk)
        total += len(chunk)
    return "".join(parts)


class ContentMaker:
    """Distinct markdown-like content of an exact byte size (ASCII, so chars == bytes)."""

    def __init__(self, corpus_bytes: int = 512 * KIB) -> None:
        self.corpus = _corpus(corpus_bytes)
        self.doubled = self.corpus + self.corpus

    def make(self, index: int, size: int, tag: str) -> str:
        header = f"# Note {tag}-{index}\n\nid: {uuid.uuid4()}\n\n"
        body_len = max(0, size - len(header) - 1)
        offset = (index * 7919) % len(self.corpus)
        while body_len > len(self.doubled) - offset:
            self.doubled += self.corpus
        return header + self.doubled[offset : offset + body_len] + "\n"


@dataclass
class Batch:
    body: bytes
    count: int
    content_bytes: int


@dataclass
class FileSet:
    """Rows for one phase; kept so the raw-SQLite baseline inserts the very same rows."""

    paths: list[str] = field(default_factory=list)
    contents: list[str] = field(default_factory=list)


def make_files(maker: ContentMaker, count: int, size: int, tag: str) -> FileSet:
    files = FileSet()
    for i in range(count):
        files.paths.append(f"{tag}/dir-{i // 100:04d}/note-{i:06d}.md")
        files.contents.append(maker.make(i, size, tag))
    return files


def encode_batches(source_id: str, files: FileSet, batch_size: int) -> list[Batch]:
    batches: list[Batch] = []
    for start in range(0, len(files.paths), batch_size):
        items: list[dict[str, Any]] = []
        content_bytes = 0
        for path, content in zip(
            files.paths[start : start + batch_size],
            files.contents[start : start + batch_size],
            strict=True,
        ):
            data = content.encode("utf-8")
            content_bytes += len(data)
            items.append(
                {
                    "operationId": f"op-{uuid.uuid4()}",
                    "relativePath": path,
                    "content": content,
                    "contentType": "text/markdown",
                    "contentHash": hashlib.sha256(data).hexdigest(),
                    "baseHash": None,
                    "isDelete": False,
                }
            )
        body = json.dumps({"sourceId": source_id, "items": items}).encode("utf-8")
        batches.append(Batch(body, len(items), content_bytes))
    return batches


@dataclass
class PushStats:
    files: int
    content_bytes: int
    seconds: float
    latencies: list[float]
    last_cursor: int
    server_cpu_seconds: float | None = None

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds

    @property
    def mib_per_s(self) -> float:
        return self.content_bytes / MIB / self.seconds

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "files": self.files,
            "batches": len(lat),
            "seconds": round(self.seconds, 3),
            "batch_ms_p50": round(statistics.median(lat) * 1000, 1),
            "batch_ms_max": round(lat[-1] * 1000, 1),
            "server_cpu_ms_per_file": (
                round(self.server_cpu_seconds * 1000 / self.files, 3)
                if self.server_cpu_seconds is not None
                else None
            ),
        }


CpuClock = Callable[[], float | None]


def push_all(
    api: BenchApi, batches: list[Batch], label: str, cpu: CpuClock | None = None
) -> PushStats:
    latencies: list[float] = []
    last_cursor = 0
    files = 0
    cpu_before = cpu() if cpu else None
    started = time.perf_counter()
    for n, batch in enumerate(batches, 1):
        t0 = time.perf_counter()
        result = api.post_raw("sources/push-batch", batch.body).json()
        latencies.append(time.perf_counter() - t0)
        if result["applied"] != batch.count:
            bad = [r for r in result["results"] if r["status"] != "ok"][:3]
            raise RuntimeError(f"{label}: applied {result['applied']}/{batch.count}: {bad}")
        last_cursor = int(result["eventCursor"])
        files += batch.count
        if n % 10 == 0 or n == len(batches):
            rate = files / (time.perf_counter() - started)
            log(f"{label}: {files} files pushed ({rate:,.0f} files/s)")
    seconds = time.perf_counter() - started
    cpu_after = cpu() if cpu else None
    server_cpu = (
        cpu_after - cpu_before if cpu_after is not None and cpu_before is not None else None
    )
    content_bytes = sum(b.content_bytes for b in batches)
    return PushStats(files, content_bytes, seconds, latencies, last_cursor, server_cpu)


@dataclass
class DeltaStats:
    events: int
    pages: int
    seconds: float
    response_bytes: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


def read_all_deltas(api: BenchApi, source_id: str, limit: int) -> DeltaStats:
    cursor = 0
    events = 0
    pages = 0
    response_bytes = 0
    started = time.perf_counter()
    while True:
        body = json.dumps({"sourceId": source_id, "cursor": cursor, "limit": limit}).encode()
        response = api.post_raw("sources/deltas", body)
        response_bytes += len(response.content)
        page = response.json()
        pages += 1
        events += len(page["events"])
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            break
    seconds = time.perf_counter() - started
    return DeltaStats(events, pages, seconds, response_bytes)


def raw_sqlite_baseline(files: FileSet, batch_size: int) -> tuple[float, float]:
    """Rows/s for plain ``sqlite3`` inserts of the same rows; returns (rows/s, seconds)."""
    with tempfile.TemporaryDirectory(prefix="localsync-bench-raw-") as tmp:
        conn = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
                " content TEXT NOT NULL, sha256 TEXT NOT NULL)"
            )
            rows = list(zip(files.paths, files.contents, strict=True))
            started = time.perf_counter()
            for start in range(0, len(rows), batch_size):
                conn.execute("BEGIN")
                for path, content in rows[start : start + batch_size]:
                    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
                    conn.execute(
                        "INSERT INTO files (path, content, sha256) VALUES (?, ?, ?)",
                        (path, content, digest),
                    )
                conn.execute("COMMIT")
            seconds = time.perf_counter() - started
        finally:
            conn.close()
    return len(rows) / seconds, seconds


_SOURCE_ROW = (
    "INSERT INTO sources (id, workspace_id, name, mode, include_patterns, exclude_patterns,"
    " status, auto_merge, merge_granularity, last_cursor, file_count, created_at, updated_at)"
    " VALUES ('raw', 'w', 'raw', 'bidirectional', '[]', '[]', 'active', true, 'line', 0, 0,"
    " '{now}', '{now}')"
)


def _same_rows(files: FileSet, start: int, count: int, cursor: int) -> dict[str, list[Any]]:
    """The rows the server writes for ``count`` new files (ids of files filled in later)."""
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    rows: dict[str, list[Any]] = {"blobs": [], "files": [], "versions": [], "events": [], "ops": []}
    for n in range(count):
        path, content = files.paths[start + n], files.contents[start + n]
        data = content.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        op = f"raw-{start + n}"
        rows["blobs"].append((digest, content, len(data)))
        rows["files"].append(("raw", path, digest, "ok", "text/markdown", len(data), 1, now, now))
        rows["versions"].append([path, 1, digest, "connector", len(data), op, None, now])
        payload = {
            "origin": "connector",
            "operationId": op,
            "previousHash": None,
            "hash": digest,
            "contentType": "text/markdown",
            "size": len(data),
        }
        event = ("raw", cursor + n + 1, "file.upsert", path, json.dumps(payload), now)
        rows["events"].append(event)
        fingerprint = hashlib.sha256(f"{path}\n{digest}".encode()).hexdigest()
        rows["ops"].append(("raw", op, path, "applied", digest, fingerprint, now))
    return rows


_INSERTS = {
    "blobs": "INSERT INTO blobs (hash, content, size) VALUES ({p}) ON CONFLICT DO NOTHING",
    "files": "INSERT INTO files (source_id, relative_path, current_hash, state, content_type,"
    " size, version_count, created_at, updated_at) VALUES ({p})",
    "versions": "INSERT INTO versions (file_id, seq, hash, origin, size, operation_id,"
    " connector_id, created_at) VALUES ({p})",
    "events": "INSERT INTO events (source_id, cursor, type, relative_path, payload, created_at)"
    " VALUES ({p})",
    "ops": "INSERT INTO operations (source_id, operation_id, relative_path, status, hash,"
    " fingerprint, created_at) VALUES ({p})",
}


def _schema(url: str) -> None:
    """The server's own tables and indexes (migrations), so the baseline writes the same rows
    into the same indexes."""
    from sqlalchemy import create_engine

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from backend.db import run_migrations

    engine = create_engine(url)
    try:
        run_migrations(engine)
    finally:
        engine.dispose()


def raw_sqlite_same_rows(files: FileSet, batch_size: int) -> tuple[float, float]:
    """Files/s for ``sqlite3`` writing the server's rows: one executemany per table, one
    transaction per batch (WAL, synchronous=NORMAL, as the server)."""
    with tempfile.TemporaryDirectory(prefix="localsync-bench-raw-") as tmp:
        db = Path(tmp) / "raw.db"
        _schema(f"sqlite:///{db}")
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            conn.execute(_SOURCE_ROW.format(now=now))
            total = len(files.paths)
            started = time.perf_counter()
            for start in range(0, total, batch_size):
                count = min(batch_size, total - start)
                rows = _same_rows(files, start, count, start)
                conn.execute("BEGIN IMMEDIATE")
                for table in ("blobs", "files"):
                    marks = ", ".join("?" * len(rows[table][0]))
                    conn.executemany(_INSERTS[table].format(p=marks), rows[table])
                paths = [r[1] for r in rows["files"]]
                ids = dict(
                    conn.execute(
                        "SELECT relative_path, id FROM files WHERE source_id = 'raw' AND"
                        f" relative_path IN ({', '.join('?' * len(paths))})",
                        paths,
                    ).fetchall()
                )
                for version in rows["versions"]:
                    version[0] = ids[version[0]]
                for table in ("versions", "events", "ops"):
                    marks = ", ".join("?" * len(rows[table][0]))
                    conn.executemany(_INSERTS[table].format(p=marks), rows[table])
                conn.execute(
                    "UPDATE sources SET last_cursor = ?, file_count = ? WHERE id = 'raw'",
                    (start + count, start + count),
                )
                conn.execute("COMMIT")
            seconds = time.perf_counter() - started
        finally:
            conn.close()
    return total / seconds, seconds


def raw_psycopg_same_rows(url: str, files: FileSet, batch_size: int) -> tuple[float, float]:
    """Files/s for ``psycopg`` writing the server's rows: one executemany per table (psycopg
    pipelines them), one transaction per batch, in a fresh database with the server's schema."""
    import psycopg
    from sqlalchemy.engine import make_url

    with fresh_postgres_database(url, "localsync_bench_raw") as fresh:
        _schema(fresh)
        dsn = make_url(fresh).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as conn:
            now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            conn.execute(_SOURCE_ROW.format(now=now))
            conn.commit()
            total = len(files.paths)
            started = time.perf_counter()
            for start in range(0, total, batch_size):
                count = min(batch_size, total - start)
                rows = _same_rows(files, start, count, start)
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute("SELECT id FROM sources WHERE id = 'raw' FOR UPDATE")
                    marks = ", ".join(["%s"] * len(rows["blobs"][0]))
                    cur.executemany(_INSERTS["blobs"].format(p=marks), rows["blobs"])
                    marks = ", ".join(["%s"] * len(rows["files"][0]))
                    cur.executemany(
                        _INSERTS["files"].format(p=marks) + " RETURNING relative_path, id",
                        rows["files"],
                        returning=True,
                    )
                    ids = {}
                    while True:
                        path, id_ = cur.fetchone() or (None, None)
                        ids[path] = id_
                        if not cur.nextset():
                            break
                    for version in rows["versions"]:
                        version[0] = ids[version[0]]
                    for table in ("versions", "events", "ops"):
                        marks = ", ".join(["%s"] * len(rows[table][0]))
                        cur.executemany(_INSERTS[table].format(p=marks), rows[table])
                    cur.execute(
                        "UPDATE sources SET last_cursor = %s, file_count = %s WHERE id = 'raw'",
                        (start + count, start + count),
                    )
            seconds = time.perf_counter() - started
    return total / seconds, seconds


@contextlib.contextmanager
def database_for_run(url: str | None) -> Iterator[str | None]:
    if url is None or url.startswith("sqlite"):
        yield url
        return
    with fresh_postgres_database(url) as fresh:
        yield fresh


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL whose server hosts a fresh per-run database (default: SQLite)",
    )
    parser.add_argument("--files-1k", type=int, default=5000, help="1 KiB files to push")
    parser.add_argument("--files-100k", type=int, default=1000, help="100 KiB files to push")
    parser.add_argument("--events", type=int, default=10_000, help="events for deltas catch-up")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--deltas-limit", type=int, default=500)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    kind = database_kind(args.database_url)
    log(f"database: {kind}; preparing content")
    maker = ContentMaker()
    small = make_files(maker, args.files_1k, KIB, "small")
    large = make_files(maker, args.files_100k, 100 * KIB, "large")
    topup_count = max(0, args.events - args.files_1k)
    topup = make_files(maker, topup_count, KIB, "topup")
    warm = make_files(maker, 2 * args.batch_size, KIB, "warm")

    deltas_cpu_us: float | None = None
    with database_for_run(args.database_url) as url:
        server = ServerProcess(url).start()
        try:
            with BenchApi(server) as api:
                connector_id = str(api.connector()["id"])
                small_src = api.source(connector_id, "Bench 1 KiB")
                large_src = api.source(connector_id, "Bench 100 KiB")
                warm_src = api.source(connector_id, "Bench warm-up")

                log("warming up")
                push_all(api, encode_batches(warm_src, warm, args.batch_size), "warm-up")

                log(f"pushing {args.files_1k} x 1 KiB in batches of {args.batch_size}")
                small_batches = encode_batches(small_src, small, args.batch_size)
                push_1k = push_all(api, small_batches, "1 KiB", server.cpu_seconds)
                del small_batches

                log(f"pushing {args.files_100k} x 100 KiB in batches of {args.batch_size}")
                large_batches = encode_batches(large_src, large, args.batch_size)
                push_100k = push_all(api, large_batches, "100 KiB", server.cpu_seconds)
                del large_batches, large

                cursor = push_1k.last_cursor
                top: PushStats | None = None
                if cursor < args.events:
                    log(f"topping up the 1 KiB source from {cursor} to {args.events} events")
                    topup_batches = encode_batches(small_src, topup, args.batch_size)
                    top = push_all(api, topup_batches, "top-up", server.cpu_seconds)
                    cursor = top.last_cursor
                    del topup_batches
                if cursor < args.events:
                    raise RuntimeError(f"only {cursor} events after top-up")

                log(f"reading {cursor} events from cursor 0, limit {args.deltas_limit}")
                cpu_before = server.cpu_seconds()
                deltas = read_all_deltas(api, small_src, args.deltas_limit)
                cpu_after = server.cpu_seconds()
                if cpu_before is not None and cpu_after is not None:
                    deltas_cpu_us = (cpu_after - cpu_before) * 1e6 / max(deltas.events, 1)
                if deltas.events != cursor:
                    raise RuntimeError(f"deltas returned {deltas.events} events, expected {cursor}")
                log(f"deltas: {deltas.events_per_s:,.0f} events/s")
        except BaseException:
            log(f"server log tail:\n{server.log_tail()}")
            raise
        finally:
            server.stop()

    log(f"raw sqlite3 baseline: {len(small.paths)} rows, {args.batch_size} per transaction")
    baseline_rows_per_s, baseline_seconds = raw_sqlite_baseline(small, args.batch_size)
    log(f"baseline: {baseline_rows_per_s:,.0f} rows/s")
    same_sqlite, _ = raw_sqlite_same_rows(small, args.batch_size)
    log(f"raw sqlite3, the server's rows: {same_sqlite:,.0f} files/s")
    same_pg: float | None = None
    if kind == "postgresql":
        same_pg, _ = raw_psycopg_same_rows(args.database_url, small, args.batch_size)
        log(f"raw psycopg, the server's rows: {same_pg:,.0f} files/s")

    return {
        "database": kind,
        "push_1k_files_per_s": round(push_1k.files_per_s, 1),
        "push_100k_files_per_s": round(push_100k.files_per_s, 1),
        "push_100k_mib_per_s": round(push_100k.mib_per_s, 2),
        "deltas_events_per_s": round(deltas.events_per_s, 1),
        "baseline_sqlite_rows_per_s": round(baseline_rows_per_s, 1),
        "ratio_push_1k_vs_raw_sqlite": round(push_1k.files_per_s / baseline_rows_per_s, 4),
        "baseline_sqlite_same_rows_files_per_s": round(same_sqlite, 1),
        "ratio_push_1k_vs_raw_sqlite_same_rows": round(push_1k.files_per_s / same_sqlite, 4),
        "baseline_psycopg_same_rows_files_per_s": round(same_pg, 1) if same_pg else None,
        "ratio_push_1k_vs_raw_psycopg_same_rows": (
            round(push_1k.files_per_s / same_pg, 4) if same_pg else None
        ),
        "server_cpu_ms_per_1k_file": push_1k.summary()["server_cpu_ms_per_file"],
        "deltas_server_cpu_us_per_event": round(deltas_cpu_us, 1) if deltas_cpu_us else None,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "details": {
            "batch_size": args.batch_size,
            "push_1k": push_1k.summary(),
            "push_100k": push_100k.summary(),
            "push_1k_topup": top.summary() | {"files_per_s": round(top.files_per_s, 1)}
            if top
            else None,
            "deltas": {
                "events": deltas.events,
                "pages": deltas.pages,
                "limit": args.deltas_limit,
                "seconds": round(deltas.seconds, 3),
                "response_mib": round(deltas.response_bytes / MIB, 2),
            },
            "baseline_seconds": round(baseline_seconds, 3),
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    result = run(args)
    log(f"done in {time.perf_counter() - started:.1f}s")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
