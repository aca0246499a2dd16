"""Paths no folder could hold are refused per item: a name is a file or a folder, never both.

The rule is the services' (push-batch, file/update and GraphQL updateFile share
it); deleted files leave their name free. Every refusal leaves the source as it was.
"""

from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.factories import Api, assert_error, delete, sha, upsert
from tests.rest.test_strict_items import paths, state

LONG_NAME = "é" * 128  # 256 UTF-8 bytes, 128 characters


@pytest.mark.parametrize(
    "path", [LONG_NAME, f"notes/{LONG_NAME}/a.md", "a" * 256 + ".md", f"x/{'b' * 253}.md/y"]
)
def test_a_name_over_255_bytes_is_rejected_alone(api: Api, path: str) -> None:
    source = api.source()
    sid = source["id"]
    result = api.push(sid, upsert(path, "x"), upsert("ok.md", "ok"))
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("rejected", "INVALID_PATH"),
        ("applied", None),
    ]
    assert paths(api, sid) == ["ok.md"]
    before = state(api, sid)
    body = {"sourceId": sid, "relativePath": path, "content": "x"}
    assert_error(api.post("sources/file/update", body), 422, "INVALID_PATH")
    assert state(api, sid) == before


def test_a_name_of_exactly_255_bytes_is_fine(api: Api) -> None:
    source = api.source()
    name = "é" * 127 + "a"
    assert len(name.encode("utf-8")) == 255
    result = api.push(source["id"], upsert(f"notes/{name}", "x"))
    assert result["results"][0]["status"] == "applied"


CLASHES: list[tuple[str, str, str]] = [
    ("file-over-folder", "notes/a.md", "notes"),
    ("folder-over-file", "notes", "notes/a.md"),
    ("deep-file-over-folder", "a/b/c/d.md", "a/b"),
    ("deep-folder-over-file", "a", "a/b/c/d.md"),
]


@pytest.mark.parametrize(
    ("existing", "new"), [(e, n) for _, e, n in CLASHES], ids=[c[0] for c in CLASHES]
)
def test_a_path_clashing_with_a_live_file_is_rejected(api: Api, existing: str, new: str) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert(existing, "there"), upsert("z.md", "z"))
    before = state(api, sid)
    result = api.push(sid, upsert(new, "new"), upsert("other.md", "other"))
    outcome = result["results"][0]
    assert (outcome["status"], outcome["code"]) == ("rejected", "PATH_CLASH"), result
    assert outcome["message"] and outcome["hash"] is None
    assert result["results"][1]["status"] == "applied"
    events = api.deltas(sid)
    assert sorted(paths(api, sid)) == sorted([existing, "z.md", "other.md"])
    assert events[: len(before[1])] == before[1]
    assert [e["relativePath"] for e in events[len(before[1]) :]] == ["other.md"]
    # The refused path left no row behind, not even a deleted one.
    assert_error(api.post("sources/file", {"sourceId": sid, "relativePath": new}), 404)


def test_both_inside_one_batch_the_later_one_is_rejected(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    result = api.push(
        sid,
        upsert("notes", "a file"),
        upsert("notes/a.md", "inside"),
        upsert("docs/a.md", "inside"),
        upsert("docs", "a file"),
    )
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("applied", None),
        ("rejected", "PATH_CLASH"),
        ("applied", None),
        ("rejected", "PATH_CLASH"),
    ]
    assert paths(api, sid) == ["docs/a.md", "notes"]
    assert [e["relativePath"] for e in api.deltas(sid)] == ["notes", "docs/a.md"]


def test_a_deleted_file_does_not_block(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes", "a file"))
    api.push(sid, delete("notes", sha("a file")))
    result = api.push(sid, upsert("notes/a.md", "inside"))
    assert result["results"][0]["status"] == "applied"
    # And back: the folder's only file deleted, the name can be a file again.
    api.push(sid, delete("notes/a.md", sha("inside")))
    assert api.push(sid, upsert("notes", "again"))["results"][0]["status"] == "applied"


def test_a_delete_earlier_in_the_batch_frees_the_name(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes/a.md", "A"), upsert("notes/b.md", "B"))
    result = api.push(
        sid,
        delete("notes/a.md", sha("A")),
        upsert("notes", "too early"),
        delete("notes/b.md", sha("B")),
        upsert("notes", "now a file"),
    )
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("applied", None),
        ("rejected", "PATH_CLASH"),
        ("applied", None),
        ("applied", None),
    ]
    assert api.file(sid, "notes")["content"] == "now a file"


def test_a_delete_that_conflicts_does_not_free_the_name(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes", "v1"))
    api.push(sid, upsert("notes", "v2", base=sha("v1")))
    result = api.push(sid, delete("notes", sha("v1")), upsert("notes/a.md", "inside"))
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("conflict", None),
        ("rejected", "PATH_CLASH"),
    ]
    assert paths(api, sid) == ["notes"]


def test_a_file_in_conflict_keeps_its_name(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.open_conflict(sid, "c.md")
    result = api.push(sid, upsert("c.md/inside.md", "x"))
    assert result["results"][0]["code"] == "PATH_CLASH"


def test_raven_side_update_obeys_the_same_rule(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes/a.md", "A"), upsert("todo", "T"))
    before = state(api, sid)
    for path in ("notes", "todo/x.md"):
        body = {"sourceId": sid, "relativePath": path, "content": "raven"}
        assert_error(api.post("sources/file/update", body), 409, "PATH_CLASH")
    assert state(api, sid) == before
    assert api.update(sid, "notes/b.md", "fine")["status"] == "ok"
    assert api.update(sid, "todo", "edited", base=sha("T"))["status"] == "ok"


def test_a_batch_larger_than_one_probe_statement(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    """600 new paths: the clash probes are split across statements, and still all checked."""
    server = start_server(max_batch_items=600)
    with Api(server.url, server.settings, workspace) as api:
        source = api.source()
        sid = source["id"]
        api.push(sid, upsert("last/inside.md", "x"))
        items = [upsert(f"n/{i:03}.md", str(i)) for i in range(599)] + [upsert("last", "y")]
        result = api.push(sid, *items)
        assert result["applied"] == 599
        assert (result["results"][-1]["status"], result["results"][-1]["code"]) == (
            "rejected",
            "PATH_CLASH",
        )
        assert len(api.files(sid)) == 600
