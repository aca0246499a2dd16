"""Source management: create, list, pause and resume."""

from typing import Any

import pytest

from tests.factories import Api, assert_error, assert_utc, delete, sha, upsert

SOURCE_KEYS = {
    "id",
    "workspaceId",
    "name",
    "mode",
    "connectorId",
    "includePatterns",
    "excludePatterns",
    "status",
    "autoMerge",
    "mergeGranularity",
    "lastCursor",
    "fileCount",
    "openConflicts",
    "createdAt",
    "updatedAt",
}


def test_create_returns_the_source(api: Api) -> None:
    connector = api.connector()
    body = {
        "name": "Research Vault",
        "mode": "bidirectional",
        "connectorId": connector["id"],
        "includePatterns": ["**/*.md"],
        "excludePatterns": ["**/.git/**", "**/node_modules/**"],
    }
    source = api.call("sources", body)
    assert set(source) == SOURCE_KEYS
    assert source["workspaceId"] == api.workspace
    assert source["name"] == "Research Vault"
    assert source["mode"] == "bidirectional"
    assert source["connectorId"] == connector["id"]
    assert source["includePatterns"] == ["**/*.md"]
    assert source["excludePatterns"] == ["**/.git/**", "**/node_modules/**"]
    assert source["status"] == "active"
    assert source["autoMerge"] is True
    assert source["mergeGranularity"] == "line"
    assert (source["lastCursor"], source["fileCount"], source["openConflicts"]) == (0, 0, 0)
    assert_utc(source["createdAt"])
    assert_utc(source["updatedAt"])


def test_create_defaults(api: Api) -> None:
    source = api.call("sources", {"name": " Notes ", "mode": "import_only"})
    assert source["name"] == "Notes"
    assert source["connectorId"] is None
    assert source["includePatterns"] == ["**/*.md"]
    assert source["excludePatterns"] == []


@pytest.mark.parametrize("mode", ["import_only", "local_to_cloud", "bidirectional"])
def test_every_mode_can_be_created(api: Api, mode: str) -> None:
    assert api.source(mode)["mode"] == mode


def test_create_with_an_unknown_connector_is_404(api: Api) -> None:
    body = {"name": "Notes", "mode": "bidirectional", "connectorId": "no-such-connector"}
    assert_error(api.post("sources", body), 404, "CONNECTOR_NOT_FOUND")
    assert api.sources() == []


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "bidirectional"},
        {"name": "Notes"},
        {"name": "", "mode": "bidirectional"},
        {"name": "   ", "mode": "bidirectional"},
        {"name": "n" * 201, "mode": "bidirectional"},
        {"name": "Notes", "mode": "two_way"},
        {"name": "Notes", "mode": "bidirectional", "mergeGranularity": "char"},
        {"name": "Notes", "mode": "bidirectional", "includePatterns": [""]},
        {"name": "Notes", "mode": "bidirectional", "excludePatterns": ["  "]},
        {"name": "Notes", "mode": "bidirectional", "excludePatterns": ["a\u0000b"]},
        {"name": "Notes", "mode": "bidirectional", "includePatterns": ["*.md"] * 201},
        {"name": "Notes", "mode": "bidirectional", "includePatterns": "**/*.md"},
    ],
    ids=[
        "no-name",
        "no-mode",
        "empty-name",
        "blank-name",
        "long-name",
        "bad-mode",
        "bad-granularity",
        "empty-pattern",
        "blank-pattern",
        "nul-pattern",
        "too-many-patterns",
        "pattern-string",
    ],
)
def test_create_refuses_bad_input(api: Api, body: dict[str, Any]) -> None:
    assert_error(api.post("sources", body), 422)
    assert api.sources() == []


def test_list_is_a_bare_array_in_creation_order_with_counts(api: Api) -> None:
    assert api.sources() == []
    first = api.source()
    second = api.source("import_only")
    api.push(second["id"], upsert("a.md", "a"), upsert("b.md", "b"), upsert("c.md", "c"))
    api.push(second["id"], delete("c.md", sha("c")))
    listed = api.sources()
    assert isinstance(listed, list)
    assert [s["id"] for s in listed] == [first["id"], second["id"]]
    assert all(set(s) == SOURCE_KEYS for s in listed)
    by_id = {s["id"]: s for s in listed}
    assert (by_id[first["id"]]["fileCount"], by_id[first["id"]]["openConflicts"]) == (0, 0)
    assert by_id[second["id"]]["fileCount"] == 2
    assert by_id[second["id"]]["lastCursor"] == 4


def test_list_counts_open_conflicts(api: Api) -> None:
    source = api.source()
    conflict = api.open_conflict(source["id"])
    assert api.sources()[0]["openConflicts"] == 1
    api.resolve(conflict["id"], "keep_local")
    assert api.sources()[0]["openConflicts"] == 0


def test_list_accepts_an_empty_body(api: Api) -> None:
    source = api.source()
    response = api.http.post("/api/local-sync/sources/list", headers=api.headers)
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()] == [source["id"]]


def test_pause_and_resume_emit_events(api: Api) -> None:
    source = api.source()
    paused = api.call("sources/pause", {"sourceId": source["id"]})
    assert paused["status"] == "paused"
    assert paused["id"] == source["id"]
    assert paused["lastCursor"] == 1
    assert api.sources()[0]["status"] == "paused"
    resumed = api.call("sources/resume", {"sourceId": source["id"]})
    assert resumed["status"] == "active"
    events = api.deltas(source["id"])
    assert [(e["cursor"], e["type"]) for e in events] == [
        (1, "source.paused"),
        (2, "source.resumed"),
    ]
    assert all(e["relativePath"] is None for e in events)


def test_pause_and_resume_are_idempotent(api: Api) -> None:
    source = api.source()
    api.call("sources/pause", {"sourceId": source["id"]})
    again = api.call("sources/pause", {"sourceId": source["id"]})
    assert again["status"] == "paused"
    api.call("sources/resume", {"sourceId": source["id"]})
    api.call("sources/resume", {"sourceId": source["id"]})
    assert [e["type"] for e in api.deltas(source["id"])] == ["source.paused", "source.resumed"]


def test_a_paused_source_refuses_writes_and_keeps_serving_reads(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes/a.md", "one"))
    api.call("sources/pause", {"sourceId": sid})

    refused = api.post("sources/push-batch", {"sourceId": sid, "items": [upsert("b.md", "b")]})
    assert_error(refused, 409, "SOURCE_PAUSED")
    edit = {"sourceId": sid, "relativePath": "notes/a.md", "content": "two"}
    assert_error(api.post("sources/file/update", edit), 409, "SOURCE_PAUSED")

    events = api.deltas(sid)
    assert [e["type"] for e in events] == ["file.upsert", "source.paused"]
    assert api.file(sid, "notes/a.md")["content"] == "one"
    assert [f["relativePath"] for f in api.files(sid)] == ["notes/a.md"]
    assert len(api.history(sid, "notes/a.md")) == 1
    assert api.conflicts(sid) == []

    api.call("sources/resume", {"sourceId": sid})
    assert api.push(sid, upsert("b.md", "b"))["applied"] == 1


@pytest.mark.parametrize("path", ["sources/pause", "sources/resume"])
def test_pause_and_resume_of_an_unknown_source_is_404(api: Api, path: str) -> None:
    assert_error(api.post(path, {"sourceId": "no-such-source"}), 404, "SOURCE_NOT_FOUND")
    assert_error(api.post(path, {}), 422, "INVALID_INPUT")
