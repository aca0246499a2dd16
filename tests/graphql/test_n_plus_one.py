"""No N+1: the number of SQL statements of one query does not grow with the rows it returns.

Statements are counted on the live server's engine with a ``before_cursor_execute``
listener attached only while the query runs (the test is the server's only client).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

FILES = """
query($id: ID!) {
  source(id: $id) {
    fileCount openConflictCount
    connector { id name }
    files(first: 100) {
      nodes {
        path state hash content openConflictId
        latestVersion { seq hash origin size content }
      }
    }
  }
}
"""
SOURCES = """
{ sources { id fileCount openConflictCount connector { id name } } }
"""
CONFLICTS = """
query($id: ID!) {
  source(id: $id) {
    conflicts(first: 100) { nodes { id path base local remote } }
  }
}
"""
MAX_STATEMENTS = 16


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)


@contextmanager
def counting(engine: Engine) -> Iterator[Counter]:
    counter = Counter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def _engine(server: LiveServer) -> Engine:
    engine: Engine = server.app.state.runtime.engine
    return engine


async def _count(server: LiveServer, gq: Gq, document: str, **variables: Any) -> tuple[int, Any]:
    await gq.run(document, **variables)  # warm up: connections, migrations, caches
    with counting(_engine(server)) as counter:
        data = await gq.run(document, **variables)
    return len(counter.statements), data


def _source_with_files(api: Api, count: int) -> str:
    source = api.source()
    for start in range(0, count, 100):
        batch = [
            upsert(f"notes/{i:04d}.md", f"# Note {i}\nbody {i}\n")
            for i in range(start, min(count, start + 100))
        ]
        api.push(source["id"], *batch)
    source_id: str = source["id"]
    return source_id


async def test_files_with_latest_version_and_content(
    gq: Gq, api: Api, live_server: LiveServer
) -> None:
    small = _source_with_files(api, 10)
    large = _source_with_files(api, 100)

    small_count, small_data = await _count(live_server, gq, FILES, id=small)
    large_count, large_data = await _count(live_server, gq, FILES, id=large)

    nodes = large_data["source"]["files"]["nodes"]
    assert len(nodes) == 100 and len(small_data["source"]["files"]["nodes"]) == 10
    for i, node in enumerate(nodes):
        text = f"# Note {i}\nbody {i}\n"
        assert node["content"] == text and node["hash"] == sha(text)
        assert node["latestVersion"] == {
            "seq": 1,
            "hash": sha(text),
            "origin": "CONNECTOR",
            "size": len(text),
            "content": text,
        }
    assert small_count == large_count, (small_count, large_count)
    assert large_count <= MAX_STATEMENTS, large_count


async def test_sources_with_counts_and_connectors(
    gq: Gq, api: Api, live_server: LiveServer
) -> None:
    api.source()
    few, _ = await _count(live_server, gq, SOURCES)
    for _ in range(9):
        api.source()
    many, data = await _count(live_server, gq, SOURCES)
    assert len(data["sources"]) == 10
    assert few == many, (few, many)
    assert many <= MAX_STATEMENTS, many


async def test_conflicts_with_their_sides(gq: Gq, api: Api, live_server: LiveServer) -> None:
    small = api.source()
    for i in range(2):
        api.open_conflict(small["id"], f"c{i}.md")
    large = api.source()
    for i in range(12):
        api.open_conflict(large["id"], f"c{i}.md")

    small_count, _ = await _count(live_server, gq, CONFLICTS, id=small["id"])
    large_count, data = await _count(live_server, gq, CONFLICTS, id=large["id"])
    nodes = data["source"]["conflicts"]["nodes"]
    assert len(nodes) == 12
    assert all(n["base"] == "# Title\nbase line\n" for n in nodes)
    assert small_count == large_count, (small_count, large_count)
    assert large_count <= MAX_STATEMENTS, large_count
