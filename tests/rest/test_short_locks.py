"""Writers hold a source's lock only to write: reading, validating and merging come first.

What a batch decided before taking the lock is checked again under it: a file
that moved in between is decided again, its merge redone, so nothing is lost.
"""

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.db import make_engine
from backend.services.sync import apply_plan, plan_batch
from backend.settings import Settings
from tests.conftest import PG_ENV, LiveServer
from tests.factories import Api, sha, upsert

BASE = "".join(f"line {i}\n" for i in range(30))


def _edit(text_: str, line: int, word: str) -> str:
    lines = text_.splitlines(keepends=True)
    lines[line] = f"line {line} {word}\n"
    return "".join(lines)


@contextmanager
def _source_locked(settings: Settings, db_engine: Engine, source_id: str) -> Iterator[None]:
    """Hold the source's write lock the way a server's writer does, from outside."""
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        other = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with db_engine.connect() as conn:
        conn.execute(text("SELECT id FROM sources WHERE id = :s FOR UPDATE"), {"s": source_id})
        try:
            yield
        finally:
            conn.rollback()


def _impatient_engine(settings: Settings) -> Engine:
    """The server's engine, but one that gives up on a lock after two seconds."""
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        return make_engine(settings.model_copy(update={"sqlite_busy_timeout_seconds": 2}))
    return create_engine(url, connect_args={"options": "-c lock_timeout=2000"})


def test_planning_and_merging_need_no_lock(api: Api, settings: Settings, db_engine: Engine) -> None:
    sid = api.source()["id"]
    theirs = _edit(BASE, 2, "theirs")
    api.push(sid, upsert("f.md", BASE))
    api.push(sid, upsert("f.md", theirs, base=sha(BASE)))
    mine = _edit(BASE, 25, "mine")
    items = [upsert("f.md", mine, base=sha(BASE)), upsert("new.md", "new\n")]
    engine = _impatient_engine(settings)
    try:
        with Session(engine) as session:
            with _source_locked(settings, db_engine, sid):
                plan = plan_batch(session, api.workspace, sid, items, settings)
            assert list(plan.merges.values()) == [_edit(theirs, 25, "mine")]
            result = apply_plan(session, plan)
            session.commit()
    finally:
        engine.dispose()
    assert [r.status for r in result.results] == ["merged", "applied"]
    assert api.file(sid, "f.md")["content"] == _edit(theirs, 25, "mine")


def test_a_file_that_moved_before_the_lock_is_merged_again(
    api: Api, settings: Settings, db_engine: Engine
) -> None:
    sid = api.source()["id"]
    theirs = _edit(BASE, 2, "theirs")
    api.push(sid, upsert("f.md", BASE))
    api.push(sid, upsert("f.md", theirs, base=sha(BASE)))
    mine = _edit(BASE, 25, "mine")
    engine = _impatient_engine(settings)
    try:
        with Session(engine) as session:
            plan = plan_batch(
                session, api.workspace, sid, [upsert("f.md", mine, base=sha(BASE))], settings
            )
            session.commit()  # the plan's reads end here, as they do before the lock
            assert list(plan.merges.values()) == [_edit(theirs, 25, "mine")]
            # Meanwhile another writer changes the file.
            later = _edit(theirs, 14, "later")
            api.update(sid, "f.md", later, base=sha(theirs))
            result = apply_plan(session, plan)
            session.commit()
    finally:
        engine.dispose()
    (item,) = result.results
    assert item.status == "merged"
    final = api.file(sid, "f.md")["content"]
    assert final == _edit(later, 25, "mine")  # the edit made meanwhile is kept
    assert item.hash == sha(final)
    history = [v["hash"] for v in api.history(sid, "f.md")]
    assert sha(mine) in history and sha(later) in history


def test_a_moved_file_that_now_collides_becomes_a_conflict(
    api: Api, settings: Settings, db_engine: Engine
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("f.md", BASE))
    api.push(sid, upsert("f.md", _edit(BASE, 2, "theirs"), base=sha(BASE)))
    mine = _edit(BASE, 25, "mine")
    engine = _impatient_engine(settings)
    try:
        with Session(engine) as session:
            plan = plan_batch(
                session, api.workspace, sid, [upsert("f.md", mine, base=sha(BASE))], settings
            )
            session.commit()
            clash = _edit(_edit(BASE, 2, "theirs"), 25, "clash")
            api.update(sid, "f.md", clash, base=sha(_edit(BASE, 2, "theirs")))
            result = apply_plan(session, plan)
            session.commit()
    finally:
        engine.dispose()
    assert result.results[0].status == "conflict"
    assert api.file(sid, "f.md")["content"] == clash
    (conflict,) = api.conflicts(sid)
    assert conflict["localHash"] == sha(mine) and conflict["remoteHash"] == sha(clash)


BIG_LINES = 120_000


def _big(mine_every: int = 0) -> str:
    """A long note; ``mine_every`` changes every such line from line 100 on."""
    return "".join(
        f"line {i} {'mine' if mine_every and i >= 100 and i % mine_every == 0 else 'base'}\n"
        for i in range(BIG_LINES)
    )


def _waiting_to_merge(db_engine: Engine) -> bool:
    """A server connection read the blobs to merge and now computes (no query running)."""
    with db_engine.connect() as conn:
        found: int = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'idle in transaction' AND query ILIKE '%blobs%'"
            )
        ).scalar_one()
    return int(found) > 0


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason="observes PostgreSQL sessions")
def test_a_slow_merge_does_not_hold_the_source(
    api: Api, live_server: LiveServer, db_engine: Engine
) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("observes PostgreSQL sessions")
    sid = api.source()["id"]
    base = _big()
    theirs = base.replace("line 7 base\n", "line 7 theirs\n")
    mine = _big(mine_every=2)  # tens of thousands of changes to merge
    api.push(sid, upsert("big.md", base))
    api.push(sid, upsert("big.md", theirs, base=sha(base)))
    outcome: dict[str, Any] = {}

    def slow() -> None:
        outcome["a"] = api.push(sid, upsert("big.md", mine, base=sha(base)))

    worker = threading.Thread(target=slow)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not _waiting_to_merge(db_engine):
            assert worker.is_alive() and time.monotonic() < deadline, outcome
            time.sleep(0.01)  # polling the server's state
        quick = api.push(sid, upsert("other.md", "small\n"))
    finally:
        worker.join(timeout=120)
    slow_result = outcome["a"]["results"][0]
    assert slow_result["status"] == "merged", slow_result
    # The small push committed while the big batch was still merging: its cursor comes first.
    assert quick["eventCursor"] < outcome["a"]["eventCursor"]
