"""File sync reads: the file list and one file's content record."""

from tests.factories import Api, assert_error, assert_utc, delete, sha, upsert

FILE_KEYS = {
    "relativePath",
    "hash",
    "lastSyncedHash",
    "state",
    "contentType",
    "size",
    "versionCount",
    "updatedAt",
}
RECORD_KEYS = FILE_KEYS | {"sourceId", "content", "conflictId"}


def test_files_is_a_bare_array_ordered_by_path(api: Api) -> None:
    source = api.source()
    assert api.files(source["id"]) == []
    text = "# Zürich ☕\n"
    api.push(
        source["id"],
        upsert("b/z.md", text),
        upsert("a.md", "a"),
        upsert("b/a.txt", "plain", contentType="text/plain"),
    )
    files = api.files(source["id"])
    assert [f["relativePath"] for f in files] == ["a.md", "b/a.txt", "b/z.md"]
    assert all(set(f) == FILE_KEYS for f in files)
    z = files[2]
    assert z["hash"] == z["lastSyncedHash"] == sha(text)
    assert z["size"] == len(text.encode("utf-8"))
    assert (z["state"], z["contentType"], z["versionCount"]) == ("ok", "text/markdown", 1)
    assert files[1]["contentType"] == "text/plain"
    assert_utc(z["updatedAt"])


def test_files_filters_and_pages(api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, *(upsert(f"notes/{i}.md", str(i)) for i in range(5)), upsert("other.md", "o"))
    api.push(sid, delete("notes/4.md", sha("4")))
    api.open_conflict(sid, "notes/clash.md")

    def paths(**extra: object) -> list[str]:
        return [f["relativePath"] for f in api.files(sid, **extra)]

    assert paths(prefix="notes/") == [f"notes/{i}.md" for i in range(4)] + ["notes/clash.md"]
    assert paths(prefix="notes/", state="deleted") == ["notes/4.md"]
    assert paths(state="conflict") == ["notes/clash.md"]
    assert "notes/4.md" not in paths()
    assert "notes/4.md" in paths(includeDeleted=True)
    assert paths(limit=2) == ["notes/0.md", "notes/1.md"]
    assert paths(limit=2, after="notes/1.md") == ["notes/2.md", "notes/3.md"]
    assert paths(after="other.md") == []
    # A prefix is matched literally, not as a LIKE pattern.
    assert paths(prefix="notes/%") == []
    assert paths(prefix="notes_") == []


def test_a_prefix_longer_than_any_path_is_a_client_error(api: Api) -> None:
    """SQLite refuses LIKE patterns over 50,000 bytes; that must not read as a busy server."""
    source = api.source()
    api.push(source["id"], upsert("notes/a.md", "a"))
    for field in ("prefix", "after"):
        response = api.post("sources/files", {"sourceId": source["id"], field: "n" * 60_000})
        assert_error(response, 422, "INVALID_INPUT")
        assert field in response.json()["error"]["message"]
    # The longest prefix a path can have still works.
    longest = api.post("sources/files", {"sourceId": source["id"], "prefix": "n" * 1024})
    assert longest.status_code == 200 and longest.json() == []


def test_file_returns_the_content_record(api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("research/notes.md", "# Notes\n"))
    record = api.file(source["id"], "research/notes.md")
    # The documented keys, plus the attachments extension's ``contentEncoding``.
    assert set(record) == RECORD_KEYS | {"contentEncoding"}
    assert record["contentEncoding"] == "utf-8"
    assert record["sourceId"] == source["id"]
    assert record["relativePath"] == "research/notes.md"
    assert record["content"] == "# Notes\n"
    assert record["hash"] == record["lastSyncedHash"] == sha("# Notes\n")
    assert record["state"] == "ok"
    assert record["conflictId"] is None
    assert record["versionCount"] == 1


def test_file_path_is_normalised(api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("./research//notes.md", "x"))
    assert api.file(source["id"], "research/./notes.md")["relativePath"] == "research/notes.md"
    assert [f["relativePath"] for f in api.files(source["id"])] == ["research/notes.md"]


def test_deleted_file_has_no_content(api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "a"))
    api.push(source["id"], delete("a.md", sha("a")))
    record = api.file(source["id"], "a.md")
    assert (record["state"], record["hash"], record["content"], record["size"]) == (
        "deleted",
        None,
        None,
        0,
    )
    assert record["versionCount"] == 2


def test_file_in_conflict_keeps_its_content_and_names_the_conflict(api: Api) -> None:
    source = api.source()
    conflict = api.open_conflict(source["id"])
    record = api.file(source["id"], conflict["path"])
    assert record["state"] == "conflict"
    assert record["conflictId"] == conflict["id"]
    assert record["content"] == conflict["remote"]
    assert record["hash"] == sha(conflict["remote"])


def test_missing_file_is_404_and_bad_path_is_422(api: Api) -> None:
    source = api.source()
    body = {"sourceId": source["id"], "relativePath": "nope.md"}
    assert_error(api.post("sources/file", body), 404, "FILE_NOT_FOUND")
    body = {"sourceId": source["id"], "relativePath": "../etc/passwd"}
    assert_error(api.post("sources/file", body), 422, "INVALID_PATH")
    assert_error(api.post("sources/file", {"sourceId": source["id"]}), 422, "INVALID_INPUT")


def test_unknown_source_is_404(api: Api) -> None:
    assert_error(api.post("sources/files", {"sourceId": "nope"}), 404, "SOURCE_NOT_FOUND")
    body = {"sourceId": "nope", "relativePath": "a.md"}
    assert_error(api.post("sources/file", body), 404, "SOURCE_NOT_FOUND")


def test_files_limit_bounds(api: Api) -> None:
    source = api.source()
    for limit in (0, 5001, -1):
        body = {"sourceId": source["id"], "limit": limit}
        assert_error(api.post("sources/files", body), 422, "INVALID_INPUT")
    body = {"sourceId": source["id"], "state": "gone"}
    assert_error(api.post("sources/files", body), 422, "INVALID_INPUT")
