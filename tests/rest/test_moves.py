"""Moves through push-batch: history goes with the file, events stay documented.

Every test runs against a real server on both databases; state is checked
through the documented reads (history, files, deltas), never the tables.
"""

from typing import Any

import pytest

from tests.factories import Api, delete, sha, upsert

BASE = "# Plan\none\ntwo\nthree\n"


def _moved(path: str, content: str, old: str, base: str | None, **extra: Any) -> dict[str, Any]:
    return upsert(path, content, base=base, renameFrom=old, **extra)


def _one(api: Api, source_id: str, item: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = api.push(source_id, item)["results"][0]
    return result


def _paths(api: Api, source_id: str) -> dict[str, str]:
    return {f["relativePath"]: f["state"] for f in api.files(source_id)}


def _count(api: Api, source_id: str) -> int:
    row = next(s for s in api.sources() if s["id"] == source_id)
    return int(row["fileCount"])


@pytest.fixture
def source(api: Api) -> str:
    sid: str = api.source()["id"]
    api.push(sid, upsert("a.md", "# Plan\n"), upsert("keep.md", "x\n"))
    api.push(sid, upsert("a.md", BASE, base=sha("# Plan\n")))
    return sid


def test_a_move_keeps_the_whole_history_at_the_new_path(api: Api, source: str) -> None:
    result = _one(api, source, _moved("b/renamed.md", BASE, "a.md", sha(BASE)))
    assert (result["status"], result["hash"]) == ("applied", sha(BASE))
    history = api.history(source, "b/renamed.md")
    assert [v["hash"] for v in history] == [sha(BASE), sha(BASE), sha("# Plan\n")]
    assert history[0]["movedFrom"] == "a.md"
    assert [v["movedFrom"] for v in history[1:]] == [None, None]
    assert _paths(api, source) == {"b/renamed.md": "ok", "keep.md": "ok"}
    assert _count(api, source) == 2
    missing = api.post("sources/history", {"sourceId": source, "relativePath": "a.md"})
    assert missing.status_code == 404


def test_content_changed_with_the_move_is_applied_after_it(api: Api, source: str) -> None:
    edited = BASE + "four\n"
    result = _one(api, source, _moved("b.md", edited, "a.md", sha(BASE)))
    assert (result["status"], result["hash"]) == ("applied", sha(edited))
    history = api.history(source, "b.md")
    assert [(v["hash"], v["movedFrom"]) for v in history[:2]] == [
        (sha(edited), None),
        (sha(BASE), "a.md"),
    ]


def test_a_move_on_a_stale_base_merges_at_the_new_path(api: Api, source: str) -> None:
    remote = BASE.replace("one", "ONE")
    api.push(source, upsert("a.md", remote, base=sha(BASE)))
    local = BASE.replace("three", "THREE")
    result = _one(api, source, _moved("b.md", local, "a.md", sha(BASE)))
    assert result["status"] == "merged"
    assert api.file(source, "b.md")["content"] == "# Plan\nONE\ntwo\nTHREE\n"
    assert "a.md" not in _paths(api, source)


def test_events_are_a_documented_delete_then_upsert_with_move_fields(api: Api, source: str) -> None:
    before = len(api.deltas(source))
    _one(api, source, _moved("b.md", BASE, "a.md", sha(BASE)))
    gone, came = api.deltas(source)[before:]
    assert (gone["type"], gone["relativePath"]) == ("file.delete", "a.md")
    assert (came["type"], came["relativePath"]) == ("file.upsert", "b.md")
    assert {"origin", "operationId", "previousHash"} <= set(gone["payload"])
    assert gone["payload"]["previousHash"] == sha(BASE)
    assert gone["payload"]["movedTo"] == "b.md"
    assert came["payload"]["movedFrom"] == "a.md"
    assert came["payload"]["content"] == BASE
    assert came["payload"]["hash"] == sha(BASE)
    assert {"origin", "operationId", "hash", "contentType", "size"} <= set(came["payload"])


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("live", "MOVE_TARGET_EXISTS"),
        ("tombstone", "MOVE_TARGET_HAS_HISTORY"),
        ("clash", "PATH_CLASH"),
    ],
)
def test_a_move_the_target_refuses_changes_nothing(
    api: Api, source: str, setup: str, code: str
) -> None:
    target = "b.md"
    if setup == "live":
        api.push(source, upsert("b.md", "other\n"))
    elif setup == "tombstone":
        api.push(source, upsert("b.md", "other\n"))
        api.push(source, delete("b.md", sha("other\n")))
    else:
        target = "keep.md/inside.md"
    before = (_paths(api, source), len(api.deltas(source)))
    result = _one(api, source, _moved(target, BASE, "a.md", sha(BASE)))
    assert (result["status"], result["code"]) == ("rejected", code)
    assert (_paths(api, source), len(api.deltas(source))) == before
    assert len(api.history(source, "a.md")) == 2


