"""Benchmark the folder connector's initial sync against a real ``localsync serve``.

Run from the repository root:

    .venv/bin/python bench/connector_sync.py [--files 10000] [--megabytes 50]

Generates a folder of markdown (default 10,000 files, 50 MB, 100 directories),
copies it with ``cp -r`` as a baseline, then times ``sync --once`` (a subprocess:
register, create the source, scan, journal, push in batches of 100) into a fresh
SQLite-backed server. Prints one JSON object on stdout; progress goes to stderr.
"""

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _server import REPO, BenchApi, ServerProcess, log

WORDS = [
    "sync",
    "vault",
    "note",
    "draft",
    "merge",
    "local",
    "remote",
    "cursor",
    "event",
    "history",
    "version",
    "conflict",
    "markdown",
    "heading",
    "list",
    "link",
    "table",
    "source",
    "connector",
    "workspace",
    "batch",
    "delta",
    "blob",
    "hash",
]


def generate(root: Path, files: int, total_bytes: int) -> int:
    rng = random.Random(7)
    per_file = total_bytes // files
    written = 0
    for i in range(files):
        directory = root / f"d{i % 100:02}"
        directory.mkdir(parents=True, exist_ok=True)
        lines = [f"# Note {i}\n"]
        size = len(lines[0])
        while size < per_file:
            line = " ".join(rng.choice(WORDS) for _ in range(12)) + "\n"
            lines.append(line)
            size += len(line)
        data = "".join(lines).encode()
        (directory / f"note-{i:05}.md").write_bytes(data)
        written += len(data)
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="connector-bench-") as tmp:
        folder = Path(tmp) / "vault"
        folder.mkdir()
        log(f"generating {args.files} files, {args.megabytes} MB")
        size = generate(folder, args.files, args.megabytes * 1024 * 1024)

        start = time.perf_counter()
        subprocess.run(["cp", "-r", str(folder), str(Path(tmp) / "copy")], check=True)
        cp_seconds = time.perf_counter() - start
        log(f"cp -r: {cp_seconds:.2f}s")

        with ServerProcess() as server:
            workspace = f"ws-bench-{uuid.uuid4().hex[:8]}"
            cmd = [
                sys.executable,
                "-m",
                "connector.cli",
                "sync",
                str(folder),
                "--server",
                server.url,
                "--token",
                server.token([workspace]),
                "--workspace",
                workspace,
                "--once",
            ]
            start = time.perf_counter()
            result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
            sync_seconds = time.perf_counter() - start
            if result.returncode != 0:
                raise SystemExit(f"sync failed ({result.returncode}):\n{result.stderr[-3000:]}")
            log(f"sync --once: {sync_seconds:.2f}s")
            with BenchApi(server, workspace) as api:
                (source,) = api.call("sources/list", {})
                count = source.get("fileCount")
    report = {
        "files": args.files,
        "bytes": size,
        "server_file_count": count,
        "sync_seconds": round(sync_seconds, 3),
        "sync_files_per_second": round(args.files / sync_seconds, 1),
        "sync_megabytes_per_second": round(size / 1024 / 1024 / sync_seconds, 2),
        "cp_seconds": round(cp_seconds, 3),
        "cp_files_per_second": round(args.files / cp_seconds, 1),
        "ratio_sync_over_cp": round(sync_seconds / cp_seconds, 1),
        "goal_files_per_second": 500,
        "meets_goal": args.files / sync_seconds >= 500,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
