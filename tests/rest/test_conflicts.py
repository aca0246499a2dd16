"""Conflicts: one open conflict per file, its sides, preview and resolution."""

from typing import Any

import pytest

from tests.factories import Api, assert_error, assert_utc, sha, upsert

CONFLICT_KEYS = {
    "id",
    "sourceId",
    "relativePath",
    "status",
    "reason",
    "baseHash",
    "localHash",
    "remoteHash",
    "localDeleted",
    "remoteDeleted",
    "revision",
    "resolution",
    "resolvedHash",
    "createdAt",
    "updatedAt",
    "resolvedAt",
}


@pytest.fixture
def source(api: Api) -> dict[str, Any]:
    return api.source()


@pytest.fixture
def conflict(api: Api, source: dict[str, Any]) -> dict[str, Any]:
    return api.open_conflict(source["id"], "notes/clash.md")


def test_list_shows_open_conflicts(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    listed = api.conflicts(source["id"])
    assert isinstance(listed, list)
    [row] = listed
    assert set(row) == CONFLICT_KEYS
    assert row["id"] == conflict["id"]
    assert (row["sourceId"], row["relativePath"], row["status"]) == (
        source["id"],
        "notes/clash.md",
        "open",
    )
    assert (row["revision"], row["resolution"], row["resolvedHash"], row["resolvedAt"]) == (
        1,
        None,
        None,
        None,
    )
    assert (row["localDeleted"], row["remoteDeleted"]) == (False, False)
    assert_utc(row["createdAt"])
    assert_utc(row["updatedAt"])


def test_list_filters_by_status(api: Api, source: dict[str, Any], conflict: dict[str, Any]) -> None:
    other = api.open_conflict(source["id"], "notes/other.md")
    api.resolve(conflict["id"], "keep_local")
    assert [c["id"] for c in api.conflicts(source["id"])] == [other["id"]]
    assert [c["id"] for c in api.conflicts(source["id"], "resolved")] == [conflict["id"]]
    assert {c["id"] for c in api.conflicts(source["id"], None)} == {conflict["id"], other["id"]}
    body = {"sourceId": source["id"], "status": "closed"}
    assert_error(api.post("sources/conflicts", body), 422, "INVALID_INPUT")


# ---- one open conflict per file ------------------------------------------------------


def test_later_changes_extend_the_open_conflict(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    sid, path = source["id"], conflict["path"]
    local2 = "# Title\nlocal line, again\n"
    pushed = api.push(sid, upsert(path, local2, base=sha(conflict["base"])))["results"][0]
    assert (pushed["status"], pushed["conflictId"]) == ("conflict", conflict["id"])
    [row] = api.conflicts(sid)
    assert (row["revision"], row["localHash"], row["remoteHash"]) == (
        2,
        sha(local2),
        sha(conflict["remote"]),
    )

    remote2 = "# Title\nraven line\n"
    edited = api.update(sid, path, remote2, base=sha(conflict["remote"]))
    assert (edited["status"], edited["conflictId"]) == ("conflict", conflict["id"])
    [row] = api.conflicts(sid)
    assert (row["revision"], row["localHash"], row["remoteHash"]) == (3, sha(local2), sha(remote2))
    assert row["baseHash"] == sha(conflict["base"])

    # The file itself still shows the content it had when the conflict opened.
    record = api.file(sid, path)
    assert (record["state"], record["content"], record["conflictId"]) == (
        "conflict",
        conflict["remote"],
        conflict["id"],
    )
    # Every side stays in history, marked with the conflict it belongs to.
    versions = api.history(sid, path)
    assert [(v["content"], v["conflictId"], v["origin"]) for v in versions] == [
        (remote2, conflict["id"], "raven"),
        (local2, conflict["id"], "connector"),
        (conflict["local"], conflict["id"], "connector"),
        (conflict["remote"], None, "connector"),
        (conflict["base"], None, "connector"),
    ]
    events = api.deltas(sid)
    assert [e["type"] for e in events[-3:]] == [
        "conflict.opened",
        "conflict.updated",
        "conflict.updated",
    ]
    assert [e["payload"]["revision"] for e in events[-3:]] == [1, 2, 3]
    assert len(api.conflicts(sid, None)) == 1


def test_repeating_a_side_changes_nothing(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    sid = source["id"]
    before = api.deltas(sid)
    again = api.push(sid, upsert(conflict["path"], conflict["local"]))["results"][0]
    assert (again["status"], again["conflictId"]) == ("conflict", conflict["id"])
    assert api.conflicts(sid)[0]["revision"] == 1
    assert api.deltas(sid) == before


def test_sides_that_converge_close_the_conflict(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    sid = source["id"]
    result = api.push(sid, upsert(conflict["path"], conflict["remote"]))["results"][0]
    assert result["status"] == "applied"
    assert api.conflicts(sid) == []
    [closed] = api.conflicts(sid, "resolved")
    assert (closed["resolution"], closed["resolvedHash"]) == ("converged", sha(conflict["remote"]))
    record = api.file(sid, conflict["path"])
    assert (record["state"], record["content"]) == ("ok", conflict["remote"])


# ---- resolution ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolution", "side"), [("keep_local", "local"), ("keep_raven", "remote")]
)
def test_resolve_keeping_one_side(
    api: Api, source: dict[str, Any], conflict: dict[str, Any], resolution: str, side: str
) -> None:
    sid = source["id"]
    cursor = api.sources()[0]["lastCursor"]
    versions_before = api.history(sid, conflict["path"])
    result = api.resolve(conflict["id"], resolution, sourceId=sid, revision=1)
    assert set(result) == {"conflict", "hash", "eventCursor"}
    kept = conflict[side]
    assert result["hash"] == sha(kept)
    assert result["eventCursor"] == cursor + 2
    resolved = result["conflict"]
    assert set(resolved) == CONFLICT_KEYS
    assert (resolved["status"], resolved["resolution"], resolved["resolvedHash"]) == (
        "resolved",
        resolution,
        sha(kept),
    )
    assert_utc(resolved["resolvedAt"])

    record = api.file(sid, conflict["path"])
    assert (record["state"], record["content"], record["conflictId"]) == ("ok", kept, None)
    versions = api.history(sid, conflict["path"])
    assert versions[1:] == versions_before
    newest = versions[0]
    assert (newest["origin"], newest["content"], newest["conflictId"]) == ("merge", kept, None)
    assert newest["seq"] == versions_before[0]["seq"] + 1
    events = api.deltas(sid)
    assert [(e["cursor"], e["type"]) for e in events[-2:]] == [
        (cursor + 1, "conflict.resolved"),
        (cursor + 2, "file.upsert"),
    ]
    assert events[-2]["payload"]["conflictId"] == conflict["id"]
    assert events[-2]["payload"]["resolution"] == resolution
    assert (events[-1]["payload"]["origin"], events[-1]["payload"]["content"]) == ("merge", kept)


def test_resolve_with_a_manual_merge(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    sid = source["id"]
    merged = "# Title\nlocal line\nremote line\n"
    result = api.resolve(conflict["id"], "manual_merge", resolvedContent=merged)
    assert result["hash"] == sha(merged)
    assert result["conflict"]["resolution"] == "manual_merge"
    assert api.file(sid, conflict["path"])["content"] == merged
    newest = api.history(sid, conflict["path"])[0]
    assert (newest["origin"], newest["content"]) == ("merge", merged)
    assert [e["type"] for e in api.deltas(sid)[-2:]] == ["conflict.resolved", "file.upsert"]
    # The connector can build on the resolved content as its new base.
    follow = api.push(sid, upsert(conflict["path"], merged + "more\n", base=sha(merged)))
    assert follow["results"][0]["status"] == "applied"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({}, "MISSING_CONTENT"),
        ({"resolvedContent": None}, "MISSING_CONTENT"),
        ({"resolvedContent": "a\u0000b"}, "INVALID_CONTENT"),
    ],
)
def test_manual_merge_needs_valid_content(
    api: Api, source: dict[str, Any], conflict: dict[str, Any], extra: dict[str, Any], code: str
) -> None:
    body = {"conflictId": conflict["id"], "resolution": "manual_merge", **extra}
    assert_error(api.post("sources/conflicts/resolve", body), 422, code)
    [row] = api.conflicts(source["id"])
    assert row["status"] == "open"
    assert api.file(source["id"], conflict["path"])["state"] == "conflict"


def test_unknown_resolution_is_422(api: Api, conflict: dict[str, Any]) -> None:
    body = {"conflictId": conflict["id"], "resolution": "keep_all"}
    assert_error(api.post("sources/conflicts/resolve", body), 422, "INVALID_INPUT")


def test_stale_revision_is_409(api: Api, source: dict[str, Any], conflict: dict[str, Any]) -> None:
    sid = source["id"]
    api.push(sid, upsert(conflict["path"], "# Title\nnewer local\n"))
    body = {"conflictId": conflict["id"], "resolution": "keep_local", "revision": 1}
    assert_error(api.post("sources/conflicts/resolve", body), 409, "STALE_REVISION")
    assert api.conflicts(sid)[0]["status"] == "open"
    result = api.resolve(conflict["id"], "keep_local", revision=2)
    assert result["hash"] == sha("# Title\nnewer local\n")


def test_already_resolved_is_409(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    api.resolve(conflict["id"], "keep_raven")
    cursor = api.sources()[0]["lastCursor"]
    for resolution in ("keep_local", "keep_raven"):
        body = {"conflictId": conflict["id"], "resolution": resolution}
        assert_error(api.post("sources/conflicts/resolve", body), 409, "CONFLICT_RESOLVED")
    assert api.sources()[0]["lastCursor"] == cursor
    assert api.file(source["id"], conflict["path"])["content"] == conflict["remote"]


def test_unknown_conflict_or_wrong_source_is_404(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    body = {"conflictId": "nope", "resolution": "keep_local"}
    assert_error(api.post("sources/conflicts/resolve", body), 404, "CONFLICT_NOT_FOUND")
    elsewhere = api.source()
    body = {"conflictId": conflict["id"], "resolution": "keep_local", "sourceId": elsewhere["id"]}
    assert_error(api.post("sources/conflicts/resolve", body), 404, "CONFLICT_NOT_FOUND")
    assert api.conflicts(source["id"])[0]["status"] == "open"
    assert_error(api.post("sources/conflicts", {"sourceId": "nope"}), 404, "SOURCE_NOT_FOUND")


def test_a_new_conflict_can_open_after_resolution(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    sid = source["id"]
    api.resolve(conflict["id"], "keep_local")
    again = api.push(sid, upsert(conflict["path"], "# Title\nyet another\n"))["results"][0]
    assert again["status"] == "conflict"
    assert again["conflictId"] != conflict["id"]
    assert [c["id"] for c in api.conflicts(sid, None)] == [conflict["id"], again["conflictId"]]


# ---- preview -----------------------------------------------------------------------------


def test_preview_shows_both_sides(
    api: Api, source: dict[str, Any], conflict: dict[str, Any]
) -> None:
    body = {"sourceId": source["id"], "conflictId": conflict["id"], "contextLines": 1}
    preview = api.call("sources/conflicts/preview", body)
    assert preview["conflictId"] == conflict["id"]
    assert preview["relativePath"] == conflict["path"]
    assert preview["revision"] == 1
    assert (preview["baseHash"], preview["localHash"], preview["remoteHash"]) == (
        sha(conflict["base"]),
        sha(conflict["local"]),
        sha(conflict["remote"]),
    )
    assert preview["baseKnown"] is True
    assert isinstance(preview["hunks"], list) and preview["hunks"]
    texts = {line["text"] for hunk in preview["hunks"] for line in hunk["lines"]}
    assert {"local line", "remote line"} <= {t.rstrip("\n") for t in texts}
    # Previewing changes nothing.
    assert api.conflicts(source["id"])[0]["revision"] == 1


def test_preview_of_an_unknown_conflict_is_404(api: Api) -> None:
    body = {"conflictId": "nope"}
    assert_error(api.post("sources/conflicts/preview", body), 404, "CONFLICT_NOT_FOUND")
