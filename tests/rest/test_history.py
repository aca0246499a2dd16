"""history: every version kept, newest first, continuous across deletes; blobs stored once."""

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.factories import Api, assert_error, assert_utc, delete, sha, upsert

VERSION_KEYS = {
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


def test_history_is_a_bare_array_newest_first(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("a.md", "one", op="op-1"))
    api.push(sid, upsert("a.md", "two ✓", base=sha("one"), op="op-2"))
    versions = api.history(sid, "a.md")
    assert isinstance(versions, list)
    # The documented keys, plus the extensions ``pruned`` (retention), ``movedFrom``
    # (moves) and ``contentEncoding`` (attachments).
    extensions = {"pruned", "movedFrom", "contentEncoding"}
    assert all(set(v) == VERSION_KEYS | extensions for v in versions)
    assert all(v["pruned"] is False and v["movedFrom"] is None for v in versions)
    assert all(v["contentEncoding"] == "utf-8" for v in versions)
    newest, oldest = versions
    assert (newest["seq"], newest["content"], newest["hash"]) == (2, "two ✓", sha("two ✓"))
    assert (newest["size"], newest["operationId"], newest["origin"]) == (
        len("two ✓".encode()),
        "op-2",
        "connector",
    )
    assert newest["connectorId"] == source["connectorId"]
    assert (newest["deleted"], newest["conflictId"]) == (False, None)
    assert (oldest["seq"], oldest["content"], oldest["operationId"]) == (1, "one", "op-1")
    assert_utc(newest["recordedAt"])


def test_delete_then_recreate_continues_one_history(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes/a.md", "first"))
    api.push(sid, upsert("notes/a.md", "second", base=sha("first")))
    before = api.history(sid, "notes/a.md")
    api.push(sid, delete("notes/a.md", sha("second")))
    api.push(sid, upsert("notes/a.md", "reborn"))
    versions = api.history(sid, "notes/a.md")
    assert [v["seq"] for v in versions] == [4, 3, 2, 1]
    reborn, tombstone = versions[0], versions[1]
    assert (reborn["content"], reborn["deleted"]) == ("reborn", False)
    assert (tombstone["deleted"], tombstone["hash"], tombstone["content"], tombstone["size"]) == (
        True,
        None,
        None,
        0,
    )
    # Older versions are never rewritten.
    assert versions[2:] == before
    record = api.file(sid, "notes/a.md")
    assert (record["state"], record["versionCount"]) == ("ok", 4)
    assert [f["relativePath"] for f in api.files(sid, includeDeleted=True)] == ["notes/a.md"]


def test_history_pages_backwards(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    previous = None
    for i in range(5):
        content = f"v{i}"
        api.push(sid, upsert("a.md", content, base=previous))
        previous = sha(content)

    def page(**extra: object) -> list[int]:
        body = {"sourceId": sid, "relativePath": "a.md", **extra}
        return [v["seq"] for v in api.call("sources/history", body)]

    assert page(limit=2) == [5, 4]
    assert page(limit=2, before=4) == [3, 2]
    assert page(limit=2, before=2) == [1]
    assert page(before=1) == []
    assert page() == [5, 4, 3, 2, 1]


def test_history_without_content(api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "A"))
    body = {"sourceId": source["id"], "relativePath": "a.md", "includeContent": False}
    [version] = api.call("sources/history", body)
    assert (version["content"], version["hash"]) == (None, sha("A"))


def test_history_path_is_normalised_and_validated(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("dir/a.md", "A"))
    assert len(api.history(sid, "./dir//a.md")) == 1
    for path, status, code in [
        ("missing.md", 404, "FILE_NOT_FOUND"),
        ("../a.md", 422, "INVALID_PATH"),
        ("/dir/a.md", 422, "INVALID_PATH"),
    ]:
        body = {"sourceId": sid, "relativePath": path}
        assert_error(api.post("sources/history", body), status, code)
    for limit in (0, 501):
        body = {"sourceId": sid, "relativePath": "dir/a.md", "limit": limit}
        assert_error(api.post("sources/history", body), 422, "INVALID_INPUT")


def test_conflict_sides_and_resolution_are_in_history(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    conflict = api.open_conflict(sid)
    api.resolve(conflict["id"], "keep_raven")
    versions = api.history(sid, conflict["path"])
    assert [(v["origin"], v["content"], v["conflictId"]) for v in versions] == [
        ("merge", conflict["remote"], None),
        ("connector", conflict["local"], conflict["id"]),
        ("connector", conflict["remote"], None),
        ("connector", conflict["base"], None),
    ]
    assert versions[0]["operationId"] == f"resolve:{conflict['id']}"


def _blob_rows(engine: Engine, digest: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT COUNT(*) FROM blobs WHERE hash = :h"), {"h": digest}
            ).scalar_one()
        )


def test_identical_contents_are_stored_once(api: Api, other_api: Api, db_engine: Engine) -> None:
    content = f"# shared {api.workspace}\n"
    one, two = api.source(), api.source()
    api.push(one["id"], upsert("a.md", content), upsert("b.md", content))
    api.push(two["id"], upsert("c.md", content))
    api.update(one["id"], "d.md", content)
    mine = other_api.source()
    other_api.push(mine["id"], upsert("e.md", content))
    assert _blob_rows(db_engine, sha(content)) == 1
    # Each file still has its own version pointing at the one blob.
    for source_id, path in ((one["id"], "a.md"), (one["id"], "b.md"), (two["id"], "c.md")):
        assert api.history(source_id, path)[0]["content"] == content
    assert other_api.history(mine["id"], "e.md")[0]["content"] == content


def test_going_back_to_old_content_reuses_its_blob(api: Api, db_engine: Engine) -> None:
    source = api.source()
    sid = source["id"]
    first = f"first {api.workspace}"
    api.push(sid, upsert("a.md", first))
    api.push(sid, upsert("a.md", "second", base=sha(first)))
    api.push(sid, upsert("a.md", first, base=sha("second")))
    assert [v["hash"] for v in api.history(sid, "a.md")] == [sha(first), sha("second"), sha(first)]
    assert _blob_rows(db_engine, sha(first)) == 1
