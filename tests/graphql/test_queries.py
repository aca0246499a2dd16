"""Read side of the GraphQL API: connectors, sources, files, history, diffs, conflicts, events."""

from typing import Any

from tests.factories import Api, delete, sha, upsert
from tests.graphql.conftest import Gq

SOURCE = """
query($id: ID!) {
  source(id: $id) {
    id name mode status connectorId includePatterns excludePatterns autoMerge
    mergeGranularity lastCursor createdAt updatedAt fileCount openConflictCount
    connector { id name platform version online lastHeartbeatAt }
  }
}
"""

FILES = """
query($id: ID!, $prefix: String, $state: FileState, $first: Int!, $after: String) {
  source(id: $id) {
    files(prefix: $prefix, state: $state, first: $first, after: $after) {
      edges { cursor node { path state hash size } }
      nodes { path }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

FILE = """
query($id: ID!, $path: String!, $first: Int!, $after: String) {
  source(id: $id) {
    file(path: $path) {
      path state hash size contentType versionCount content openConflictId
      latestVersion { seq hash }
      versions(first: $first, after: $after) {
        edges { cursor node { seq hash origin recordedAt size content deleted conflictId } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

DIFF = """
query($id: ID!, $path: String!, $from: String!, $to: String!, $context: Int!) {
  source(id: $id) {
    file(path: $path) {
      diff(fromHash: $from, toHash: $to, contextLines: $context) {
        fromHash toHash insertions deletions unified
        hunks { header oldStart oldCount newStart newCount lines { kind text oldNo newNo } }
      }
    }
  }
}
"""

CONFLICTS = """
query($id: ID!, $status: ConflictStatus, $first: Int! = 100, $after: String) {
  source(id: $id) {
    conflicts(status: $status, first: $first, after: $after) {
      nodes { id path status resolution }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

CONFLICT = """
query($id: ID!) {
  conflict(id: $id) {
    id sourceId path status reason revision baseHash localHash remoteHash
    localDeleted remoteDeleted resolution resolvedHash
    base local remote
    preview {
      baseKnown
      summary { localLines remoteLines differentLines insertions deletions conflictingRegions }
      hunks { header lines { kind text } }
      changes { line local remote }
      chunks { stable region { index } }
      regions { index base local remote baseLine localLine remoteLine }
      mergedWithMarkers
    }
  }
}
"""

EVENTS = """
query($id: ID!, $after: Int!, $first: Int!) {
  source(id: $id) {
    events(after: $after, first: $first) {
      edges { cursor node { cursor type path payload createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _all_files(gq: Gq, source_id: str, first: int, **filters: Any) -> list[list[str]]:
    """Every page of ``files`` as lists of paths, following ``pageInfo``."""
    pages: list[list[str]] = []
    after: str | None = None
    while True:
        data = await gq.run(FILES, id=source_id, first=first, after=after, **filters)
        conn = data["source"]["files"]
        paths = [e["node"]["path"] for e in conn["edges"]]
        assert paths == [n["path"] for n in conn["nodes"]]
        if conn["edges"]:
            assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
        pages.append(paths)
        if not conn["pageInfo"]["hasNextPage"]:
            return pages
        after = conn["pageInfo"]["endCursor"]
        assert len(pages) < 50, "pagination does not end"


# ---- connectors and sources --------------------------------------------------


async def test_connectors_lists_this_workspace(gq: Gq, api: Api, other_api: Api) -> None:
    mine = [api.connector("laptop"), api.connector("desktop")]
    other_api.connector("theirs")
    data = await gq.run("{ connectors { id name platform version online lastHeartbeatAt } }")
    got = {c["id"]: c for c in data["connectors"]}
    assert set(got) == {c["id"] for c in mine}
    assert {c["name"] for c in got.values()} == {"laptop", "desktop"}
    assert all(c["platform"] == "linux" and c["version"] == "0.1.0" for c in got.values())


async def test_sources_and_source(gq: Gq, api: Api, other_api: Api) -> None:
    connector = api.connector("laptop")
    first = api.source("bidirectional", connector=connector)
    second = api.source("import_only", connector=connector, excludePatterns=["drafts/**"])
    other_api.source()
    api.push(first["id"], upsert("a.md", "# A\n"), upsert("b.md", "# B\n"))
    api.open_conflict(first["id"], "c.md")

    data = await gq.run("{ sources { id name mode status } }")
    assert [s["id"] for s in data["sources"]] == [first["id"], second["id"]]
    assert [s["mode"] for s in data["sources"]] == ["BIDIRECTIONAL", "IMPORT_ONLY"]

    one = (await gq.run(SOURCE, id=first["id"]))["source"]
    assert one["id"] == first["id"] and one["name"] == "Notes"
    assert one["mode"] == "BIDIRECTIONAL" and one["status"] == "ACTIVE"
    assert one["fileCount"] == 3 and one["openConflictCount"] == 1
    assert one["connectorId"] == connector["id"]
    assert one["connector"]["id"] == connector["id"] and one["connector"]["name"] == "laptop"
    assert one["includePatterns"] == ["**/*.md"] and one["autoMerge"] is True
    assert one["mergeGranularity"] == "LINE"
    assert one["lastCursor"] == len(api.deltas(first["id"]))
    two = (await gq.run(SOURCE, id=second["id"]))["source"]
    assert two["excludePatterns"] == ["drafts/**"] and two["fileCount"] == 0


async def test_source_of_another_workspace_is_not_found(gq: Gq, api: Api, other_api: Api) -> None:
    theirs = other_api.source()
    foreign = await gq.error(SOURCE, id=theirs["id"])
    missing = await gq.error(SOURCE, id="00000000-0000-0000-0000-000000000000")
    assert (
        foreign["extensions"]
        == missing["extensions"]
        == {
            "code": "NOT_FOUND",
            "reason": "SOURCE_NOT_FOUND",
        }
    )
    assert foreign["message"] == missing["message"]
    assert foreign["path"] == ["source"]


# ---- files -------------------------------------------------------------------


async def test_files_paginate_across_several_pages(gq: Gq, api: Api) -> None:
    source = api.source()
    notes = [f"notes/{i:02d}.md" for i in range(11)]
    api.push(source["id"], *(upsert(p, f"# {p}\n") for p in [*notes, "other/x.md", "notesy.md"]))

    pages = await _all_files(gq, source["id"], first=4, prefix="notes/")
    assert [len(p) for p in pages] == [4, 4, 3]
    assert [p for page in pages for p in page] == notes

    everything = await _all_files(gq, source["id"], first=5)
    flat = [p for page in everything for p in page]
    assert flat == sorted([*notes, "other/x.md", "notesy.md"])
    assert len(flat) == len(set(flat))


async def test_files_prefix_is_literal(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a_b/x.md", "1\n"), upsert("aXb/y.md", "2\n"))
    pages = await _all_files(gq, source["id"], first=10, prefix="a_b/")
    assert pages == [["a_b/x.md"]]
    pages = await _all_files(gq, source["id"], first=10, prefix="zzz/")
    assert pages == [[]]


async def test_files_filter_by_state(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("ok.md", "ok\n"), upsert("gone.md", "bye\n"))
    api.push(source["id"], delete("gone.md", base=sha("bye\n")))
    api.open_conflict(source["id"], "clash.md")

    assert await _all_files(gq, source["id"], first=10) == [["clash.md", "ok.md"]]
    assert await _all_files(gq, source["id"], first=10, state="OK") == [["ok.md"]]
    assert await _all_files(gq, source["id"], first=10, state="CONFLICT") == [["clash.md"]]
    assert await _all_files(gq, source["id"], first=10, state="DELETED") == [["gone.md"]]
    data = await gq.run(FILES, id=source["id"], first=10, state="DELETED")
    node = data["source"]["files"]["edges"][0]["node"]
    assert node == {"path": "gone.md", "state": "DELETED", "hash": None, "size": 0}


async def test_file_with_content_state_and_paginated_versions(gq: Gq, api: Api) -> None:
    source = api.source()
    contents = [f"# Doc\nrevision {i}\n" for i in range(1, 6)]
    previous: str | None = None
    for text in contents:
        api.push(source["id"], upsert("docs/doc.md", text, base=previous))
        previous = sha(text)

    seen: list[dict[str, Any]] = []
    after: str | None = None
    pages = 0
    while True:
        data = await gq.run(FILE, id=source["id"], path="docs/doc.md", first=2, after=after)
        file = data["source"]["file"]
        conn = file["versions"]
        seen.extend(e["node"] for e in conn["edges"])
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]

    assert pages == 3
    assert file["path"] == "docs/doc.md" and file["state"] == "OK"
    assert file["content"] == contents[-1] and file["hash"] == sha(contents[-1])
    assert file["size"] == len(contents[-1].encode()) and file["versionCount"] == 5
    assert file["contentType"] == "text/markdown" and file["openConflictId"] is None
    assert file["latestVersion"] == {"seq": 5, "hash": sha(contents[-1])}

    assert [v["seq"] for v in seen] == [5, 4, 3, 2, 1]  # newest first, no gap or repeat
    assert [v["content"] for v in seen] == contents[::-1]
    for version in seen:
        assert version["hash"] == sha(version["content"])
        assert version["size"] == len(version["content"].encode())
        assert version["origin"] == "CONNECTOR" and version["deleted"] is False
        assert version["conflictId"] is None
    stamps = [v["recordedAt"] for v in seen]
    assert stamps == sorted(stamps, reverse=True)


async def test_file_history_records_every_origin(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "one\n"))
    api.update(source["id"], "a.md", "two\n", base=sha("one\n"))
    api.push(source["id"], delete("a.md", base=sha("two\n")))
    data = await gq.run(FILE, id=source["id"], path="a.md", first=10, after=None)
    file = data["source"]["file"]
    assert file["state"] == "DELETED" and file["content"] is None and file["hash"] is None
    versions = [e["node"] for e in file["versions"]["edges"]]
    assert [(v["origin"], v["content"], v["deleted"]) for v in versions] == [
        ("CONNECTOR", None, True),
        ("RAVEN", "two\n", False),
        ("CONNECTOR", "one\n", False),
    ]


async def test_unknown_file_is_null(gq: Gq, api: Api) -> None:
    source = api.source()
    data = await gq.run(FILE, id=source["id"], path="nope.md", first=1, after=None)
    assert data["source"]["file"] is None


async def test_file_path_is_normalised(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("notes/a.md", "A\n"))
    data = await gq.run(FILE, id=source["id"], path="./notes//a.md", first=1, after=None)
    assert data["source"]["file"]["path"] == "notes/a.md"


# ---- diffs -------------------------------------------------------------------


async def test_diff_between_two_versions(gq: Gq, api: Api) -> None:
    source = api.source()
    old = "title\none\ntwo\nthree\nfour\nfive\nsix\nseven\n"
    new = "title\none\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n"
    api.push(source["id"], upsert("d.md", old))
    api.push(source["id"], upsert("d.md", new, base=sha(old)))

    data = await gq.run(
        DIFF, id=source["id"], path="d.md", **{"from": sha(old)}, to=sha(new), context=1
    )
    diff = data["source"]["file"]["diff"]
    assert diff["fromHash"] == sha(old) and diff["toHash"] == sha(new)
    assert diff["insertions"] == 2 and diff["deletions"] == 1
    assert [h["header"] for h in diff["hunks"]] == ["@@ -2,3 +2,3 @@", "@@ -8 +8,2 @@"]
    first, second = diff["hunks"]
    assert (first["oldStart"], first["oldCount"], first["newStart"], first["newCount"]) == (
        2,
        3,
        2,
        3,
    )
    assert [(ln["kind"], ln["text"], ln["oldNo"], ln["newNo"]) for ln in first["lines"]] == [
        ("equal", "one", 2, 2),
        ("delete", "two", 3, None),
        ("insert", "TWO", None, 3),
        ("equal", "three", 4, 4),
    ]
    assert [(ln["kind"], ln["text"]) for ln in second["lines"]] == [
        ("equal", "seven"),
        ("insert", "eight"),
    ]
    assert diff["unified"] == (
        "--- a/d.md\n"
        "+++ b/d.md\n"
        "@@ -2,3 +2,3 @@\n"
        " one\n"
        "-two\n"
        "+TWO\n"
        " three\n"
        "@@ -8 +8,2 @@\n"
        " seven\n"
        "+eight\n"
    )

    backwards = await gq.run(
        DIFF, id=source["id"], path="d.md", **{"from": sha(new)}, to=sha(old), context=3
    )
    back = backwards["source"]["file"]["diff"]
    assert back["insertions"] == 1 and back["deletions"] == 2
    same = await gq.run(
        DIFF, id=source["id"], path="d.md", **{"from": sha(old)}, to=sha(old), context=3
    )
    assert same["source"]["file"]["diff"]["hunks"] == []
    assert same["source"]["file"]["diff"]["unified"] == ""


async def test_diff_only_reads_this_files_history(gq: Gq, api: Api, other_api: Api) -> None:
    """The blob store is shared, so a hash from elsewhere must not be readable here."""
    source = api.source()
    api.push(source["id"], upsert("a.md", "mine\n"), upsert("b.md", "sibling secret\n"))
    theirs = other_api.source()
    other_api.push(theirs["id"], upsert("x.md", "their secret\n"))
    for foreign in ("sibling secret\n", "their secret\n", "never stored\n"):
        error = await gq.error(
            DIFF,
            id=source["id"],
            path="a.md",
            **{"from": sha("mine\n")},
            to=sha(foreign),
            context=3,
        )
        assert error["extensions"] == {"code": "NOT_FOUND", "reason": "VERSION_NOT_FOUND"}


# ---- conflicts ---------------------------------------------------------------


async def test_conflicts_by_status(gq: Gq, api: Api) -> None:
    source = api.source()
    first = api.open_conflict(source["id"], "one.md")
    second = api.open_conflict(source["id"], "two.md")
    api.resolve(first["id"], "keep_local")

    async def listed(status: str | None) -> list[tuple[str, str]]:
        data = await gq.run(CONFLICTS, id=source["id"], status=status)
        return [(c["path"], c["status"]) for c in data["source"]["conflicts"]["nodes"]]

    assert await listed("OPEN") == [("two.md", "OPEN")]
    assert await listed("RESOLVED") == [("one.md", "RESOLVED")]
    assert await listed(None) == [("one.md", "RESOLVED"), ("two.md", "OPEN")]
    default = await gq.run(
        "query($id: ID!) { source(id: $id) { conflicts { nodes { id } } } }", id=source["id"]
    )
    assert [c["id"] for c in default["source"]["conflicts"]["nodes"]] == [second["id"]]


async def test_conflicts_paginate(gq: Gq, api: Api) -> None:
    source = api.source()
    ids = [api.open_conflict(source["id"], f"c{i}.md")["id"] for i in range(3)]
    seen: list[str] = []
    after: str | None = None
    while True:
        data = await gq.run(CONFLICTS, id=source["id"], status="OPEN", first=2, after=after)
        conn = data["source"]["conflicts"]
        seen.extend(c["id"] for c in conn["nodes"])
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == ids


async def test_conflict_with_sides_and_preview(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"], "notes/clash.md")
    data = await gq.run(CONFLICT, id=clash["id"])
    conflict = data["conflict"]
    assert conflict["id"] == clash["id"] and conflict["sourceId"] == source["id"]
    assert conflict["path"] == "notes/clash.md" and conflict["status"] == "OPEN"
    assert conflict["reason"] == "stale_base" and conflict["revision"] >= 1
    assert (conflict["base"], conflict["local"], conflict["remote"]) == (
        clash["base"],
        clash["local"],
        clash["remote"],
    )
    assert conflict["baseHash"] == sha(clash["base"])
    assert conflict["localHash"] == sha(clash["local"])
    assert conflict["remoteHash"] == sha(clash["remote"])
    assert conflict["resolution"] is None and conflict["resolvedHash"] is None

    preview = conflict["preview"]
    assert preview["baseKnown"] is True
    assert preview["summary"] == {
        "localLines": 2,
        "remoteLines": 2,
        "differentLines": 1,
        "insertions": 1,
        "deletions": 1,
        "conflictingRegions": 1,
    }
    assert preview["changes"] == [{"line": 2, "local": "local line", "remote": "remote line"}]
    assert [h["header"] for h in preview["hunks"]] == ["@@ -1,2 +1,2 @@"]
    assert [(ln["kind"], ln["text"]) for ln in preview["hunks"][0]["lines"]] == [
        ("equal", "# Title"),
        ("delete", "local line"),
        ("insert", "remote line"),
    ]
    assert preview["regions"] == [
        {
            "index": 1,
            "base": "base line\n",
            "local": "local line\n",
            "remote": "remote line\n",
            "baseLine": 2,
            "localLine": 2,
            "remoteLine": 2,
        }
    ]
    assert preview["chunks"] == [
        {"stable": "# Title\n", "region": None},
        {"stable": None, "region": {"index": 1}},
    ]
    assert preview["mergedWithMarkers"] == (
        "# Title\n"
        "<<<<<<< local\n"
        "local line\n"
        "||||||| base\n"
        "base line\n"
        "=======\n"
        "remote line\n"
        ">>>>>>> raven\n"
    )


async def test_file_points_at_its_open_conflict(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"], "x.md")
    data = await gq.run(FILE, id=source["id"], path="x.md", first=10, after=None)
    file = data["source"]["file"]
    assert file["state"] == "CONFLICT" and file["openConflictId"] == clash["id"]
    # The losing side is kept in history, marked with its conflict.
    sides = [e["node"] for e in file["versions"]["edges"] if e["node"]["conflictId"]]
    assert [v["content"] for v in sides] == [clash["local"]]


# ---- events ------------------------------------------------------------------


async def test_events_after_a_cursor(gq: Gq, api: Api) -> None:
    source = api.source()
    for i in range(5):
        api.push(source["id"], upsert(f"e{i}.md", f"event {i}\n"))

    data = await gq.run(EVENTS, id=source["id"], after=0, first=2)
    conn = data["source"]["events"]
    assert [e["node"]["cursor"] for e in conn["edges"]] == [1, 2]
    assert [e["cursor"] for e in conn["edges"]] == ["1", "2"]
    assert conn["pageInfo"] == {"hasNextPage": True, "endCursor": "2"}
    first = conn["edges"][0]["node"]
    assert first["type"] == "file.upsert" and first["path"] == "e0.md"
    assert first["payload"]["content"] == "event 0\n"
    assert first["payload"]["hash"] == sha("event 0\n")

    data = await gq.run(EVENTS, id=source["id"], after=2, first=10)
    conn = data["source"]["events"]
    assert [e["node"]["cursor"] for e in conn["edges"]] == [3, 4, 5]
    assert [e["node"]["path"] for e in conn["edges"]] == ["e2.md", "e3.md", "e4.md"]
    assert conn["pageInfo"] == {"hasNextPage": False, "endCursor": "5"}

    data = await gq.run(EVENTS, id=source["id"], after=5, first=10)
    assert data["source"]["events"]["edges"] == []
    assert data["source"]["events"]["pageInfo"] == {"hasNextPage": False, "endCursor": "5"}


async def test_events_match_rest_deltas(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    api.open_conflict(source["id"], "b.md")
    data = await gq.run(EVENTS, id=source["id"], after=0, first=100)
    nodes = [e["node"] for e in data["source"]["events"]["edges"]]
    rest = api.deltas(source["id"])
    assert [(n["cursor"], n["type"], n["path"]) for n in nodes] == [
        (e["cursor"], e["type"], e["relativePath"]) for e in rest
    ]
    assert [n["payload"] for n in nodes] == [e["payload"] for e in rest]
