"""gc chooses outside the source's lock and confirms under it: a change in between wins.

Each test takes the snapshot (``choose``), changes the source through the real
server as a user would, then runs the locked step (``confirm``) and checks that
nothing the change protects is pruned, while untouched files still are.
"""

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from backend.db import make_engine
from backend.models import utcnow
from backend.retention.gc import Pruned, collect_source
from backend.retention.policy import make_policy
from backend.retention.selection import Proposal, choose, confirm
from backend.retention.verify import verify
from backend.settings import Settings
from tests.factories import Api, delete, sha, upsert

KEEP_ONE = make_policy("last", keep_last=1)
TOMBSTONES = timedelta(days=90)
WAIT = 60.0
"""Seconds a test waits for a state before it fails."""


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """The server's own engine setup (on SQLite: WAL, write transactions BEGIN IMMEDIATE)."""
    engine = make_engine(settings)
    yield engine
    engine.dispose()


def _edits(api: Api, source: str, path: str, count: int) -> list[str]:
    contents, base = [], None
    for n in range(1, count + 1):
        content = f"# {path}\nedit {n} of {count} {source}\n"
        api.push(source, upsert(path, content, base=base))
        contents.append(content)
        base = sha(content)
    return contents


def _choose(engine: Engine, source: str) -> list[Proposal]:
    choice = choose(engine, source, KEEP_ONE, 0, 100, utcnow(), TOMBSTONES)
    assert choice is not None
    return choice.proposals


def _confirmed(engine: Engine, source: str, proposals: list[Proposal]) -> set[tuple[str, int]]:
    with engine.begin() as conn:  # the locked step's reads, in a transaction of its own
        confirmed = confirm(conn, source, proposals, KEEP_ONE, utcnow(), TOMBSTONES)
    return {(p.path, p.seq) for _, _, p in confirmed}


def test_a_file_changed_after_the_snapshot_is_decided_again_under_the_lock(
    api: Api, engine: Engine
) -> None:
    source = api.source()["id"]
    edited = {path: _edits(api, source, path, 3) for path in ("a.md", "b.md", "c.md", "d.md")}
    proposals = _choose(engine, source)
    proposed = {(p.path, p.seq) for prop in proposals for _, p in prop.doomed}
    assert proposed == {(path, seq) for path in edited for seq in (1, 2)}

    api.call("sources/history/pin", {"sourceId": source, "relativePath": "a.md", "seq": 1})
    api.push(source, upsert("b.md", "# b\nnewer\n", base=sha(edited["b.md"][-1])))
    api.push(source, delete("c.md", base=sha(edited["c.md"][-1])))

    # a.md: the pinned version is spared. b.md and c.md changed, so they are decided
    # again from what the lock shows: b.md's newest is now its fourth version, and
    # c.md's last content is a deleted file's, kept while the tombstone is young.
    assert _confirmed(engine, source, proposals) == {
        ("a.md", 2),
        ("b.md", 1),
        ("b.md", 2),
        ("b.md", 3),
        ("c.md", 1),
        ("c.md", 2),
        ("d.md", 1),
        ("d.md", 2),
    }


def test_a_conflict_reopened_after_the_snapshot_keeps_its_sides(api: Api, engine: Engine) -> None:
    source = api.source()["id"]
    clash = api.open_conflict(source, "clash.md")
    api.resolve(clash["id"], "keep_local")
    _edits(api, source, "other.md", 2)
    proposals = _choose(engine, source)
    proposed = {(p.path, p.hash) for prop in proposals for _, p in prop.doomed}
    assert ("clash.md", sha(clash["base"])) in proposed  # resolved: no longer protected

    api.call("sources/conflicts/reopen", {"conflictId": clash["id"]})

    assert _confirmed(engine, source, proposals) == {("other.md", 1)}


def test_proposals_another_run_pruned_meanwhile_are_not_pruned_twice(
    api: Api, engine: Engine
) -> None:
    source = api.source()["id"]
    _edits(api, source, "e.md", 3)
    stale = _choose(engine, source)
    report = collect_source(engine, source, KEEP_ONE, tombstone_max_age=TOMBSTONES)
    assert report.versions_pruned == 2
    assert _confirmed(engine, source, stale) == set()


