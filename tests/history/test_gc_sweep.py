"""Freeing blobs after the source lock: a busy blob table delays it, a later run finishes it."""

from collections.abc import Callable

import pytest
from click.testing import Result
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from backend.retention.verify import verify
from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.graphql.conftest import auth_headers, open_http

PATH = "notes/s.md"


def _edits(api: Api, source: str, count: int) -> list[str]:
    contents, base = [], None
    for n in range(1, count + 1):
        content = f"# s\nedit {n} of {count} {source}\n"
        api.push(source, upsert(PATH, content, base=base))
        contents.append(content)
        base = sha(content)
    return contents


def _stored(engine: Engine, contents: list[str]) -> list[bool]:
    query = text("SELECT hash FROM blobs WHERE hash IN :h")
    query = query.bindparams(bindparam("h", expanding=True))
    with engine.connect() as conn:
        found = {r[0] for r in conn.execute(query, {"h": [sha(c) for c in contents]})}
    return [sha(c) in found for c in contents]


def _keep_last(api: Api, source: str, count: int) -> None:
    policy = {"kind": "last", "keepLast": count}
    api.call("sources/retention", {"sourceId": source, "policy": policy})


def test_a_marked_version_whose_blob_stayed_is_freed_by_the_next_run(
    own_api: Api, own_engine: Engine
) -> None:
    """As if a run stopped between marking versions pruned and freeing their blobs."""
    source = own_api.source()["id"]
    contents = _edits(own_api, source, 4)
    shared = own_api.source()["id"]
    own_api.push(shared, upsert("same.md", contents[1]))  # seq 2's text, kept elsewhere
    with own_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO version_prunes (version_id, file_id, pruned_at)"
                " SELECT v.id, v.file_id, CURRENT_TIMESTAMP FROM versions v"
                " JOIN files f ON f.id = v.file_id"
                " WHERE f.source_id = :s AND v.seq IN (1, 2)"
            ),
            {"s": source},
        )
    assert _stored(own_engine, contents) == [True, True, True, True]
    assert verify(own_engine).ok

    _keep_last(own_api, source, 3)  # nothing new to prune: only the leftovers
    result = own_api.call("sources/gc", {"sourceId": source})
    assert result["versionsPruned"] == 0
    assert result["blobsDeleted"] == 1 and result["blobsLeft"] == 0
    # seq 1's blob went; seq 2's text is another file's current content and stays.
    assert _stored(own_engine, contents) == [False, True, True, True]
    assert own_api.file(shared, "same.md")["content"] == contents[1]
    assert verify(own_engine).ok


GC = """
mutation($id: ID!) {
  collectGarbage(sourceId: $id) { versionsPruned blobsDeleted blobsLeft }
}"""


async def test_a_busy_blob_table_delays_the_sweep_without_holding_the_source(
    own_api: Api,
    own_engine: Engine,
    own_database: str,
    own_server: LiveServer,
    localsync: Callable[..., Result],
) -> None:
    if not own_database.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no table lock apart from its write lock")
    source = own_api.source()["id"]
    contents = _edits(own_api, source, 4)
    _keep_last(own_api, source, 1)
    with own_engine.connect() as blocker:
        blocker.begin()
        # What an unfinished push (or autovacuum) holds: inserts may go on, the sweep may not.
        blocker.execute(text("LOCK TABLE blobs IN ROW EXCLUSIVE MODE"))
        result = own_api.call("sources/gc", {"sourceId": source})
        assert result["versionsPruned"] == 3 and result["blobsDeleted"] == 0
        # Every caller learns what is left for the next run: REST, GraphQL and the CLI.
        assert result["blobsLeft"] == 3
        async with open_http(own_server, auth_headers(own_api)) as gq:
            answer = (await gq.run(GC, id=source))["collectGarbage"]
        assert answer == {"versionsPruned": 0, "blobsDeleted": 0, "blobsLeft": 3}
        shown = localsync("gc", "--source", source, database_url=own_database)
        assert shown.exit_code == 0, shown.output
        assert "freed 0 blobs (0 bytes), 3 left for the next run" in shown.output
        # The source was never left locked: a push goes through while the blocker waits.
        own_api.push(source, upsert("other.md", "pushed meanwhile\n"))
        blocker.rollback()
    assert _stored(own_engine, contents) == [True, True, True, True]
    assert [v["pruned"] for v in own_api.history(source, PATH)] == [False, True, True, True]
    assert verify(own_engine).ok

    again = own_api.call("sources/gc", {"sourceId": source})
    assert again["versionsPruned"] == 0 and again["blobsDeleted"] == 3
    assert again["blobsLeft"] == 0
    assert _stored(own_engine, contents) == [False, False, False, True]
    assert own_api.file(source, PATH)["content"] == contents[-1]
    assert verify(own_engine).ok
