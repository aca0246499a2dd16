"""Benchmark ``localsync serve --workers 2`` against one worker on PostgreSQL.

    .venv/bin/python bench/workers.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        [--clients 8] [--batches 20] [--batch 20] [--rounds 2]

Each run gets a fresh database beside ``--database-url`` (dropped afterwards).
``--clients`` threads each push ``--batches`` batches of ``--batch`` new files
(~2 KB each) to a source of their own, all at once. Runs alternate between one
and two workers for ``--rounds`` rounds, so a shared machine's drift touches
both alike. Prints one JSON object:

- per run: files/s (wall clock), and CPU seconds per file of the server (all its
  processes) and of PostgreSQL (every ``postgres`` process on this machine:
  other databases' work counts too when the server is shared);
- ``ratio``: two workers' best files/s over one worker's best (goal >= 1.0);
- ``estimate``: files/s on 8 and 32 cores from the measured CPU per file, if
  the server's and PostgreSQL's work spread over every core
  (cores / (server + PostgreSQL CPU seconds per file)); a ceiling that ignores
  disk flushes, lock waits and the database's own limits.
"""

import argparse
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _server import BenchApi, ServerProcess, fresh_postgres_database, log, process_cpu_seconds

CONTENT = ("Some notes, one line after another, like a research vault holds.\n" * 32)[:2000]


def postgres_cpu_seconds() -> float:
    """CPU seconds of every live ``postgres`` process on this machine."""
    total = 0.0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        total += process_cpu_seconds(int(comm.parent.name)) or 0.0
    return total


def _client(api: BenchApi, source: str, batches: int, batch: int, n: int) -> None:
    bodies = []
    for b in range(batches):
        items = [
            {
                "operationId": f"c{n}-{b}-{i}",
                "relativePath": f"notes/{b}/{i}.md",
                "content": f"{n} {b} {i}\n{CONTENT}",
            }
            for i in range(batch)
        ]
        bodies.append(json.dumps({"sourceId": source, "items": items}).encode())
    for body in bodies:
        result = api.post_raw("sources/push-batch", body).json()
        assert result["applied"] == batch, result


def one_run(base_url: str, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    with (
        fresh_postgres_database(base_url) as url,
        ServerProcess(url, workers=workers) as server,
    ):
        apis = [BenchApi(server, f"ws-{uuid.uuid4().hex[:8]}") for _ in range(args.clients)]
        sources = [api.source(api.connector()["id"]) for api in apis]
        threads = [
            threading.Thread(target=_client, args=(api, src, args.batches, args.batch, n))
            for n, (api, src) in enumerate(zip(apis, sources, strict=True))
        ]
        server_before, pg_before = server.cpu_seconds() or 0.0, postgres_cpu_seconds()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        server_cpu = (server.cpu_seconds() or 0.0) - server_before
        pg_cpu = postgres_cpu_seconds() - pg_before
        for api in apis:
            api.close()
    files = args.clients * args.batches * args.batch
    return {
        "workers": workers,
        "files": files,
        "seconds": round(elapsed, 2),
        "files_per_s": round(files / elapsed, 1),
        "server_cpu_ms_per_file": round(1000 * server_cpu / files, 3),
        "postgres_cpu_ms_per_file": round(1000 * pg_cpu / files, 3),
    }


def estimate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Files/s if every core did useful work: cores / CPU seconds per file (best run)."""
    best = min(runs, key=lambda r: r["server_cpu_ms_per_file"] + r["postgres_cpu_ms_per_file"])
    per_file = (best["server_cpu_ms_per_file"] + best["postgres_cpu_ms_per_file"]) / 1000
    return {
        "cpu_ms_per_file": round(per_file * 1000, 3),
        "server_share": round(best["server_cpu_ms_per_file"] / (per_file * 1000), 2),
        **{f"files_per_s_{cores}_cores": round(cores / per_file) for cores in (8, 32)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        for workers in (1, 2):
            log(f"round {round_ + 1}: {workers} worker(s)")
            runs.append(one_run(args.database_url, workers, args))
            log(json.dumps(runs[-1]))
    best = {w: max(r["files_per_s"] for r in runs if r["workers"] == w) for w in (1, 2)}
    result = {
        "machine_cores": os.cpu_count(),
        "runs": runs,
        "ratio_2_over_1": round(best[2] / best[1], 2),
        "estimate": estimate(runs),
        "note": "shared machine: compare ratios within this run",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
