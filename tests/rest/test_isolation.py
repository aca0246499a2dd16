"""Tenancy: another workspace's rows answer exactly like missing ones, for reads and writes."""

import uuid
from typing import Any

import httpx
import pytest

from tests.factories import Api, sha, upsert


@pytest.fixture
def theirs(other_api: Api) -> dict[str, Any]:
    """Another workspace with a connector, a source, a file and an open conflict."""
    source = other_api.source()
    other_api.push(source["id"], upsert("secret.md", "their secret"))
    conflict = other_api.open_conflict(source["id"], "clash.md")
    return {
        "connector": source["connectorId"],
        "source": source["id"],
        "conflict": conflict["id"],
        "events": other_api.deltas(source["id"]),
    }


def _requests(ids: dict[str, str], mine: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every request that names a row by id; ``ids`` says which rows."""
    source, conflict, connector = ids["source"], ids["conflict"], ids["connector"]
    return {
        "heartbeat": {"path": "connectors/heartbeat", "body": {"connectorId": connector}},
        "create-source": {
            "path": "sources",
            "body": {"name": "Mine", "mode": "bidirectional", "connectorId": connector},
        },
        "pause": {"path": "sources/pause", "body": {"sourceId": source}},
        "resume": {"path": "sources/resume", "body": {"sourceId": source}},
        "files": {"path": "sources/files", "body": {"sourceId": source}},
        "file": {"path": "sources/file", "body": {"sourceId": source, "relativePath": "secret.md"}},
        "file-update": {
            "path": "sources/file/update",
            "body": {"sourceId": source, "relativePath": "secret.md", "content": "mine"},
        },
        "push-batch": {
            "path": "sources/push-batch",
            "body": {"sourceId": source, "items": [upsert("secret.md", "mine")]},
        },
        "push-as-their-connector": {
            "path": "sources/push-batch",
            "body": {
                "sourceId": mine["id"],
                "connectorId": connector,
                "items": [upsert("x.md", "x")],
            },
        },
        "deltas": {"path": "sources/deltas", "body": {"sourceId": source}},
        "conflicts": {"path": "sources/conflicts", "body": {"sourceId": source, "status": None}},
        "preview": {"path": "sources/conflicts/preview", "body": {"conflictId": conflict}},
        "preview-with-source": {
            "path": "sources/conflicts/preview",
            "body": {"conflictId": conflict, "sourceId": source},
        },
        "resolve": {
            "path": "sources/conflicts/resolve",
            "body": {"conflictId": conflict, "resolution": "keep_local"},
        },
        "resolve-manual": {
            "path": "sources/conflicts/resolve",
            "body": {"conflictId": conflict, "resolution": "manual_merge", "resolvedContent": "x"},
        },
        "history": {
            "path": "sources/history",
            "body": {"sourceId": source, "relativePath": "secret.md"},
        },
    }


def _answer(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


def test_another_workspaces_rows_answer_like_missing_ones(
    api: Api, other_api: Api, theirs: dict[str, Any]
) -> None:
    mine = api.source()
    missing = {k: str(uuid.uuid4()) for k in ("source", "conflict", "connector")}
    foreign = _requests(theirs, mine)
    absent = _requests(missing, mine)
    for name, request in foreign.items():
        got = _answer(api.post(request["path"], request["body"]))
        expected = _answer(api.post(absent[name]["path"], absent[name]["body"]))
        assert got[0] == 404, f"{name}: {got}"
        assert got == expected, name

    # Nothing of theirs changed, and nothing of mine was created by the attempts.
    assert other_api.deltas(theirs["source"]) == theirs["events"]
    [source] = other_api.sources()
    assert source["status"] == "active"
    assert other_api.file(theirs["source"], "secret.md")["content"] == "their secret"
    [conflict] = other_api.conflicts(theirs["source"])
    assert (conflict["status"], conflict["revision"]) == ("open", 1)
    assert [s["id"] for s in api.sources()] == [mine["id"]]
    assert api.deltas(mine["id"]) == []


def test_lists_never_show_another_workspace(
    api: Api, other_api: Api, theirs: dict[str, Any]
) -> None:
    mine = api.source()
    api.push(mine["id"], upsert("secret.md", "my secret"))
    assert [s["id"] for s in api.sources()] == [mine["id"]]
    assert all(s["workspaceId"] == api.workspace for s in api.sources())
    assert [s["id"] for s in other_api.sources()] == [theirs["source"]]
    assert [f["relativePath"] for f in api.files(mine["id"])] == ["secret.md"]
    assert api.file(mine["id"], "secret.md")["hash"] == sha("my secret")
    assert api.conflicts(mine["id"], None) == []
    assert [e["payload"]["content"] for e in api.deltas(mine["id"])] == ["my secret"]


def test_the_same_paths_and_operations_in_two_workspaces_are_independent(
    api: Api, other_api: Api
) -> None:
    mine, yours = api.source(), other_api.source()
    api.push(mine["id"], upsert("a.md", "mine", op="op-same"))
    result = other_api.push(yours["id"], upsert("a.md", "yours", op="op-same"))
    assert result["results"][0]["status"] == "applied"
    assert api.file(mine["id"], "a.md")["content"] == "mine"
    assert other_api.file(yours["id"], "a.md")["content"] == "yours"
