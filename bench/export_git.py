"""``localsync export-git`` throughput against raw ``git fast-import``, and blame cost by depth.

Builds a source with many versions through the service layer (a real database,
SQLite by default or ``--database-url``), then measures in the same run:

- ``export``: the whole export (snapshot read, stream generation, fast-import,
  checkout), in versions per second;
- ``baseline``: ``git fast-import`` alone reading the same stream, pre-built in
  a file, into a fresh repository: the floor the export cannot beat;
- ``stream``: reading the snapshot and writing the stream alone (into memory),
  the export's own share of the work;
- ``incremental``: an export of the last few versions onto the first export;
- ``blame``: one blame of a file walking 10 to ``blame_max_versions`` versions.

Prints one JSON object on stdout. Usage::

    .venv/bin/python bench/export_git.py [--versions 5000] [--database-url URL]
"""

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _server import database_kind, fresh_postgres_database, log

from backend.db import make_engine, run_migrations, session_scope
from backend.export_git import BRANCH, _Stream, export_git, snapshot
from backend.services import blame, connectors, sources, sync
from backend.services.content import sha256_hex
from backend.settings import Settings, load_settings

WORKSPACE = "bench"
FILES = 250


def _content(path: int, version: int) -> str:
    lines = [f"# Note {path}\n"] + [f"line {n} of note {path}\n" for n in range(30)]
    lines[1 + version % 30] = f"edited in version {version}\n"
    return "".join(lines)


def _populate(settings: Settings, versions: int) -> tuple[str, str]:
    """A source whose ``versions`` versions spread over ``FILES`` files, pushed in batches."""
    engine = make_engine(settings)
    with session_scope(engine) as session:
        connector = connectors.register_connector(session, WORKSPACE, "Bench Laptop", "linux", "1")
        spec = sources.SourceSpec(name="Bench", mode="bidirectional", connector_id=connector.id)
        source = sources.create_source(session, WORKSPACE, spec)
        ids = (connector.id, source.id)
    _push(settings, engine, ids, 0, versions)
    _deep_file(settings, engine, ids)
    engine.dispose()
    return ids


DEEP = "deep.md"


def _deep_file(settings: Settings, engine: Any, ids: tuple[str, str]) -> None:
    """One file with more versions than blame walks, each changing a line or adding one."""
    lines = [f"line {n}\n" for n in range(40)]
    base: str | None = None
    batch: list[dict[str, Any]] = []
    for version in range(settings.blame_max_versions + 20):
        if version % 3:
            lines[version % len(lines)] = f"line {version % len(lines)} edited in {version}\n"
        else:
            lines.append(f"added in {version}\n")
        content = "".join(lines)
        batch.append(
            {
                "operationId": f"op-{uuid.uuid4()}",
                "relativePath": DEEP,
                "content": content,
                "baseHash": sha256_hex(base) if base else None,
            }
        )
        base = content
        if len(batch) == settings.max_batch_items:
            _push_items(settings, engine, ids, batch)
            batch = []
    _push_items(settings, engine, ids, batch)


def _push_items(
    settings: Settings, engine: Any, ids: tuple[str, str], batch: list[dict[str, Any]]
) -> None:
    if batch:
        with session_scope(engine) as session:
            sync.push_batch(session, WORKSPACE, ids[1], batch, settings, ids[0])


def _push(settings: Settings, engine: Any, ids: tuple[str, str], start: int, stop: int) -> None:
    connector_id, source_id = ids
    batch: list[dict[str, Any]] = []
    for n in range(start, stop):
        path, version = n % FILES, n // FILES
        content = _content(path, version)
        base = _content(path, version - 1) if version else None
        batch.append(
            {
                "operationId": f"op-{uuid.uuid4()}",
                "relativePath": f"notes/{path:04d}.md",
                "content": content,
                "baseHash": sha256_hex(base) if base else None,
            }
        )
        if len(batch) == settings.max_batch_items or n == stop - 1:
            with session_scope(engine) as session:
                sync.push_batch(session, WORKSPACE, source_id, batch, settings, connector_id)
            batch = []


