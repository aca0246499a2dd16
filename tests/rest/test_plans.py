"""Per-batch lookups use unique indexes whatever the statistics (PostgreSQL).

A fresh database that was never analyzed holds a few thousand files of one
source; the statements the services send for a batch's lookups (files by path,
operations by id, blobs by hash, the folders a path needs) are captured as sent
and explained. Without statistics the planner guesses that a source holds 0.5%
of the rows; a plan that trusted the guess would walk the whole source.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.db import db_time, run_migrations
from backend.models import utcnow
from backend.services.content import load_blobs, sha256_hex
from backend.services.deltas import DeltaPage, read_deltas
from backend.services.files import load_file_rows
from backend.services.sync import _processed
from backend.services.tree import Occupancy
from tests.conftest import PG_ENV, fresh_pg_database

FILES = 3000
BATCH = 100
TABLES = ("sources", "files", "versions", "operations", "events", "blobs")

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason="a PostgreSQL planner property")


@pytest.fixture(scope="module")
def never_analyzed() -> Iterator[Engine]:
    with fresh_pg_database("localsync_plans") as url:
        engine = create_engine(url)
        try:
            run_migrations(engine)
            _fill(engine)
            yield engine
        finally:
            engine.dispose()


def _fill(engine: Engine) -> None:
    now = db_time(utcnow())
    with engine.begin() as conn:
        for table in TABLES:  # autovacuum must not analyze behind the test's back
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        conn.execute(
            text(
                "INSERT INTO sources (id, workspace_id, name, mode, include_patterns,"
                " exclude_patterns, status, auto_merge, merge_granularity, last_cursor,"
                " file_count, created_at, updated_at) VALUES ('s', 'w', 'n', 'bidirectional',"
                " '[]', '[]', 'active', true, 'line', 0, :n, :t, :t)"
            ),
            {"n": FILES, "t": now},
        )
        conn.execute(
            text(
                "INSERT INTO files (source_id, relative_path, current_hash, state, content_type,"
                " size, version_count, created_at, updated_at)"
                " SELECT 's', 'dir-' || (i / 100) || '/note-' || i || '.md', md5(i::text),"
                " 'ok', 'text/markdown', 10, 1, :t, :t FROM generate_series(1, :n) AS i"
            ),
            {"n": FILES, "t": now},
        )
        conn.execute(
            text(
                "INSERT INTO operations (source_id, operation_id, relative_path, status,"
                " created_at) SELECT 's', 'op-' || i, 'p', 'applied', :t"
                " FROM generate_series(1, :n) AS i"
            ),
            {"n": FILES, "t": now},
        )
        conn.execute(
            text(
                "INSERT INTO blobs (hash, content, size) SELECT encode(sha256(i::text::bytea),"
                " 'hex'), i::text, 1 FROM generate_series(1, :n) AS i"
            ),
            {"n": FILES},
        )
        conn.execute(
            text(
                "INSERT INTO events (source_id, cursor, type, relative_path, payload, created_at)"
                " SELECT 's', i, 'file.upsert', 'p', json_build_object('hash',"
                " encode(sha256(i::text::bytea), 'hex'), 'connectorId', 'c'), :t"
                " FROM generate_series(1, :n) AS i"
            ),
            {"n": FILES, "t": now},
        )
        analyzed: int = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('files', 'operations',"
                " 'blobs', 'events') AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)"
            )
        ).scalar_one()
        assert analyzed == 0


def _explained(engine: Engine, run: Any) -> list[str]:
    """The plans of the SELECTs ``run(session)`` sends, explained as they were sent."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            run(session)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert sent, "no statement was captured"
    plans = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, params in sent:
            cursor.execute("EXPLAIN " + statement, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    finally:
        raw.close()
    return plans


def _paths(count: int) -> list[str]:
    return [f"dir-{i // 100}/note-{i}.md" for i in range(1, count * 30, 30)][:count]


def _assert_indexed(plans: list[str], index: str) -> None:
    for plan in plans:
        assert "Seq Scan" not in plan, plan
        assert index in plan, plan


def test_files_by_path_use_the_unique_index(never_analyzed: Engine) -> None:
    paths = _paths(BATCH)
    found: dict[str, Any] = {}
    plans = _explained(never_analyzed, lambda s: found.update(load_file_rows(s, "s", paths)))
    assert len(found) == BATCH
    _assert_indexed(plans, "files_source_id_relative_path_key")


def test_operations_by_id_use_the_primary_key(never_analyzed: Engine) -> None:
    ids = {f"op-{i}" for i in range(1, FILES, FILES // BATCH)}
    found: dict[str, Any] = {}
    plans = _explained(never_analyzed, lambda s: found.update(_processed(s, "s", ids)))
    assert len(found) == len(ids)
    _assert_indexed(plans, "operations_pkey")


def test_blobs_by_hash_use_the_primary_key(never_analyzed: Engine) -> None:
    hashes = [sha256_hex(str(i)) for i in range(1, FILES, FILES // BATCH)]
    found: dict[str, str] = {}
    plans = _explained(never_analyzed, lambda s: found.update(load_blobs(s, hashes)))
    assert len(found) == len(hashes)
    _assert_indexed(plans, "blobs_pkey")


def test_the_folders_of_new_paths_use_the_unique_index(never_analyzed: Engine) -> None:
    fresh = [f"new-{i}/deeper/file-{i}.md" for i in range(BATCH)]
    plans = _explained(never_analyzed, lambda s: Occupancy(s, "s", fresh))
    folders = [p for p in plans if "files_source_id_relative_path_key" in p]
    assert folders, plans
    for plan in plans:
        assert "Seq Scan" not in plan, plan


@pytest.mark.parametrize("own", [None, "c", "other"])
def test_a_deltas_page_walks_the_cursor_index_and_probes_blobs_by_key(
    never_analyzed: Engine, own: str | None
) -> None:
    pages: list[DeltaPage] = []
    plans = _explained(
        never_analyzed, lambda s: pages.append(read_deltas(s, "w", "s", 1000, 500, 100, own))
    )
    [page] = pages
    assert [e.cursor for e in page.events] == list(range(1001, 1501))
    if own == "c":
        assert (page.contents, page.omitted) == ({}, set(range(1001, 1501)))
    else:
        assert len(page.contents) == 500 and not page.pruned and not page.omitted
    [plan] = [p for p in plans if "events" in p]
    _assert_indexed([plan], "events_source_id_cursor_key")
    if own != "c":
        assert "blobs_pkey" in plan, plan
