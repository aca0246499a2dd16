"""file/update: Raven-side edits, bidirectional and active sources only."""

from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.factories import Api, assert_error, sha, upsert

UPDATE_KEYS = {"status", "sourceId", "relativePath", "hash", "conflictId", "eventCursor"}


def test_update_creates_and_edits_a_file(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    created = api.update(sid, "research/notes.md", "# Notes\n")
    assert set(created) == UPDATE_KEYS
    assert created == {
        "status": "ok",
        "sourceId": sid,
        "relativePath": "research/notes.md",
        "hash": sha("# Notes\n"),
        "conflictId": None,
        "eventCursor": 1,
    }
    edited = api.update(sid, "research/notes.md", "# Updated content", base=sha("# Notes\n"))
    assert (edited["status"], edited["hash"], edited["eventCursor"]) == (
        "ok",
        sha("# Updated content"),
        2,
    )
    record = api.file(sid, "research/notes.md")
    assert record["content"] == "# Updated content"
    versions = api.history(sid, "research/notes.md")
    assert [v["origin"] for v in versions] == ["raven", "raven"]
    assert all(v["connectorId"] is None for v in versions)
    event = api.deltas(sid)[-1]
    assert (event["type"], event["payload"]["origin"]) == ("file.upsert", "raven")
    assert event["payload"]["content"] == "# Updated content"


def test_update_of_a_pushed_file_with_its_hash(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "local"))
    result = api.update(sid, "a.md", "raven", base=sha("local"))
    assert result["status"] == "ok"
    assert api.file(sid, "a.md")["content"] == "raven"


def test_update_without_base_overwrites_and_keeps_history(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "old"))
    result = api.update(sid, "a.md", "new")
    assert result["status"] == "ok"
    assert api.file(sid, "a.md")["content"] == "new"
    assert [v["content"] for v in api.history(sid, "a.md")] == ["new", "old"]


def test_update_with_identical_content_is_unchanged(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "same"))
    result = api.update(sid, "a.md", "same", base=sha("other"))
    assert (result["status"], result["hash"], result["eventCursor"]) == (
        "unchanged",
        sha("same"),
        1,
    )
    assert len(api.history(sid, "a.md")) == 1


def test_update_with_a_stale_base_is_a_conflict_with_http_200(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    base, local = "# T\nbase\n", "# T\nlocal\n"
    api.push(sid, upsert("a.md", base))
    api.push(sid, upsert("a.md", local, base=sha(base)))
    response = api.post(
        "sources/file/update",
        {"sourceId": sid, "relativePath": "a.md", "content": "# T\nraven\n", "baseHash": sha(base)},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "conflict"
    assert result["conflictId"]
    assert result["hash"] == sha("# T\nraven\n")
    record = api.file(sid, "a.md")
    assert (record["state"], record["content"]) == ("conflict", local)
    [conflict] = api.conflicts(sid)
    assert conflict["id"] == result["conflictId"]
    assert (conflict["localHash"], conflict["remoteHash"]) == (sha(local), sha("# T\nraven\n"))
    assert conflict["baseHash"] == sha(base)
    assert api.deltas(sid)[-1]["type"] == "conflict.opened"


@pytest.mark.parametrize("mode", ["import_only", "local_to_cloud"])
def test_one_way_modes_forbid_raven_edits(api: Api, mode: str) -> None:
    source = api.source(mode)
    sid = source["id"]
    api.push(sid, upsert("a.md", "local"))
    body = {"sourceId": sid, "relativePath": "a.md", "content": "raven", "baseHash": sha("local")}
    assert_error(api.post("sources/file/update", body), 409, "MODE_FORBIDS_EDIT")
    new = {"sourceId": sid, "relativePath": "b.md", "content": "raven"}
    assert_error(api.post("sources/file/update", new), 409, "MODE_FORBIDS_EDIT")
    assert api.file(sid, "a.md")["content"] == "local"
    assert [f["relativePath"] for f in api.files(sid)] == ["a.md"]
    assert len(api.deltas(sid)) == 1


def test_paused_source_refuses_raven_edits(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "local"))
    api.call("sources/pause", {"sourceId": sid})
    body = {"sourceId": sid, "relativePath": "a.md", "content": "raven"}
    assert_error(api.post("sources/file/update", body), 409, "SOURCE_PAUSED")
    assert api.file(sid, "a.md")["content"] == "local"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"relativePath": "../x.md"}, 422, "INVALID_PATH"),
        ({"relativePath": "/x.md"}, 422, "INVALID_PATH"),
        ({"relativePath": ""}, 422, "INVALID_PATH"),
        ({"baseHash": "xyz"}, 422, "INVALID_HASH"),
        ({"content": "a\u0000b"}, 422, "INVALID_CONTENT"),
        ({"content": None}, 422, "INVALID_INPUT"),
        ({"sourceId": "nope"}, 404, "SOURCE_NOT_FOUND"),
    ],
)
def test_bad_updates_are_refused(
    api: Api, change: dict[str, object], status: int, code: str
) -> None:
    source = api.source()
    body = {"sourceId": source["id"], "relativePath": "a.md", "content": "x", **change}
    assert_error(api.post("sources/file/update", body), status, code)
    assert api.files(source["id"]) == []


def test_lone_surrogate_content_is_refused(api: Api) -> None:
    source = api.source()
    text = f'{{"sourceId": "{source["id"]}", "relativePath": "a.md", "content": "x\\udfffy"}}'
    assert_error(api.raw("sources/file/update", text.encode()), 422, "INVALID_CONTENT")


def test_content_over_the_file_limit_is_413(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    server = start_server(max_file_bytes=100)
    with Api(server.url, server.settings, workspace) as api:
        source = api.source()
        body = {"sourceId": source["id"], "relativePath": "a.md", "content": "x" * 101}
        assert_error(api.post("sources/file/update", body), 413, "CONTENT_TOO_LARGE")
        assert api.update(source["id"], "a.md", "x" * 100)["status"] == "ok"
