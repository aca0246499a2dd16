"""push-batch items are read strictly, one by one, from the JSON the client sent.

A wrong JSON type in one item rejects that item with a code while the valid
items beside it apply; booleans are never coerced; an operationId reused for a
different change is refused instead of being answered ``duplicate``.
"""

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.factories import Api, assert_error, delete, sha, upsert


def state(api: Api, source_id: str) -> tuple[list[Any], list[Any]]:
    """Every file (deleted ones too, with hash and version count) and every event."""
    return api.files(source_id, includeDeleted=True), api.deltas(source_id)


def paths(api: Api, source_id: str) -> list[str]:
    return [f["relativePath"] for f in api.files(source_id, includeDeleted=True)]


WRONG_TYPES: list[tuple[str, Any, str]] = [
    ("operation-id-number", {**upsert("bad.md", "x"), "operationId": 5}, "INVALID_OPERATION_ID"),
    ("operation-id-list", {**upsert("bad.md", "x"), "operationId": ["op"]}, "INVALID_OPERATION_ID"),
    ("path-list", {**upsert("bad.md", "x"), "relativePath": []}, "INVALID_PATH"),
    ("path-number", {**upsert("bad.md", "x"), "relativePath": 7}, "INVALID_PATH"),
    ("path-object", {**upsert("bad.md", "x"), "relativePath": {"p": "bad.md"}}, "INVALID_PATH"),
    ("content-number", {**upsert("bad.md", "x"), "content": 7}, "INVALID_CONTENT"),
    ("content-list", {**upsert("bad.md", "x"), "content": ["x"]}, "INVALID_CONTENT"),
    ("content-bool", {**upsert("bad.md", "x"), "content": True}, "INVALID_CONTENT"),
    ("content-type-number", {**upsert("bad.md", "x"), "contentType": 5}, "INVALID_CONTENT_TYPE"),
    ("content-hash-number", {**upsert("bad.md", "x"), "contentHash": 5}, "INVALID_HASH"),
    ("base-hash-list", {**upsert("bad.md", "x"), "baseHash": []}, "INVALID_HASH"),
    ("is-delete-string", {**upsert("bad.md", "x"), "isDelete": "no"}, "INVALID_FLAG"),
    ("is-delete-null", {**upsert("bad.md", "x"), "isDelete": None}, "INVALID_FLAG"),
    ("not-an-object-number", 5, "INVALID_ITEM"),
    ("not-an-object-string", "bad.md", "INVALID_ITEM"),
    ("not-an-object-null", None, "INVALID_ITEM"),
    ("not-an-object-list", [upsert("bad.md", "x")], "INVALID_ITEM"),
    ("empty-object", {}, "INVALID_OPERATION_ID"),
]


@pytest.mark.parametrize(
    ("item", "code"), [(i, c) for _, i, c in WRONG_TYPES], ids=[n for n, _, _ in WRONG_TYPES]
)
def test_a_wrong_json_type_rejects_only_its_item(api: Api, item: Any, code: str) -> None:
    source = api.source()
    sid = source["id"]
    result = api.push(sid, upsert("ok-1.md", "1"), item, upsert("ok-2.md", "2"))
    assert [r["status"] for r in result["results"]] == ["applied", "rejected", "applied"], result
    rejected = result["results"][1]
    assert (rejected["code"], rejected["hash"]) == (code, None)
    assert rejected["message"]
    assert result["applied"] == 2
    assert paths(api, sid) == ["ok-1.md", "ok-2.md"]
    assert [(e["type"], e["relativePath"]) for e in api.deltas(sid)] == [
        ("file.upsert", "ok-1.md"),
        ("file.upsert", "ok-2.md"),
    ]
    for name in ("ok-1.md", "ok-2.md"):
        assert len(api.history(sid, name)) == 1


def test_a_rejected_item_echoes_only_what_it_can(api: Api) -> None:
    source = api.source()
    result = api.push(source["id"], {**upsert("bad.md", "x"), "content": 7, "operationId": "op-e"})
    outcome = result["results"][0]
    assert (outcome["operationId"], outcome["relativePath"]) == ("op-e", "bad.md")
    other = api.push(source["id"], {"operationId": 5, "relativePath": ["x"]})["results"][0]
    assert (other["operationId"], other["relativePath"]) == (None, None)


@pytest.mark.parametrize("flag", ["yes", "true", 1, 0, "1", {}, []])
def test_is_delete_is_never_coerced(api: Api, flag: Any) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("keep.md", "kept"))
    before = state(api, sid)
    item = {**delete("keep.md", sha("kept")), "isDelete": flag}
    result = api.push(sid, item)
    assert result["results"][0]["status"] == "rejected"
    assert result["results"][0]["code"] == "INVALID_FLAG"
    assert state(api, sid) == before
    assert api.file(sid, "keep.md")["content"] == "kept"


def test_json_booleans_still_work(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    result = api.push(sid, {**upsert("a.md", "A"), "isDelete": False})
    assert result["results"][0]["status"] == "applied"
    result = api.push(sid, {**delete("a.md", sha("A")), "isDelete": True})
    assert result["results"][0]["status"] == "applied"
    assert api.file(sid, "a.md")["state"] == "deleted"


def test_top_level_fields_are_strict_too(api: Api) -> None:
    source = api.source()
    body = {"sourceId": source["id"], "items": [upsert("a.md", "A")], "connectorId": 5}
    assert_error(api.post("sources/push-batch", body), 422, "INVALID_INPUT")
    created = api.post("sources", {"name": "S", "mode": "import_only", "autoMerge": "yes"})
    assert_error(created, 422, "INVALID_INPUT")
    assert paths(api, source["id"]) == []
    assert [s["id"] for s in api.sources()] == [source["id"]]


def test_item_count_is_refused_before_any_item_is_read(api: Api) -> None:
    """101 items that are not even objects: the count answers, not the items."""
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "A"))
    before = state(api, sid)
    limit = api.settings.max_batch_items
    items = [upsert("b.md", "B")] + [7] * limit
    response = api.post("sources/push-batch", {"sourceId": sid, "items": items})
    assert_error(response, 413, "BATCH_TOO_LARGE")
    assert state(api, sid) == before


