"""SQLite: readers use WAL snapshots and never queue behind a writer's lock."""

import sqlite3

import httpx
import pytest

from backend.settings import Settings
from tests.factories import Api, upsert


def test_reads_answer_while_a_writer_holds_the_lock(api: Api, settings: Settings) -> None:
    url = settings.resolved_database_url()
    if not url.startswith("sqlite"):
        pytest.skip("a SQLite locking property")
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "A\n"))
    writer = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # hold the write lock, as a long push would
        for path, body in (
            ("sources/deltas", {"sourceId": sid}),
            ("sources/file", {"sourceId": sid, "relativePath": "a.md"}),
            ("sources/files", {"sourceId": sid}),
            ("sources/history", {"sourceId": sid, "relativePath": "a.md"}),
        ):
            response = api.post(path, body, timeout=httpx.Timeout(5.0))
            assert response.status_code == 200, path
    finally:
        writer.execute("ROLLBACK")
        writer.close()
