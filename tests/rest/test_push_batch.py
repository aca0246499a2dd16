"""push-batch: atomic batches, idempotent operations, per-item rejection, conflicts."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from backend.rest.schemas import PushBatchOut
from tests.conftest import LiveServer
from tests.factories import Api, assert_error, delete, sha, upsert

RESULT_KEYS = {
    "operationId",
    "relativePath",
    "status",
    "hash",
    "conflictId",
    "code",
    "message",
}


def _raw_push(api: Api, source_id: str, items_json: str) -> dict[str, Any]:
    """Push items given as raw JSON text (for escapes json.dumps would never write)."""
    text = f'{{"sourceId": {json.dumps(source_id)}, "items": [{items_json}]}}'
    response = api.raw("sources/push-batch", text.encode("utf-8"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_batch_applies_and_reports_every_item(api: Api) -> None:
    source = api.source()
    items = [upsert("a.md", "A"), upsert("b/c.md", "C")]
    result = api.push(source["id"], *items)
    assert set(result) == {"sourceId", "applied", "conflicts", "eventCursor", "results"}
    assert (result["sourceId"], result["applied"], result["conflicts"]) == (source["id"], 2, 0)
    assert result["eventCursor"] == 2
    for item, outcome in zip(items, result["results"], strict=True):
        assert set(outcome) == RESULT_KEYS
        assert outcome["operationId"] == item["operationId"]
        assert outcome["relativePath"] == item["relativePath"]
        assert outcome["status"] == "applied"
        assert outcome["hash"] == item["contentHash"]
        assert (outcome["conflictId"], outcome["code"], outcome["message"]) == (None, None, None)
    events = api.deltas(source["id"])
    assert [(e["cursor"], e["type"], e["relativePath"]) for e in events] == [
        (1, "file.upsert", "a.md"),
        (2, "file.upsert", "b/c.md"),
    ]


def test_content_hash_is_optional_and_case_insensitive(api: Api) -> None:
    source = api.source()
    result = api.push(
        source["id"],
        upsert("a.md", "A", contentHash=None),
        upsert("b.md", "B", contentHash=sha("B").upper()),
    )
    assert [r["status"] for r in result["results"]] == ["applied", "applied"]
    assert [r["hash"] for r in result["results"]] == [sha("A"), sha("B")]


def test_empty_batch_changes_nothing(api: Api) -> None:
    source = api.source()
    result = api.push(source["id"])
    assert (result["applied"], result["eventCursor"], result["results"]) == (0, 0, [])


# ---- idempotency ---------------------------------------------------------------


def test_a_retried_batch_changes_nothing(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "v1"))
    batch = [upsert("a.md", "v2", base=sha("v1")), upsert("b.md", "B"), delete("gone.md", None)]
    first = api.push(sid, *batch)
    assert [r["status"] for r in first["results"]] == ["applied", "applied", "unchanged"]
    events_before = api.deltas(sid)
    history_before = api.history(sid, "a.md")

    again = api.push(sid, *batch)
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 3
    assert [r["hash"] for r in again["results"]] == [sha("v2"), sha("B"), None]
    assert again["applied"] == 0
    assert again["eventCursor"] == first["eventCursor"]
    assert api.deltas(sid) == events_before
    assert api.history(sid, "a.md") == history_before
    assert len(api.history(sid, "b.md")) == 1


def test_an_operation_replayed_alone_is_a_duplicate_with_its_first_result(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    base = "one\ntwo\nthree\nfour\nfive\n"
    api.push(sid, upsert("a.md", base))
    api.push(sid, upsert("a.md", base.replace("five", "remote"), base=sha(base)))
    merge = upsert("a.md", base.replace("one", "local"), base=sha(base), op="op-m")
    first = api.push(sid, merge)["results"][0]
    assert first["status"] == "merged"
    events = api.deltas(sid)
    again = api.push(sid, merge)["results"][0]
    assert (again["status"], again["hash"]) == ("duplicate", first["hash"])
    assert api.deltas(sid) == events


def test_duplicate_operation_inside_one_batch(api: Api) -> None:
    source = api.source()
    item = upsert("a.md", "first", op="op-x")
    result = api.push(source["id"], item, dict(item))
    assert [r["status"] for r in result["results"]] == ["applied", "duplicate"]
    assert result["results"][1]["hash"] == sha("first")
    assert result["applied"] == 1
    assert [f["relativePath"] for f in api.files(source["id"])] == ["a.md"]
    assert len(api.deltas(source["id"])) == 1


def test_operation_ids_are_scoped_to_the_source(api: Api) -> None:
    one, two = api.source(), api.source()
    api.push(one["id"], upsert("a.md", "A", op="shared-op"))
    result = api.push(two["id"], upsert("a.md", "A", op="shared-op"))
    assert result["results"][0]["status"] == "applied"


def test_a_rejected_operation_can_be_sent_again(api: Api) -> None:
    source = api.source()
    bad = api.push(source["id"], upsert("a.md", "A", op="op-r", contentHash=sha("other")))
    assert bad["results"][0]["status"] == "rejected"
    good = api.push(source["id"], upsert("a.md", "A", op="op-r"))
    assert good["results"][0]["status"] == "applied"


# ---- per-item rejection ----------------------------------------------------------


BAD_ITEMS: list[tuple[str, dict[str, Any], str]] = [
    ("absolute", upsert("/etc/passwd", "x"), "INVALID_PATH"),
    ("dotdot", upsert("notes/../../x.md", "x"), "INVALID_PATH"),
    ("dotdot-only", upsert("..", "x"), "INVALID_PATH"),
    ("nul", upsert("a\x00b.md", "x"), "INVALID_PATH"),
    ("control", upsert("a\x07b.md", "x"), "INVALID_PATH"),
    ("newline", upsert("a\nb.md", "x"), "INVALID_PATH"),
    ("del", upsert("a\x7fb.md", "x"), "INVALID_PATH"),
    ("backslash", upsert("notes\\a.md", "x"), "INVALID_PATH"),
    ("empty", upsert("", "x"), "INVALID_PATH"),
    ("only-dots", upsert("./.", "x"), "INVALID_PATH"),
    ("only-slashes", upsert("//", "x"), "INVALID_PATH"),
    ("too-long", upsert("a" * 1022 + ".md", "x"), "INVALID_PATH"),
    ("too-long-utf8", upsert("é" * 513, "x"), "INVALID_PATH"),
    ("no-path", {**upsert("a.md", "x"), "relativePath": None}, "INVALID_PATH"),
    ("hash-mismatch", upsert("a.md", "x", contentHash=sha("y")), "HASH_MISMATCH"),
    ("hash-not-hex", upsert("a.md", "x", contentHash="z" * 64), "INVALID_HASH"),
    ("hash-short", upsert("a.md", "x", contentHash="abc"), "INVALID_HASH"),
    ("base-not-hex", upsert("a.md", "x", base="not-a-hash"), "INVALID_HASH"),
    ("no-content", {**upsert("a.md", "x"), "content": None}, "MISSING_CONTENT"),
    ("nul-content", upsert("a.md", "a\x00b"), "INVALID_CONTENT"),
    ("no-operation", {**upsert("a.md", "x"), "operationId": None}, "INVALID_OPERATION_ID"),
    ("blank-operation", upsert("a.md", "x", op="  "), "INVALID_OPERATION_ID"),
    ("long-operation", upsert("a.md", "x", op="o" * 201), "INVALID_OPERATION_ID"),
    ("content-type", upsert("a.md", "x", contentType="text/\nplain"), "INVALID_CONTENT_TYPE"),
    ("long-content-type", upsert("a.md", "x", contentType="t" * 201), "INVALID_CONTENT_TYPE"),
    ("nul-content-type", upsert("a.md", "x", contentType="text/\x00"), "INVALID_CONTENT_TYPE"),
    ("nul-operation", upsert("a.md", "x", op="op-\x00"), "INVALID_OPERATION_ID"),
    ("delete-bad-path", delete("../a.md", None), "INVALID_PATH"),
]


@pytest.mark.parametrize(
    ("item", "code"), [(i, c) for _, i, c in BAD_ITEMS], ids=[n for n, _, _ in BAD_ITEMS]
)
def test_an_invalid_item_is_rejected_alone(api: Api, item: dict[str, Any], code: str) -> None:
    source = api.source()
    result = api.push(source["id"], upsert("ok-1.md", "1"), item, upsert("ok-2.md", "2"))
    statuses = [r["status"] for r in result["results"]]
    assert statuses == ["applied", "rejected", "applied"], result
    rejected = result["results"][1]
    assert rejected["code"] == code
    assert rejected["message"]
    assert rejected["hash"] is None
    assert result["applied"] == 2
    assert [f["relativePath"] for f in api.files(source["id"], includeDeleted=True)] == [
        "ok-1.md",
        "ok-2.md",
    ]
    assert [e["relativePath"] for e in api.deltas(source["id"])] == ["ok-1.md", "ok-2.md"]


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("content", "INVALID_CONTENT"),
        ("relativePath", "INVALID_PATH"),
        ("operationId", "INVALID_OPERATION_ID"),
        ("contentType", "INVALID_CONTENT_TYPE"),
    ],
)
def test_lone_surrogates_are_rejected_alone(api: Api, field: str, code: str) -> None:
    source = api.source()
    bad = upsert("bad.md", "x", contentHash=None)
    bad[field] = "PLACEHOLDER"
    items = ", ".join(
        [
            json.dumps(upsert("ok.md", "fine")),
            json.dumps(bad).replace('"PLACEHOLDER"', '"a\\ud800b"'),
        ]
    )
    result = _raw_push(api, source["id"], items)
    assert [r["status"] for r in result["results"]] == ["applied", "rejected"]
    assert result["results"][1]["code"] == code
    assert [f["relativePath"] for f in api.files(source["id"])] == ["ok.md"]


def test_a_valid_surrogate_pair_is_fine(api: Api) -> None:
    source = api.source()
    item = json.dumps(upsert("emoji.md", "PLACEHOLDER", contentHash=None))
    result = _raw_push(api, source["id"], item.replace('"PLACEHOLDER"', '"\\ud83d\\ude00"'))
    assert result["results"][0]["status"] == "applied"
    assert api.file(source["id"], "emoji.md")["content"] == "\U0001f600"
    assert result["results"][0]["hash"] == sha("\U0001f600")


def test_path_limit_is_1024_bytes(api: Api) -> None:
    source = api.source()
    longest = "/".join(["é" * 127] * 4 + ["abcd"])
    assert len(longest.encode("utf-8")) == 1024
    result = api.push(source["id"], upsert(longest, "x"))
    assert result["results"][0]["status"] == "applied"
    assert api.file(source["id"], longest)["relativePath"] == longest


def test_content_over_the_file_limit_is_rejected_alone(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    server = start_server(max_file_bytes=1024)
    with Api(server.url, server.settings, workspace) as api:
        source = api.source()
        result = api.push(
            source["id"],
            upsert("big.md", "x" * 1025),
            upsert("multibyte.md", "é" * 513),
            upsert("exact.md", "x" * 1024),
        )
        assert [r["status"] for r in result["results"]] == ["rejected", "rejected", "applied"]
        assert [r["code"] for r in result["results"]] == [
            "CONTENT_TOO_LARGE",
            "CONTENT_TOO_LARGE",
            None,
        ]
        assert [f["relativePath"] for f in api.files(source["id"])] == ["exact.md"]


# ---- stale bases and conflicts ----------------------------------------------------


def test_stale_base_opens_a_conflict_and_never_overwrites(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    conflict = api.open_conflict(sid, "notes/a.md")
    record = api.file(sid, "notes/a.md")
    assert record["content"] == conflict["remote"]
    assert record["state"] == "conflict"
    [listed] = api.conflicts(sid)
    assert listed["id"] == conflict["id"]
    assert listed["reason"] == "stale_base"
    assert listed["baseHash"] == sha(conflict["base"])
    assert listed["localHash"] == sha(conflict["local"])
    assert listed["remoteHash"] == sha(conflict["remote"])
    events = api.deltas(sid)
    assert [e["type"] for e in events] == ["file.upsert", "file.upsert", "conflict.opened"]
    assert events[-1]["payload"]["conflictId"] == conflict["id"]
    # The losing side is kept, marked as a side of the conflict.
    newest = api.history(sid, "notes/a.md")[0]
    assert (newest["content"], newest["conflictId"]) == (conflict["local"], conflict["id"])


def test_conflict_result_counts_and_ids(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "base\n"))
    api.push(sid, upsert("a.md", "remote\n", base=sha("base\n")))
    result = api.push(sid, upsert("a.md", "local\n", base=sha("base\n")), upsert("b.md", "b"))
    assert (result["applied"], result["conflicts"]) == (1, 1)
    outcome = result["results"][0]
    assert outcome["status"] == "conflict"
    assert outcome["conflictId"]
    assert outcome["hash"] == sha("local\n")


def test_upsert_without_base_over_other_content_is_a_conflict(api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "server"))
    result = api.push(source["id"], upsert("a.md", "mine"))
    assert result["results"][0]["status"] == "conflict"
    assert api.conflicts(source["id"])[0]["reason"] == "no_base"
    assert api.file(source["id"], "a.md")["content"] == "server"


def test_identical_content_is_unchanged_even_with_a_stale_base(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "v1"))
    api.push(sid, upsert("a.md", "v2", base=sha("v1")))
    cursor = api.sources()[0]["lastCursor"]
    result = api.push(
        sid, upsert("a.md", "v2", base=sha("v1")), upsert("a.md", "v2"), upsert("a.md", "v2")
    )
    assert [r["status"] for r in result["results"]] == ["unchanged"] * 3
    assert [r["hash"] for r in result["results"]] == [sha("v2")] * 3
    assert result["applied"] == 0
    assert result["eventCursor"] == cursor
    assert len(api.history(sid, "a.md")) == 2
    assert api.conflicts(sid) == []


def test_delete_with_the_current_base_deletes(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "A"))
    result = api.push(sid, delete("a.md", sha("A")))
    assert result["results"][0]["status"] == "applied"
    assert result["results"][0]["hash"] is None
    assert api.file(sid, "a.md")["state"] == "deleted"
    event = api.deltas(sid)[-1]
    assert (event["type"], event["relativePath"]) == ("file.delete", "a.md")
    assert event["payload"]["previousHash"] == sha("A")
    assert "content" not in event["payload"]


def test_deleting_an_unknown_or_deleted_path_is_unchanged(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    result = api.push(sid, delete("never.md", None))
    assert result["results"][0]["status"] == "unchanged"
    assert_error(api.post("sources/file", {"sourceId": sid, "relativePath": "never.md"}), 404)
    api.push(sid, upsert("a.md", "A"))
    api.push(sid, delete("a.md", sha("A")))
    again = api.push(sid, delete("a.md", sha("A")))
    assert again["results"][0]["status"] == "unchanged"
    assert [e["type"] for e in api.deltas(sid)] == ["file.upsert", "file.delete"]


@pytest.mark.parametrize("base", ["stale", None])
def test_delete_with_a_stale_base_is_a_conflict_and_keep_local_deletes(
    api: Api, base: str | None
) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "v1"))
    api.push(sid, upsert("a.md", "v2", base=sha("v1")))
    result = api.push(sid, delete("a.md", sha("v1") if base else None))
    outcome = result["results"][0]
    assert outcome["status"] == "conflict"
    record = api.file(sid, "a.md")
    assert (record["state"], record["content"]) == ("conflict", "v2")
    [conflict] = api.conflicts(sid)
    assert conflict["reason"] == "edit_delete"
    assert (conflict["localDeleted"], conflict["localHash"]) == (True, None)
    assert (conflict["remoteDeleted"], conflict["remoteHash"]) == (False, sha("v2"))

    resolved = api.resolve(conflict["id"], "keep_local")
    assert resolved["hash"] is None
    record = api.file(sid, "a.md")
    assert (record["state"], record["hash"], record["content"]) == ("deleted", None, None)
    events = api.deltas(sid)
    assert [e["type"] for e in events[-2:]] == ["conflict.resolved", "file.delete"]
    newest = api.history(sid, "a.md")[0]
    assert (newest["deleted"], newest["hash"], newest["origin"]) == (True, None, "merge")
    assert newest["content"] is None


def test_recreating_a_deleted_path_applies(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "A"))
    api.push(sid, delete("a.md", sha("A")))
    result = api.push(sid, upsert("a.md", "again"))
    assert result["results"][0]["status"] == "applied"
    assert api.file(sid, "a.md")["content"] == "again"


# ---- whole-request failures -----------------------------------------------------


def test_more_items_than_the_limit_is_413_and_writes_nothing(api: Api) -> None:
    source = api.source()
    limit = api.settings.max_batch_items
    body = {
        "sourceId": source["id"],
        "items": [upsert(f"{i}.md", str(i)) for i in range(limit + 1)],
    }
    assert_error(api.post("sources/push-batch", body), 413, "BATCH_TOO_LARGE")
    assert api.files(source["id"]) == []
    assert api.deltas(source["id"]) == []
    full = api.push(source["id"], *(upsert(f"{i}.md", str(i)) for i in range(limit)))
    assert full["applied"] == limit


def test_not_json_is_400(api: Api) -> None:
    source = api.source()
    body = b'{"sourceId": "' + source["id"].encode() + b'", "items": ['
    assert_error(api.raw("sources/push-batch", body), 400, "MALFORMED_JSON")


def test_missing_source_id_or_items_is_422(api: Api) -> None:
    assert_error(api.post("sources/push-batch", {"items": []}), 422, "INVALID_INPUT")
    source = api.source()
    assert_error(api.post("sources/push-batch", {"sourceId": source["id"]}), 422, "INVALID_INPUT")
    body = {"sourceId": source["id"], "items": {"a": 1}}
    assert_error(api.post("sources/push-batch", body), 422, "INVALID_INPUT")


def test_unknown_source_is_404(api: Api) -> None:
    body = {"sourceId": "no-such-source", "items": [upsert("a.md", "a")]}
    assert_error(api.post("sources/push-batch", body), 404, "SOURCE_NOT_FOUND")


def test_paused_source_is_409(api: Api) -> None:
    source = api.source()
    api.call("sources/pause", {"sourceId": source["id"]})
    body = {"sourceId": source["id"], "items": [upsert("a.md", "a")]}
    assert_error(api.post("sources/push-batch", body), 409, "SOURCE_PAUSED")
    assert api.files(source["id"]) == []


def test_pushing_connector_is_named_in_events(api: Api) -> None:
    source = api.source()
    other = api.connector("desktop")
    api.push(source["id"], upsert("a.md", "a"))
    api.push(source["id"], upsert("b.md", "b"), connectorId=other["id"])
    first, second = api.deltas(source["id"])
    assert first["payload"]["connectorId"] == source["connectorId"]
    assert second["payload"]["connectorId"] == other["id"]
    assert api.history(source["id"], "b.md")[0]["connectorId"] == other["id"]


def test_unknown_pushing_connector_is_404_and_writes_nothing(api: Api) -> None:
    source = api.source()
    body = {"sourceId": source["id"], "connectorId": "nope", "items": [upsert("a.md", "a")]}
    assert_error(api.post("sources/push-batch", body), 404, "CONNECTOR_NOT_FOUND")
    assert api.files(source["id"]) == []


def test_source_without_connector_records_none(api: Api) -> None:
    source = api.call("sources", {"name": "Bare", "mode": "import_only"})
    api.push(source["id"], upsert("a.md", "a"))
    [event] = api.deltas(source["id"])
    assert "connectorId" not in event["payload"]
    assert api.history(source["id"], "a.md")[0]["connectorId"] is None


def test_results_are_the_documented_shape(api: Api) -> None:
    source = api.source()
    first = upsert("é/ü.md", "ünïcödé")
    result = api.push(source["id"], first, first, upsert("../out.md", "x"), {"relativePath": 3})
    assert [r["status"] for r in result["results"]] == [
        "applied",
        "duplicate",
        "rejected",
        "rejected",
    ]
    assert PushBatchOut.model_validate(result).model_dump(mode="json", by_alias=True) == result
