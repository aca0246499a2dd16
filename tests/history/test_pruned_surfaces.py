"""The documented surfaces after retention pruned: history says so, content reads refuse by name.

Pruning is planted the way an operator does it: a keep-last policy and a real
garbage collection on the session's server.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from backend.rest.schemas import DeltasOut
from tests.attachment_data import attachment, digest, png
from tests.conftest import LiveServer
from tests.factories import Api, assert_error, sha, upsert
from tests.graphql.conftest import Gq

PATH = "notes/a.md"
VERSIONS = """
query($id: ID!, $path: String!) {
  source(id: $id) {
    file(path: $path) { versions(first: 50) { nodes { seq hash pruned } } }
  }
}"""
CONTENTS = """
query($id: ID!, $path: String!) {
  source(id: $id) {
    file(path: $path) { versions(first: 50) { nodes { seq content } } }
  }
}"""
RESTORE = """
mutation($id: String!, $path: String!, $hash: String!) {
  restoreVersion(sourceId: $id, path: $path, hash: $hash) { status }
}"""


def _pruned_source(api: Api, edits: int = 5, keep: int = 2) -> tuple[str, list[str]]:
    """A source whose ``PATH`` has ``edits`` versions, all but the newest ``keep`` pruned."""
    source = api.source()["id"]
    contents, base = [], None
    for n in range(1, edits + 1):
        content = f"# a\nedit {n} of {edits} {source}\n"
        api.push(source, upsert(PATH, content, base=base))
        contents.append(content)
        base = sha(content)
    api.call(
        "sources/retention", {"sourceId": source, "policy": {"kind": "last", "keepLast": keep}}
    )
    assert api.call("sources/gc", {"sourceId": source})["versionsPruned"] == edits - keep
    return source, contents


def _diff(api: Api, source: str, old: str, new: str) -> Any:
    body = {"sourceId": source, "relativePath": PATH, "fromHash": sha(old), "toHash": sha(new)}
    return api.post("sources/history/diff", body)


def test_history_marks_pruned_versions_and_keeps_its_shape(api: Api) -> None:
    source, contents = _pruned_source(api)
    history = api.history(source, PATH)
    assert [(v["seq"], v["pruned"]) for v in history] == [
        (5, False),
        (4, False),
        (3, True),
        (2, True),
        (1, True),
    ]
    for v in history:
        assert v["hash"] == sha(contents[v["seq"] - 1])
        assert v["content"] == (None if v["pruned"] else contents[v["seq"] - 1])
    documented = {
        "seq",
        "hash",
        "origin",
        "deleted",
        "size",
        "recordedAt",
        "operationId",
        "connectorId",
        "conflictId",
        "content",
    }
    extensions = {"pruned", "movedFrom", "contentEncoding"}
    assert all(set(v) == documented | extensions for v in history)
    untouched = api.source()["id"]
    api.push(untouched, upsert("b.md", "b\n"))
    assert [v["pruned"] for v in api.history(untouched, "b.md")] == [False]


def test_diff_with_a_pruned_side_is_refused_by_name(api: Api) -> None:
    source, contents = _pruned_source(api)
    assert_error(_diff(api, source, contents[0], contents[4]), 410, "VERSION_PRUNED")
    assert_error(_diff(api, source, contents[4], contents[2]), 410, "VERSION_PRUNED")
    kept = _diff(api, source, contents[3], contents[4])
    assert kept.status_code == 200, kept.text
    assert kept.json()["insertions"] == 1 and kept.json()["deletions"] == 1


async def test_restore_of_a_pruned_version_is_refused_and_nothing_changes(api: Api, gq: Gq) -> None:
    source, contents = _pruned_source(api)
    error = await gq.error(RESTORE, id=source, path=PATH, hash=sha(contents[0]))
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["extensions"]["reason"] == "VERSION_PRUNED"
    assert api.file(source, PATH)["content"] == contents[4]
    assert len(api.history(source, PATH)) == 5
    done = await gq.run(RESTORE, id=source, path=PATH, hash=sha(contents[3]))
    assert done["restoreVersion"]["status"]
    assert api.file(source, PATH)["content"] == contents[3]


def test_deltas_mark_upserts_whose_content_was_pruned(api: Api) -> None:
    source, contents = _pruned_source(api)
    page = api.call("sources/deltas", {"sourceId": source, "cursor": 0, "limit": 500})
    DeltasOut.model_validate(page)
    upserts = [e for e in page["events"] if e["type"] == "file.upsert"]
    assert [e["payload"]["hash"] for e in upserts] == [sha(c) for c in contents]
    for event_, content in zip(upserts, contents, strict=True):
        payload = event_["payload"]
        if content in contents[:3]:
            assert payload["content"] is None and payload["contentPruned"] is True
        else:
            assert payload["content"] == content and "contentPruned" not in payload
    # Everything else in the event is as before pruning.
    assert all(e["relativePath"] == PATH for e in upserts)
    # A connector's own pushes stay "omitted", not "pruned": it holds that content.
    own = api.call(
        "sources/deltas",
        {"sourceId": source, "cursor": 0, "ownConnectorId": upserts[0]["payload"]["connectorId"]},
    )
    for e in own["events"]:
        assert e["payload"]["contentOmitted"] is True and "contentPruned" not in e["payload"]


@contextmanager
def _counting(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _statements(server: LiveServer, gq: Gq, source: str) -> tuple[int, dict[str, Any]]:
    await gq.run(VERSIONS, id=source, path=PATH)  # warm up
    engine: Engine = server.app.state.runtime.engine
    with _counting(engine) as seen:
        data = await gq.run(VERSIONS, id=source, path=PATH)
    return len(seen), data


async def test_graphql_version_pruned_is_batched_and_content_refused(
    api: Api, gq: Gq, live_server: LiveServer
) -> None:
    few, _ = _pruned_source(api, edits=3, keep=1)
    many, contents = _pruned_source(api, edits=12, keep=2)
    few_count, _ = await _statements(live_server, gq, few)
    many_count, data = await _statements(live_server, gq, many)
    nodes = data["source"]["file"]["versions"]["nodes"]
    assert [(n["seq"], n["pruned"]) for n in nodes] == [(s, s <= 10) for s in range(12, 0, -1)]
    assert few_count == many_count, (few_count, many_count)

    errors = await gq.errors(CONTENTS, id=many, path=PATH)
    assert len(errors) == 10
    for error in errors:
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert error["extensions"]["reason"] == "VERSION_PRUNED"
    latest = """
    query($id: ID!, $path: String!) {
      source(id: $id) { file(path: $path) { latestVersion { pruned content } } }
    }"""
    answer = await gq.run(latest, id=many, path=PATH)
    assert answer["source"]["file"]["latestVersion"] == {"pruned": False, "content": contents[-1]}


async def test_graphql_event_feed_flags_pruned_content(api: Api, gq: Gq) -> None:
    """The GraphQL feed says "pruned" as REST deltas do, so no reader takes it for a gap."""
    source, contents = _pruned_source(api)
    data = await gq.run(
        "query($id: ID!) { source(id: $id) { events(first: 100) { nodes { type payload } } } }",
        id=source,
    )
    nodes = data["source"]["events"]["nodes"]
    upserts = [n["payload"] for n in nodes if n["type"] == "file.upsert"]
    assert [p["hash"] for p in upserts] == [sha(c) for c in contents]
    for payload, content in zip(upserts, contents, strict=True):
        if content in contents[:3]:
            assert payload["content"] is None and payload["contentPruned"] is True
        else:
            assert payload["content"] == content and "contentPruned" not in payload


async def test_graphql_refuses_a_pruned_attachment_version_even_when_its_bytes_remain(
    api: Api, gq: Gq
) -> None:
    """Version 1's bytes stay stored (version 3 has them again), yet version 1 is pruned."""
    source = api.source()["id"]
    first, second = png(shade=7), png(shade=8)
    base = None
    for data in (first, second, first):
        api.push(source, attachment("img/a.png", data, base=base))
        base = digest(data)
    api.call("sources/retention", {"sourceId": source, "policy": {"kind": "last", "keepLast": 1}})
    assert api.call("sources/gc", {"sourceId": source})["versionsPruned"] == 2
    query = """
    query($id: ID!, $path: String!) {
      source(id: $id) { file(path: $path) { versions(first: 5) { nodes { seq contentBase64 } } } }
    }"""
    errors = await gq.errors(query, id=source, path="img/a.png")
    # Nodes run newest first: indexes 1 and 2 are versions 2 and 1.
    assert sorted(e["path"][-2] for e in errors) == [1, 2]
    assert {e["extensions"]["reason"] for e in errors} == {"VERSION_PRUNED"}