def _stream_bytes(settings: Settings, source_id: str) -> tuple[bytes, int]:
    """The very stream the export writes, built once into memory."""
    engine = make_engine(settings)
    sink = io.BytesIO()
    with snapshot(engine) as session:
        commits = _Stream(session, source_id, continues=False).write(sink, 0)
    engine.dispose()
    return sink.getvalue() + b"done\n", commits


def _raw_fast_import(stream: bytes, work: Path) -> float:
    repo = work / "raw"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    started = time.perf_counter()
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet", "--done"], input=stream, check=True
    )
    return time.perf_counter() - started


def _blame_table(settings: Settings, source_id: str, depths: list[int]) -> list[dict[str, Any]]:
    """Blame the deep file's newest version, walking ``depth`` versions back."""
    from sqlmodel import select

    from backend.models import File

    engine = make_engine(settings)
    cap = settings.blame_max_versions
    rows = []
    with session_scope(engine, read_only=True) as session:
        statement = select(File).where(File.source_id == source_id, File.relative_path == DEEP)
        file = session.exec(statement).first()
        assert file is not None and file.id is not None
        file_id, seq = file.id, file.version_count
    for depth in depths:
        started = time.perf_counter()
        with session_scope(engine, read_only=True) as session:
            loaded = blame.load_blame(session, WORKSPACE, file_id, seq, depth, cap)
        read = time.perf_counter() - started
        result = blame.build_blame(loaded)
        total = time.perf_counter() - started
        rows.append(
            {
                "versions_walked": result.versions_walked,
                "read_ms": round(read * 1000, 1),
                "total_ms": round(total * 1000, 1),
                "ms_per_version": round(total * 1000 / result.versions_walked, 2),
            }
        )
    engine.dispose()
    return rows


def run(settings: Settings, versions: int, work: Path) -> dict[str, Any]:
    log(f"pushing {versions} versions over {FILES} files")
    connector_id, source_id = _populate(settings, versions)
    started = time.perf_counter()
    stream, commits = _stream_bytes(settings, source_id)
    generated = time.perf_counter() - started
    log(f"stream: {len(stream) / 1e6:.1f} MB, {commits} commits; raw fast-import")
    raw = _raw_fast_import(stream, work)

    log("export-git")
    engine = make_engine(settings)
    started = time.perf_counter()
    report = export_git(engine, source_id, work / "export", incremental=False)
    exported = time.perf_counter() - started

    extra = 2 * FILES
    _push(settings, engine, (connector_id, source_id), versions, versions + extra)
    started = time.perf_counter()
    more = export_git(engine, source_id, work / "export", incremental=True)
    incremental = time.perf_counter() - started
    engine.dispose()
    count = subprocess.run(
        ["git", "-C", str(work / "export"), "rev-list", "--count", BRANCH],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    depths = sorted({1, 10, 50, 100, settings.blame_max_versions})
    log(f"blame at depths {depths}")
    return {
        "database": database_kind(settings.database_url),
        "machine": "shared (2 cores, other work running): read ratios, not absolutes",
        "versions": report.commits,
        "versions_pushed": versions,
        "export_seconds": round(exported, 3),
        "export_versions_per_second": round(report.commits / exported),
        "baseline_raw_fast_import_seconds": round(raw, 3),
        "baseline_versions_per_second": round(commits / raw),
        "export_over_baseline": round(exported / raw, 2),
        "stream_generation_seconds": round(generated, 3),
        "stream_versions_per_second": round(commits / generated),
        "incremental_versions": more.commits,
        "incremental_seconds": round(incremental, 3),
        "commits_in_repository": int(count),
        "blame": _blame_table(settings, source_id, depths),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=5000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server to use")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="export-git-bench-") as tmp:
        work = Path(tmp)
        if args.database_url and args.database_url.startswith("postgresql"):
            with fresh_postgres_database(args.database_url) as url:
                result = _measure(url, work, args.versions)
        else:
            result = _measure(
                args.database_url or f"sqlite:///{work / 'bench.db'}", work, args.versions
            )
    json.dump(result, sys.stdout, indent=2)
    print()


def _measure(url: str, work: Path, versions: int) -> dict[str, Any]:
    settings = load_settings(database_url=url, data_dir=work / "data")
    engine = make_engine(settings)
    run_migrations(engine)
    engine.dispose()
    return run(settings, versions, work)


if __name__ == "__main__":
    main()
