"""File counts are a counter kept by every writer, never a count of files per call."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from backend.db import MIGRATIONS_DIR
from tests.conftest import fresh_pg_database
from tests.factories import Api, delete, sha, upsert


def _listed_count(api: Api, source_id: str) -> int:
    (row,) = [s for s in api.sources() if s["id"] == source_id]
    return int(row["fileCount"])


def _live_files(api: Api, source_id: str) -> int:
    return sum(f["state"] != "deleted" for f in api.files(source_id, includeDeleted=True))


def test_the_count_follows_every_kind_of_write(api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, *(upsert(f"n/{i}.md", f"note {i}\n") for i in range(5)))
    assert _listed_count(api, sid) == 5
    api.push(sid, delete("n/0.md", sha("note 0\n")), delete("n/1.md", sha("note 1\n")))
    assert _listed_count(api, sid) == 3
    api.push(sid, upsert("n/0.md", "back\n"))  # a deleted path lives again
    api.update(sid, "raven.md", "from raven\n")
    assert _listed_count(api, sid) == 5
    # A conflict whose local side deletes, resolved by keeping the delete.
    api.push(sid, upsert("n/2.md", "note 2 remote\n", base=sha("note 2\n")))
    conflict = api.push(sid, delete("n/2.md", sha("note 2\n")))["results"][0]
    assert conflict["status"] == "conflict"
    assert _listed_count(api, sid) == 5  # a file in conflict still counts
    api.resolve(conflict["conflictId"], "keep_local")
    assert _listed_count(api, sid) == 4
    # A rejected item and a replay change nothing.
    replay = upsert("n/3.md", "note 3 again\n", base=sha("note 3\n"), op="same-op")
    api.push(sid, replay, {"operationId": "bad", "relativePath": "../x.md", "content": "x"})
    api.push(sid, replay)
    assert _listed_count(api, sid) == _live_files(api, sid) == 4


def test_listing_reads_the_counter_instead_of_counting(api: Api, db_engine: Engine) -> None:
    """A file row written behind the server's back is not seen: nothing counts files per call."""
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "a\n"))
    with db_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO files (source_id, relative_path, state, content_type, size,"
                " version_count, created_at, updated_at) VALUES (:s, 'ghost.md', 'ok',"
                " 'text/markdown', 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"s": sid},
        )
    assert _listed_count(api, sid) == 1


def _upgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _backfill_on(url: str) -> None:
    engine = create_engine(url)
    try:
        _upgrade(engine, "0002")
        with engine.begin() as conn:
            for sid in ("s1", "s2"):
                conn.execute(
                    text(
                        "INSERT INTO sources (id, workspace_id, name, mode, include_patterns,"
                        " exclude_patterns, status, auto_merge, merge_granularity, last_cursor,"
                        " created_at, updated_at) VALUES (:id, 'w', 'n', 'bidirectional', '[]',"
                        " '[]', 'active', true, 'line', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": sid},
                )
            for i, state in enumerate(["ok", "ok", "conflict", "deleted"]):
                conn.execute(
                    text(
                        "INSERT INTO files (source_id, relative_path, state, content_type, size,"
                        " version_count, created_at, updated_at) VALUES ('s1', :p, :st,"
                        " 'text/markdown', 0, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"p": f"f{i}.md", "st": state},
                )
        _upgrade(engine, "head")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, file_count FROM sources")).all()
        counts = {str(r[0]): int(r[1]) for r in rows}
        assert counts == {"s1": 3, "s2": 0}
    finally:
        engine.dispose()


def test_the_upgrade_backfills_counts_of_existing_data(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        _backfill_on(f"sqlite:///{tmp_path / 'old.db'}")
        return
    with fresh_pg_database("localsync_backfill") as url:
        _backfill_on(url)