def test_a_push_completes_while_a_collection_is_under_way(api: Api, engine: Engine) -> None:
    """gc holds the source's lock only inside its short transactions, never across a run."""
    source = api.source()["id"]
    for n in range(3):
        _edits(api, source, f"n{n}.md", 3)
    paused, pushed, finished = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def between_transactions(item: Pruned) -> None:
        if not paused.is_set():
            paused.set()
            pushed.wait(WAIT)

    def run() -> None:
        try:
            collect_source(
                engine,
                source,
                KEEP_ONE,
                tombstone_max_age=TOMBSTONES,
                on_pruned=between_transactions,
            )
        except BaseException as exc:
            failures.append(exc)
        finally:
            finished.set()

    collector = threading.Thread(target=run, daemon=True)
    collector.start()
    assert paused.wait(WAIT), "the collection never pruned anything"
    result: dict[str, Any] = api.push(source, upsert("during.md", "# pushed during gc\n"))
    still_running = not finished.is_set()
    pushed.set()
    collector.join(WAIT)
    assert still_running and not collector.is_alive() and not failures
    assert result["results"][0]["status"] == "applied"
    assert api.file(source, "during.md")["content"] == "# pushed during gc\n"


_COLLECT_UNTIL_KILLED = """
import sys
from datetime import timedelta

from backend.db import make_engine
from backend.retention.gc import collect_source
from backend.retention.policy import make_policy
from backend.settings import Settings

settings = Settings(database_url=sys.argv[1], data_dir=sys.argv[2], jwt_secret="k" * 40)


def stall(item):
    print("pruned", flush=True)
    sys.stdin.read()  # never returns: the test kills this process here


collect_source(
    make_engine(settings),
    sys.argv[3],
    make_policy("last", keep_last=1),
    tombstone_max_age=timedelta(days=90),
    on_pruned=stall,
)
"""


def test_a_collection_killed_mid_run_leaves_a_verifiable_store_the_next_run_finishes(
    own_api: Api, own_engine: Engine, own_settings: Settings, own_database: str, tmp_path: Path
) -> None:
    source = own_api.source()["id"]
    # More versions to prune than one locked transaction takes, so the kill lands mid-run.
    paths = [f"k{n:03d}.md" for n in range(120)]
    contents: dict[str, list[str]] = {path: [] for path in paths}
    for n in range(3):
        edit = {path: f"# {path}\nedit {n}\n" for path in paths}
        bases = {path: sha(contents[path][-1]) if contents[path] else None for path in paths}
        for half in (paths[:60], paths[60:]):  # within the batch limit
            own_api.push(source, *(upsert(p, edit[p], base=bases[p]) for p in half))
        for path in paths:
            contents[path].append(edit[path])
    child = subprocess.Popen(
        [sys.executable, "-c", _COLLECT_UNTIL_KILLED, own_database, str(tmp_path), source],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "pruned"  # one transaction committed
    finally:
        child.kill()  # SIGKILL: no cleanup of any kind
        child.wait(WAIT)
    assert verify(own_engine).ok
    with own_engine.connect() as conn:
        marked = int(conn.execute(text("SELECT COUNT(*) FROM version_prunes")).scalar_one())
    assert 0 < marked < 240  # the kill came between two transactions of the run

    engine = make_engine(own_settings)
    report = collect_source(engine, source, KEEP_ONE, tombstone_max_age=TOMBSTONES)
    engine.dispose()
    assert verify(own_engine).ok
    assert report.blobs_left == 0
    for path, texts in contents.items():
        statuses = own_api.call(
            "sources/history/retention", {"sourceId": source, "relativePath": path}
        )
        assert [s["pruned"] for s in statuses] == [False, True, True]
        assert own_api.file(source, path)["content"] == texts[-1]
    with own_engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT hash FROM blobs"))}
    assert stored == {sha(texts[-1]) for texts in contents.values()}