def test_content_size_is_refused_before_the_rest_of_the_item(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    server = start_server(max_file_bytes=16)
    with Api(server.url, server.settings, workspace) as api:
        source = api.source()
        sid = source["id"]
        big = {**upsert("../bad.md", "x" * 17), "contentHash": "not-a-hash"}
        result = api.push(sid, big, upsert("ok.md", "x" * 16))
        assert [r["code"] for r in result["results"]] == ["CONTENT_TOO_LARGE", None]
        assert paths(api, sid) == ["ok.md"]


def test_raw_json_items_with_odd_values(api: Api) -> None:
    """Numbers as big as JSON allows, nested arrays: each item answers for itself."""
    source = api.source()
    good = json.dumps(upsert("ok.md", "fine"))
    odd = [
        '{"operationId": 1e308, "relativePath": "a.md", "content": "a"}',
        '{"operationId": "op-n", "relativePath": [[[["a.md"]]]], "content": "a"}',
        '{"operationId": "op-b", "relativePath": "b.md", "content": "b", "isDelete": 1.0}',
    ]
    text = f'{{"sourceId": {json.dumps(source["id"])}, "items": [{good}, {", ".join(odd)}]}}'
    response = api.raw("sources/push-batch", text.encode())
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "rejected"]
    assert [r["code"] for r in results[1:]] == [
        "INVALID_OPERATION_ID",
        "INVALID_PATH",
        "INVALID_FLAG",
    ]
    assert paths(api, source["id"]) == ["ok.md"]


# ---- operationId reuse ------------------------------------------------------------


REUSES: list[tuple[str, dict[str, Any]]] = [
    ("other-content", upsert("a.md", "second", op="op-1")),
    ("other-path", upsert("b.md", "first", op="op-1")),
    ("now-a-delete", delete("a.md", sha("first"), op="op-1")),
]


@pytest.mark.parametrize("item", [i for _, i in REUSES], ids=[n for n, _ in REUSES])
def test_an_operation_id_reused_for_another_change_is_rejected(
    api: Api, item: dict[str, Any]
) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "first", op="op-1"))
    before = state(api, sid)
    result = api.push(sid, item, upsert("c.md", "C"))
    outcome = result["results"][0]
    assert (outcome["status"], outcome["code"]) == ("rejected", "OPERATION_ID_REUSED")
    assert outcome["hash"] is None and outcome["message"]
    assert result["results"][1]["status"] == "applied"
    files, events = state(api, sid)
    assert files == before[0] + [f for f in files if f["relativePath"] == "c.md"]
    assert events[: len(before[1])] == before[1]
    assert [e["relativePath"] for e in events[len(before[1]) :]] == ["c.md"]
    assert api.file(sid, "a.md")["content"] == "first"
    assert len(api.history(sid, "a.md")) == 1


def test_a_replay_is_still_a_duplicate(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    item = upsert("a.md", "first", op="op-1")
    api.push(sid, item)
    before = state(api, sid)
    again = api.push(sid, {**item, "contentHash": None})["results"][0]
    assert (again["status"], again["hash"], again["code"]) == ("duplicate", sha("first"), None)
    assert state(api, sid) == before


def test_a_delete_replayed_is_a_duplicate(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "A"))
    gone = delete("a.md", sha("A"), op="op-d")
    api.push(sid, gone)
    assert api.push(sid, gone)["results"][0]["status"] == "duplicate"


def test_an_operation_id_reused_inside_one_batch(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    result = api.push(
        sid,
        upsert("a.md", "first", op="op-x"),
        upsert("a.md", "second", op="op-x"),
        upsert("b.md", "first", op="op-x"),
        upsert("a.md", "first", op="op-x"),
    )
    statuses = [(r["status"], r["code"]) for r in result["results"]]
    assert statuses == [
        ("applied", None),
        ("rejected", "OPERATION_ID_REUSED"),
        ("rejected", "OPERATION_ID_REUSED"),
        ("duplicate", None),
    ]
    assert result["results"][3]["hash"] == sha("first")
    assert paths(api, sid) == ["a.md"]
    assert api.file(sid, "a.md")["content"] == "first"
    assert len(api.deltas(sid)) == 1


def test_a_conflicted_operation_replays_as_a_duplicate(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("c.md", "base\n"))
    api.push(sid, upsert("c.md", "remote\n", base=sha("base\n")))
    local = upsert("c.md", "local\n", base=sha("base\n"), op="op-c")
    first = api.push(sid, local)["results"][0]
    assert first["status"] == "conflict"
    before = state(api, sid)
    replay = api.push(sid, local)["results"][0]
    assert (replay["status"], replay["hash"]) == ("duplicate", sha("local\n"))
    assert replay["conflictId"] == first["conflictId"]
    reused = api.push(sid, {**local, "content": "other\n", "contentHash": None})["results"][0]
    assert (reused["status"], reused["code"]) == ("rejected", "OPERATION_ID_REUSED")
    assert state(api, sid) == before
