"""Benchmark: what 100 new files cost as a source grows (1k, 10k, 100k files).

Run from the repository root:

    .venv/bin/python bench/push_growth.py                       # SQLite (default)
    .venv/bin/python bench/push_growth.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Each size gets a source of its own, filled by a direct path (rows written with
SQL next to the running server: files, versions, blobs of 1 KiB, events and
operations, and the source's cursor and counter), since pushing 100k files
through the API would take most of the run. Statistics are not refreshed after
the fill: the point is that a batch's lookups do not depend on them. Then
batches of 100 new 1 KiB files are pushed through the real server, and their
median latency and the server's CPU per batch are compared with the smallest
size's. Prints one JSON object on stdout; progress goes to stderr.
"""

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _server import BenchApi, ServerProcess, database_kind, fresh_postgres_database, log
from push_batch import KIB, ContentMaker, encode_batches, make_files
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

_SERIES = {
    "postgresql": "SELECT generate_series(1, :n) AS i",
    "sqlite": "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < :n)"
    " SELECT i FROM c",
}
_HASH = {
    "postgresql": "lpad(to_hex(s.i), 64, '0')",
    "sqlite": "printf('%064x', s.i)",
}
_PATH = {
    "postgresql": "'fill/dir-' || (s.i / 100) || '/note-' || s.i || '.md'",
    "sqlite": "'fill/dir-' || (s.i / 100) || '/note-' || s.i || '.md'",
}


def fill(engine: Engine, source_id: str, count: int, salt: str) -> float:
    """Give ``source_id`` ``count`` files with one version each; returns seconds taken."""
    dialect = engine.dialect.name
    series, digest = _SERIES[dialect], _HASH[dialect].replace("s.i", f"(s.i + {salt})")
    path = _PATH[dialect]
    now = "CURRENT_TIMESTAMP"
    filler = "'" + "x" * (KIB - 16) + "'"
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO blobs (hash, content, size) SELECT {digest}, {filler} || s.i,"
                f" {KIB} FROM ({series}) AS s"
            ),
            {"n": count},
        )
        conn.execute(
            text(
                "INSERT INTO files (source_id, relative_path, current_hash, state, content_type,"
                f" size, version_count, created_at, updated_at) SELECT :sid, {path}, {digest},"
                f" 'ok', 'text/markdown', {KIB}, 1, {now}, {now} FROM ({series}) AS s"
            ),
            {"n": count, "sid": source_id},
        )
        conn.execute(
            text(
                "INSERT INTO versions (file_id, seq, hash, origin, size, created_at)"
                f" SELECT id, 1, current_hash, 'connector', {KIB}, {now} FROM files"
                " WHERE source_id = :sid"
            ),
            {"sid": source_id},
        )
        conn.execute(
            text(
                "INSERT INTO events (source_id, cursor, type, relative_path, payload, created_at)"
                f" SELECT :sid, s.i, 'file.upsert', {path}, '{{}}', {now} FROM ({series}) AS s"
            ),
            {"n": count, "sid": source_id},
        )
        conn.execute(
            text(
                "INSERT INTO operations (source_id, operation_id, relative_path, status, hash,"
                f" created_at) SELECT :sid, 'fill-' || s.i, {path}, 'applied', {digest}, {now}"
                f" FROM ({series}) AS s"
            ),
            {"n": count, "sid": source_id},
        )
        conn.execute(
            text("UPDATE sources SET file_count = :n, last_cursor = :n WHERE id = :sid"),
            {"n": count, "sid": source_id},
        )
    return time.perf_counter() - started


def settle(engine: Engine) -> None:
    """Leave no cost of the fill for the pushes to pay: SQLite's log is checkpointed."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def measure_interleaved(
    api: BenchApi,
    server: ServerProcess,
    sources: dict[int, str],
    maker: ContentMaker,
    args: Any,
    tag: str,
) -> dict[str, Any]:
    """Push one batch to each size in turn, round after round, so a busy moment of the
    machine falls on every size alike; latency and server CPU are kept per batch."""
    batches = {
        size: encode_batches(
            source_id,
            make_files(maker, args.batches * args.batch_size, KIB, f"{tag}{size}"),
            args.batch_size,
        )
        for size, source_id in sources.items()
    }
    latencies: dict[int, list[float]] = {size: [] for size in sources}
    cpu: dict[int, list[float]] = {size: [] for size in sources}
    for round_ in range(args.batches):
        for size in sources:
            batch = batches[size][round_]
            cpu_before = server.cpu_seconds()
            started = time.perf_counter()
            result = api.post_raw("sources/push-batch", batch.body).json()
            latencies[size].append(time.perf_counter() - started)
            cpu_after = server.cpu_seconds()
            if cpu_before is not None and cpu_after is not None:
                cpu[size].append(cpu_after - cpu_before)
            if result["applied"] != batch.count:
                raise RuntimeError(f"{size}: applied {result['applied']}/{batch.count}")
    return {
        str(size): {
            "batch_ms_p50": round(statistics.median(latencies[size]) * 1000, 1),
            "batch_ms_min": round(min(latencies[size]) * 1000, 1),
            "server_cpu_ms_per_batch": (
                round(statistics.mean(cpu[size]) * 1000, 2) if cpu[size] else None
            ),
        }
        for size in sources
    }


@contextlib.contextmanager
def database_for_run(url: str | None) -> Iterator[str]:
    if url is not None and url.startswith("postgresql"):
        with fresh_postgres_database(url, "localsync_growth") as fresh:
            yield fresh
        return
    with tempfile.TemporaryDirectory(prefix="localsync-growth-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'growth.db'}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    maker = ContentMaker()
    sizes: list[int] = args.sizes
    results: dict[str, Any] = {}
    with database_for_run(args.database_url) as url:
        server = ServerProcess(url).start()
        engine = create_engine(url)
        try:
            with BenchApi(server) as api:
                connector_id = str(api.connector()["id"])
                sources: dict[int, str] = {}
                for n, size in enumerate(sizes):
                    sources[size] = api.source(connector_id, f"grown to {size}")
                    seconds = fill(engine, sources[size], size, salt=str(n * 10_000_000))
                    log(f"{size} files filled in {seconds:.1f}s")
                settle(engine)
                warm_up = argparse.Namespace(batches=2, batch_size=args.batch_size)
                measure_interleaved(api, server, sources, maker, warm_up, "warm")
                log(f"pushing {args.batches} rounds of {args.batch_size} new files to each size")
                results = measure_interleaved(api, server, sources, maker, args, "new")
                log(str(results))
        except BaseException:
            log(f"server log tail:\n{server.log_tail()}")
            raise
        finally:
            engine.dispose()
            server.stop()
    small, large = results[str(sizes[0])], results[str(sizes[-1])]
    ratio_latency = large["batch_ms_p50"] / small["batch_ms_p50"]
    cpu_small, cpu_large = small["server_cpu_ms_per_batch"], large["server_cpu_ms_per_batch"]
    return {
        "database": database_kind(args.database_url),
        "sizes": sizes,
        "by_size": results,
        f"ratio_p50_{sizes[-1]}_vs_{sizes[0]}": round(ratio_latency, 3),
        f"ratio_cpu_{sizes[-1]}_vs_{sizes[0]}": (
            round(cpu_large / cpu_small, 3) if cpu_small and cpu_large else None
        ),
        "details": {"batches_per_size": args.batches, "batch_size": args.batch_size},
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "shared machine: compare ratios measured in the same run",
        },
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--batches", type=int, default=15, help="batches of new files per size")
    parser.add_argument("--batch-size", type=int, default=100)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import json

    result = run(parse_args(argv))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
