"""SQLite: a write that cannot get the database's write lock answers UNAVAILABLE and writes nothing.

The lock is really held, by another connection to the same file, and the server
waits only briefly for it (``sqlite_busy_timeout_seconds``). PostgreSQL's busy
case, no pooled connection in time, is in ``test_pool.py``.
"""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from backend.graphql.errors import BUSY
from backend.settings import Settings
from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq, auth_headers, open_http, open_ws

PAUSE = "mutation($id: String!) { pauseSource(sourceId: $id) { status } }"
UPDATE = """
mutation($id: String!, $base: String) {
  updateFile(sourceId: $id, path: "a.md", content: "edited\\n", baseHash: $base) { status }
}
"""
PUSH = """
mutation($id: String!) {
  pushBatch(sourceId: $id, items: [{operationId: "locked", path: "b.md", content: "b\\n"}]) {
    applied
  }
}
"""


@contextmanager
def write_lock(database_url: str) -> Iterator[None]:
    """Hold the database's write lock from a connection of our own, as a long write would."""
    path = database_url.split("///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _snapshot(api: Api, source_id: str) -> Any:
    return (
        api.sources(),
        api.files(source_id),
        api.history(source_id, "a.md"),
        api.deltas(source_id),
    )


async def _unavailable(gq: Gq, server: LiveServer, document: str, **variables: Any) -> None:
    error = await gq.error(document, **variables)
    retry = server.settings.retry_after_seconds
    assert error["extensions"] == {
        "code": "UNAVAILABLE",
        "reason": "UNAVAILABLE",
        "retryAfter": retry,
    }
    assert error["message"] == BUSY


async def test_writes_to_a_locked_database_are_unavailable(
    start_server: Callable[..., LiveServer], api: Api, settings: Settings
) -> None:
    url = settings.resolved_database_url()
    if not url.startswith("sqlite"):
        pytest.skip("a SQLite file lock")
    source_id = api.source()["id"]
    api.push(source_id, upsert("a.md", "a\n"))
    before = _snapshot(api, source_id)
    server = start_server(sqlite_busy_timeout_seconds=0.05)
    writes: list[tuple[str, dict[str, Any]]] = [
        (PAUSE, {"id": source_id}),
        (UPDATE, {"id": source_id, "base": sha("a\n")}),
        (PUSH, {"id": source_id}),
    ]
    async with open_http(server, auth_headers(api)) as gq, open_ws(server, auth_headers(api)) as ws:
        with write_lock(url):
            for session in (gq, ws):
                for document, variables in writes:
                    await _unavailable(session, server, document, **variables)
                # Readers keep answering from WAL snapshots meanwhile.
                read = await session.run("{ sources { id status } }")
                assert read["sources"] == [{"id": source_id, "status": "ACTIVE"}]
        assert _snapshot(api, source_id) == before
        # Once the lock is free the same write goes through.
        paused = await gq.run(PAUSE, id=source_id)
    assert paused["pauseSource"]["status"] == "PAUSED"