def test_a_file_in_conflict_does_not_move(api: Api) -> None:
    sid = api.source()["id"]
    conflict = api.open_conflict(sid, "c.md")
    result = _one(api, sid, _moved("d.md", conflict["local"], "c.md", sha(conflict["base"])))
    assert (result["status"], result["code"]) == ("rejected", "MOVE_SOURCE_IN_CONFLICT")
    assert _paths(api, sid) == {"c.md": "conflict"}


def test_moving_from_a_missing_path_is_a_plain_upsert(api: Api, source: str) -> None:
    result = _one(api, source, _moved("new.md", "fresh\n", "never.md", sha("old\n")))
    assert result["status"] == "applied"
    assert [v["movedFrom"] for v in api.history(source, "new.md")] == [None]
    api.push(source, delete("keep.md", sha("x\n")))
    again = _one(api, source, _moved("kept.md", "x\n", "keep.md", sha("x\n")))
    assert again["status"] == "applied"
    assert api.history(source, "keep.md")[0]["deleted"] is True
    assert [v["movedFrom"] for v in api.history(source, "kept.md")] == [None]


def test_a_replayed_move_is_a_duplicate_and_a_reused_id_is_refused(api: Api, source: str) -> None:
    item = _moved("b.md", BASE, "a.md", sha(BASE), op="move-1")
    assert _one(api, source, item)["status"] == "applied"
    replay = _one(api, source, item)
    assert (replay["status"], replay["hash"]) == ("duplicate", sha(BASE))
    other = _moved("b.md", BASE, "elsewhere.md", sha(BASE), op="move-1")
    assert _one(api, source, other)["code"] == "OPERATION_ID_REUSED"
    plain = upsert("b.md", BASE, base=sha(BASE), op="move-1")
    assert _one(api, source, plain)["code"] == "OPERATION_ID_REUSED"
    assert len(api.history(source, "b.md")) == 3


@pytest.mark.parametrize(
    "value",
    ["../escape.md", "/etc/passwd", "a\\b.md", "", 5, ["a.md"], "x" * 300 + ".md", "a/./../b"],
)
def test_hostile_rename_from_is_rejected_alone(api: Api, source: str, value: object) -> None:
    bad = upsert("b.md", BASE, base=sha(BASE), renameFrom=value)
    fine = upsert("other.md", "ok\n")
    results = api.push(source, bad, fine)["results"]
    assert (results[0]["status"], results[0]["code"]) == ("rejected", "INVALID_RENAME_FROM")
    assert results[1]["status"] == "applied"
    assert "a.md" in _paths(api, source) and "b.md" not in _paths(api, source)


def test_rename_from_cannot_go_with_a_delete(api: Api, source: str) -> None:
    item = delete("b.md", sha(BASE)) | {"renameFrom": "a.md"}
    result = _one(api, source, item)
    assert (result["status"], result["code"]) == ("rejected", "INVALID_RENAME_FROM")
    assert _paths(api, source)["a.md"] == "ok"


def test_a_folder_moved_file_by_file_keeps_every_history(api: Api) -> None:
    sid = api.source()["id"]
    names = [f"notes/{i:03}.md" for i in range(120)]
    api.push(sid, *(upsert(n, f"note {n}\n") for n in names[:100]))
    api.push(sid, *(upsert(n, f"note {n}\n") for n in names[100:]))
    moves = [_moved("archive/" + n, f"note {n}\n", n, sha(f"note {n}\n")) for n in names]
    results = api.push(sid, *moves[:100])["results"] + api.push(sid, *moves[100:])["results"]
    assert {r["status"] for r in results} == {"applied"}
    assert set(_paths(api, sid)) == {"archive/" + n for n in names}
    assert _count(api, sid) == 120
    assert api.history(sid, "archive/notes/007.md")[0]["movedFrom"] == "notes/007.md"
