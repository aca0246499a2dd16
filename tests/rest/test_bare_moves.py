"""Moves without content: ``renameFrom`` + ``contentHash`` means "moved, content unchanged".

Real server, both databases; state is checked through the documented reads.
"""

import uuid
from typing import Any

import pytest

from tests.factories import Api, delete, sha, upsert

BASE = "# Plan\none\ntwo\nthree\n"


def bare(
    path: str, old: str, digest: object, op: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A move that sends no content, only the hash the moved file has."""
    item = {
        "operationId": op or f"op-{uuid.uuid4()}",
        "relativePath": path,
        "renameFrom": old,
        "contentHash": digest,
        "baseHash": digest,
        "isDelete": False,
    }
    item.update(extra)
    return item


def _one(api: Api, source_id: str, item: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = api.push(source_id, item)["results"][0]
    return result


def _paths(api: Api, source_id: str) -> dict[str, str | None]:
    return {f["relativePath"]: f["hash"] for f in api.files(source_id)}


@pytest.fixture
def source(api: Api) -> str:
    sid: str = api.source()["id"]
    api.push(sid, upsert("a.md", "# Plan\n"), upsert("keep.md", "x\n"))
    api.push(sid, upsert("a.md", BASE, base=sha("# Plan\n")))
    return sid


def test_a_move_without_content_keeps_history_and_content(api: Api, source: str) -> None:
    result = _one(api, source, bare("b/renamed.md", "a.md", sha(BASE)))
    assert (result["status"], result["hash"]) == ("applied", sha(BASE))
    assert api.file(source, "b/renamed.md")["content"] == BASE
    history = api.history(source, "b/renamed.md")
    assert [(v["hash"], v["movedFrom"]) for v in history] == [
        (sha(BASE), "a.md"),
        (sha(BASE), None),
        (sha("# Plan\n"), None),
    ]
    assert _paths(api, source) == {"b/renamed.md": sha(BASE), "keep.md": sha("x\n")}


def test_a_replayed_bare_move_is_a_duplicate(api: Api, source: str) -> None:
    item = bare("b.md", "a.md", sha(BASE))
    assert _one(api, source, item)["status"] == "applied"
    again = _one(api, source, item)
    assert (again["status"], again["hash"]) == ("duplicate", sha(BASE))
    reused = _one(api, source, bare("c.md", "b.md", sha(BASE), op=item["operationId"]))
    assert (reused["status"], reused["code"]) == ("rejected", "OPERATION_ID_REUSED")
    assert set(_paths(api, source)) == {"b.md", "keep.md"}


def test_a_bare_move_of_changed_content_is_refused_and_changes_nothing(
    api: Api, source: str
) -> None:
    before = len(api.deltas(source))
    result = _one(api, source, bare("b.md", "a.md", sha("something else\n")))
    assert (result["status"], result["code"]) == ("rejected", "MOVE_CONTENT_CHANGED")
    assert _paths(api, source) == {"a.md": sha(BASE), "keep.md": sha("x\n")}
    assert len(api.deltas(source)) == before


def test_a_bare_move_from_a_gone_path_is_refused(api: Api, source: str) -> None:
    api.push(source, delete("a.md", sha(BASE)))
    for old in ("a.md", "never-there.md"):
        result = _one(api, source, bare("b.md", old, sha(BASE)))
        assert (result["status"], result["code"]) == ("rejected", "MOVE_SOURCE_GONE")
    assert _paths(api, source) == {"keep.md": sha("x\n")}


def test_a_bare_move_onto_a_live_file_is_refused(api: Api, source: str) -> None:
    result = _one(api, source, bare("keep.md", "a.md", sha(BASE)))
    assert (result["status"], result["code"]) == ("rejected", "MOVE_TARGET_EXISTS")
    assert _paths(api, source) == {"a.md": sha(BASE), "keep.md": sha("x\n")}


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"contentHash": None}, "MISSING_CONTENT"),
        ({"contentHash": "not-a-hash"}, None),
        ({"contentHash": 12}, None),
        ({"contentHash": "A" * 64}, None),
        ({"contentHash": "0" * 10_000}, None),
        ({"renameFrom": "../../etc/passwd"}, "INVALID_RENAME_FROM"),
        ({"renameFrom": "b.md"}, "MISSING_CONTENT"),  # the same path: no move at all
        ({"isDelete": True}, "INVALID_RENAME_FROM"),
        ({"content": None, "renameFrom": None}, "MISSING_CONTENT"),
    ],
)
def test_hostile_bare_moves_are_rejected_alone(
    api: Api, source: str, extra: dict[str, Any], code: str | None
) -> None:
    item = bare("b.md", "a.md", sha(BASE), **extra)
    answer = api.push(source, item, upsert("ok.md", "fine\n"))["results"]
    assert answer[0]["status"] == "rejected"
    if code is not None:
        assert answer[0]["code"] == code
    assert answer[1]["status"] == "applied"
    assert _paths(api, source) == {"a.md": sha(BASE), "keep.md": sha("x\n"), "ok.md": sha("fine\n")}


def test_a_bare_move_in_another_workspace_source_moves_nothing(api: Api, source: str) -> None:
    other: str = api.source()["id"]
    result = _one(api, other, bare("b.md", "a.md", sha(BASE)))
    assert (result["status"], result["code"]) == ("rejected", "MOVE_SOURCE_GONE")
    assert _paths(api, source) == {"a.md": sha(BASE), "keep.md": sha("x\n")}
