"""Migration 0002 on a database that already holds operations from before it.

Operations recorded before fingerprints existed keep a NULL fingerprint; a
replay of them is still a ``duplicate`` and a reuse of their id for other
content is still refused, compared by the path and hash they stored.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from backend.db import MIGRATIONS_DIR
from tests.conftest import LiveServer, fresh_pg_database, make_settings
from tests.factories import Api, delete, sha, upsert


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's backend, dropped afterwards (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    with fresh_pg_database("localsync_upgrade") as url:
        yield url


def _migrate(url: str, step: Callable[[Config], None]) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            step(config)
    finally:
        engine.dispose()


def _operations(url: str) -> list[tuple[str, str | None]]:
    engine = create_engine(url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("operations")}
        with engine.connect() as conn:
            if "fingerprint" not in columns:
                rows = conn.execute(text("SELECT operation_id FROM operations"))
                return sorted((r[0], None) for r in rows)
            rows = conn.execute(text("SELECT operation_id, fingerprint FROM operations"))
            return sorted((r[0], r[1]) for r in rows)
    finally:
        engine.dispose()


@contextmanager
def _serving(url: str, data_dir: Path, workspace: str) -> Iterator[Api]:
    server = LiveServer(make_settings(url, data_dir)).start()
    try:
        with Api(server.url, server.settings, workspace) as api:
            yield api
    finally:
        server.stop()


def test_operations_from_before_0002_are_still_recognised(
    fresh_url: str, tmp_path: Path, workspace: str
) -> None:
    base = "one\ntwo\nthree\nfour\nfive\n"
    merged_push = upsert("m.md", base.replace("one", "local"), base=sha(base), op="op-merge")
    applied_push = upsert("a.md", "A", op="op-applied")
    delete_push = delete("d.md", sha("D"), op="op-delete")

    with _serving(fresh_url, tmp_path, workspace) as api:
        source = api.source()
        sid = source["id"]
        api.push(sid, upsert("m.md", base), upsert("d.md", "D"))
        api.push(sid, upsert("m.md", base.replace("five", "remote"), base=sha(base)))
        result = api.push(sid, merged_push, applied_push, delete_push)
        assert [r["status"] for r in result["results"]] == ["merged", "applied", "applied"]
        merged_hash = result["results"][0]["hash"]

    # Back to the schema before fingerprints: the rows stay, the column goes.
    _migrate(fresh_url, lambda config: command.downgrade(config, "0001"))
    assert all(fp is None for _, fp in _operations(fresh_url))
    assert len(_operations(fresh_url)) == 6

    with _serving(fresh_url, tmp_path, workspace) as api:
        assert all(fp is None for _, fp in _operations(fresh_url))
        before = (api.files(sid, includeDeleted=True), api.deltas(sid))
        replay = api.push(sid, merged_push, applied_push, delete_push)
        assert [(r["status"], r["hash"]) for r in replay["results"]] == [
            ("duplicate", merged_hash),
            ("duplicate", sha("A")),
            ("duplicate", None),
        ]
        reuse = api.push(
            sid,
            upsert("a.md", "other", op="op-applied"),
            upsert("elsewhere.md", "A", op="op-applied"),
            upsert("d.md", "back", op="op-delete"),
            # A merge stored its result's hash, so an old merged row compares by path only.
            upsert("other.md", "x", op="op-merge"),
        )
        assert [(r["status"], r["code"]) for r in reuse["results"]] == [
            ("rejected", "OPERATION_ID_REUSED")
        ] * 4
        assert (api.files(sid, includeDeleted=True), api.deltas(sid)) == before
        # New operations get a fingerprint.
        api.push(sid, upsert("new.md", "N", op="op-new"))
        fingerprints = dict(_operations(fresh_url))
        assert fingerprints["op-new"] is not None and len(fingerprints["op-new"]) == 64
        assert fingerprints["op-applied"] is None
