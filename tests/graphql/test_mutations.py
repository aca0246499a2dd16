"""Write side of the GraphQL API; every effect is checked through REST or a query."""

import uuid
from typing import Any

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

REGISTER = """
mutation($name: String!, $platform: String!, $version: String!) {
  registerConnector(name: $name, platform: $platform, version: $version) {
    id name platform version online lastHeartbeatAt createdAt
  }
}
"""
HEARTBEAT = "mutation($id: String!) { heartbeat(connectorId: $id) { id online lastHeartbeatAt } }"
CREATE = """
mutation($input: CreateSourceInput!) {
  createSource(input: $input) {
    id name mode status connectorId includePatterns excludePatterns autoMerge mergeGranularity
  }
}
"""
PAUSE = "mutation($id: String!) { pauseSource(sourceId: $id) { id status } }"
RESUME = "mutation($id: String!) { resumeSource(sourceId: $id) { id status } }"
PUSH = """
mutation($source: String!, $items: [PushItemInput!]!, $connector: String) {
  pushBatch(sourceId: $source, items: $items, connectorId: $connector) {
    sourceId applied conflicts eventCursor
    results { operationId path status hash conflictId code message }
  }
}
"""
UPDATE = """
mutation($source: String!, $path: String!, $content: String!, $base: String) {
  updateFile(sourceId: $source, path: $path, content: $content, baseHash: $base) {
    status path hash conflictId eventCursor
  }
}
"""
RESOLVE = """
mutation($id: String!, $resolution: Resolution, $content: String,
         $decisions: [RegionDecisionInput!], $revision: Int) {
  resolveConflict(conflictId: $id, resolution: $resolution, content: $content,
                  decisions: $decisions, revision: $revision) {
    hash eventCursor
    conflict { id status resolution resolvedHash revision }
  }
}
"""
APPLY = """
query($id: ID!, $decisions: [RegionDecisionInput!]!) {
  conflict(id: $id) {
    revision
    preview { regions { index local remote base } }
    applyDecisions(decisions: $decisions) { text unresolved }
  }
}
"""
RESTORE = """
mutation($source: String!, $path: String!, $hash: String!) {
  restoreVersion(sourceId: $source, path: $path, hash: $hash) {
    status path hash conflictId eventCursor
  }
}
"""
VERSIONS = """
query($id: ID!, $path: String!) {
  source(id: $id) {
    file(path: $path) {
      content state
      versions(first: 50) { nodes { seq hash origin content } }
    }
  }
}
"""


def item(path: str, content: str | None, base: str | None = None, **extra: Any) -> dict[str, Any]:
    """A ``PushItemInput`` (GraphQL field names)."""
    result: dict[str, Any] = {
        "operationId": f"op-{uuid.uuid4()}",
        "path": path,
        "content": content,
        "contentHash": sha(content) if content is not None else None,
        "baseHash": base,
    }
    result.update(extra)
    return result


# ---- connectors --------------------------------------------------------------


async def test_register_connector_and_heartbeat(gq: Gq, api: Api) -> None:
    data = await gq.run(REGISTER, name="laptop", platform="darwin", version="1.2.3")
    connector = data["registerConnector"]
    assert connector["name"] == "laptop" and connector["platform"] == "darwin"
    assert connector["version"] == "1.2.3" and connector["online"] is True
    listed = (await gq.run("{ connectors { id } }"))["connectors"]
    assert [c["id"] for c in listed] == [connector["id"]]

    beat = (await gq.run(HEARTBEAT, id=connector["id"]))["heartbeat"]
    assert beat["id"] == connector["id"] and beat["online"] is True
    assert beat["lastHeartbeatAt"] >= connector["lastHeartbeatAt"]


async def test_register_connector_refuses_blank_fields(gq: Gq) -> None:
    error = await gq.error(REGISTER, name="  ", platform="linux", version="1")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await gq.run("{ connectors { id } }"))["connectors"] == []


async def test_heartbeat_of_unknown_connector(gq: Gq) -> None:
    error = await gq.error(HEARTBEAT, id="00000000-0000-0000-0000-000000000000")
    assert error["extensions"] == {"code": "NOT_FOUND", "reason": "CONNECTOR_NOT_FOUND"}


# ---- sources -----------------------------------------------------------------


async def test_create_source(gq: Gq, api: Api) -> None:
    connector = api.connector()
    spec = {
        "name": "  Research  ",
        "mode": "LOCAL_TO_CLOUD",
        "connectorId": connector["id"],
        "includePatterns": ["**/*.md", "**/*.txt"],
        "excludePatterns": ["drafts/**"],
        "autoMerge": False,
        "mergeGranularity": "WORD",
    }
    created = (await gq.run(CREATE, input=spec))["createSource"]
    assert created["name"] == "Research" and created["mode"] == "LOCAL_TO_CLOUD"
    assert created["status"] == "ACTIVE" and created["connectorId"] == connector["id"]
    assert created["includePatterns"] == ["**/*.md", "**/*.txt"]
    assert created["excludePatterns"] == ["drafts/**"]
    assert created["autoMerge"] is False and created["mergeGranularity"] == "WORD"
    rest = {s["id"]: s for s in api.sources()}
    assert rest[created["id"]]["mode"] == "local_to_cloud"

    defaults = (await gq.run(CREATE, input={"name": "Plain", "mode": "IMPORT_ONLY"}))[
        "createSource"
    ]
    assert defaults["connectorId"] is None and defaults["includePatterns"] == ["**/*.md"]
    assert defaults["autoMerge"] is True and defaults["mergeGranularity"] == "LINE"


async def test_create_source_refuses_bad_specs(gq: Gq, api: Api) -> None:
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({"name": "", "mode": "BIDIRECTIONAL"}, {"code": "BAD_USER_INPUT"}),
        ({"name": "x" * 201, "mode": "BIDIRECTIONAL"}, {"code": "BAD_USER_INPUT"}),
        (
            {"name": "x", "mode": "BIDIRECTIONAL", "connectorId": "nope"},
            {"code": "NOT_FOUND", "reason": "CONNECTOR_NOT_FOUND"},
        ),
        (
            {"name": "x", "mode": "BIDIRECTIONAL", "excludePatterns": [""]},
            {"code": "BAD_USER_INPUT"},
        ),
    ]
    for spec, expected in cases:
        error = await gq.error(CREATE, input=spec)
        assert expected.items() <= error["extensions"].items(), (spec, error)
    assert api.sources() == []


async def test_pause_and_resume(gq: Gq, api: Api) -> None:
    source = api.source()
    paused = (await gq.run(PAUSE, id=source["id"]))["pauseSource"]
    assert paused == {"id": source["id"], "status": "PAUSED"}
    again = (await gq.run(PAUSE, id=source["id"]))["pauseSource"]
    assert again["status"] == "PAUSED"

    error = await gq.error(PUSH, source=source["id"], items=[item("a.md", "A\n")])
    assert error["extensions"] == {"code": "CONFLICT", "reason": "SOURCE_PAUSED"}
    error = await gq.error(UPDATE, source=source["id"], path="a.md", content="A\n")
    assert error["extensions"] == {"code": "CONFLICT", "reason": "SOURCE_PAUSED"}

    resumed = (await gq.run(RESUME, id=source["id"]))["resumeSource"]
    assert resumed["status"] == "ACTIVE"
    assert [e["type"] for e in api.deltas(source["id"])] == ["source.paused", "source.resumed"]
    assert (await gq.run(PUSH, source=source["id"], items=[item("a.md", "A\n")]))["pushBatch"][
        "applied"
    ] == 1


# ---- pushBatch ---------------------------------------------------------------


async def test_push_batch_applies_rejects_and_deduplicates(gq: Gq, api: Api) -> None:
    source = api.source()
    connector = source["connectorId"]
    items = [
        item("notes/a.md", "# A\n", operationId="op-a"),
        item("../escape.md", "x\n", operationId="op-bad-path"),
        item("notes/b.md", "# B\n", operationId="op-bad-hash", contentHash=sha("other")),
        item("notes/c.md", None, operationId="op-no-content"),
        item("notes/d.md", "# D\n", operationId="op-d", contentType="text/plain"),
    ]
    result = (await gq.run(PUSH, source=source["id"], items=items, connector=connector))[
        "pushBatch"
    ]
    assert result["sourceId"] == source["id"]
    assert result["applied"] == 2 and result["conflicts"] == 0
    statuses = {r["operationId"]: (r["status"], r["code"]) for r in result["results"]}
    assert statuses == {
        "op-a": ("APPLIED", None),
        "op-bad-path": ("REJECTED", "INVALID_PATH"),
        "op-bad-hash": ("REJECTED", "HASH_MISMATCH"),
        "op-no-content": ("REJECTED", "MISSING_CONTENT"),
        "op-d": ("APPLIED", None),
    }
    assert all(r["message"] for r in result["results"] if r["status"] == "REJECTED")
    assert result["eventCursor"] == 2
    assert api.file(source["id"], "notes/a.md")["content"] == "# A\n"

    retry = (await gq.run(PUSH, source=source["id"], items=items[:1]))["pushBatch"]
    assert retry["results"][0]["status"] == "DUPLICATE"
    assert retry["results"][0]["hash"] == sha("# A\n")
    assert retry["applied"] == 0 and retry["eventCursor"] == 2
    assert len(api.deltas(source["id"])) == 2


async def test_push_batch_delete_and_conflict(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "base\n"), upsert("b.md", "line\n"))
    api.push(source["id"], upsert("b.md", "theirs\n", base=sha("line\n")))
    items = [
        item("a.md", None, base=sha("base\n"), isDelete=True),
        item("b.md", "mine\n", base=sha("line\n")),
    ]
    result = (await gq.run(PUSH, source=source["id"], items=items))["pushBatch"]
    assert [r["status"] for r in result["results"]] == ["APPLIED", "CONFLICT"]
    assert result["applied"] == 1 and result["conflicts"] == 1
    assert result["results"][1]["conflictId"] == api.conflicts(source["id"])[0]["id"]
    assert api.file(source["id"], "a.md")["state"] == "deleted"


async def test_push_batch_over_the_item_limit(gq: Gq, api: Api) -> None:
    source = api.source()
    limit = api.settings.max_batch_items
    items = [item(f"f{i}.md", f"{i}\n") for i in range(limit + 1)]
    error = await gq.error(PUSH, source=source["id"], items=items)
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "reason": "BATCH_TOO_LARGE"}
    assert api.files(source["id"]) == []


# ---- updateFile --------------------------------------------------------------

BASE = "# Plan\nalpha\nbeta\ngamma\ndelta\n"


async def test_update_file_ok_and_unchanged(gq: Gq, api: Api) -> None:
    source = api.source()
    created = (await gq.run(UPDATE, source=source["id"], path="plan.md", content=BASE))[
        "updateFile"
    ]
    assert created == {
        "status": "OK",
        "path": "plan.md",
        "hash": sha(BASE),
        "conflictId": None,
        "eventCursor": 1,
    }
    edited = BASE.replace("beta", "BETA")
    result = (
        await gq.run(UPDATE, source=source["id"], path="./plan.md", content=edited, base=sha(BASE))
    )["updateFile"]
    assert result["status"] == "OK" and result["hash"] == sha(edited)
    assert result["path"] == "plan.md" and result["eventCursor"] == 2
    same = (
        await gq.run(UPDATE, source=source["id"], path="plan.md", content=edited, base=sha(edited))
    )["updateFile"]
    assert same["status"] == "UNCHANGED" and same["eventCursor"] == 2

    record = api.file(source["id"], "plan.md")
    assert record["content"] == edited
    events = api.deltas(source["id"])
    assert [e["payload"]["origin"] for e in events] == ["raven", "raven"]


async def test_update_file_merges_a_stale_base_when_edits_do_not_overlap(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("plan.md", BASE))
    local = BASE.replace("alpha", "ALPHA (from the laptop)")
    api.push(source["id"], upsert("plan.md", local, base=sha(BASE)))
    raven = BASE.replace("delta", "DELTA (from Raven)")

    result = (
        await gq.run(UPDATE, source=source["id"], path="plan.md", content=raven, base=sha(BASE))
    )["updateFile"]
    merged = "# Plan\nALPHA (from the laptop)\nbeta\ngamma\nDELTA (from Raven)\n"
    assert result["status"] == "MERGED" and result["conflictId"] is None
    assert result["hash"] == sha(merged)
    data = await gq.run(VERSIONS, id=source["id"], path="plan.md")
    file = data["source"]["file"]
    assert file["content"] == merged and file["state"] == "OK"
    # Nothing is lost: the Raven side is in history, under the merged result.
    assert [(v["origin"], v["content"]) for v in file["versions"]["nodes"][:2]] == [
        ("MERGE", merged),
        ("RAVEN", raven),
    ]


async def test_update_file_conflicts_when_edits_overlap(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("plan.md", BASE))
    local = BASE.replace("beta", "beta from the laptop")
    api.push(source["id"], upsert("plan.md", local, base=sha(BASE)))
    raven = BASE.replace("beta", "beta from Raven")

    result = (
        await gq.run(UPDATE, source=source["id"], path="plan.md", content=raven, base=sha(BASE))
    )["updateFile"]
    assert result["status"] == "CONFLICT" and result["hash"] == sha(raven)
    conflict = api.conflicts(source["id"])[0]
    assert result["conflictId"] == conflict["id"]
    record = api.file(source["id"], "plan.md")
    assert record["content"] == local and record["state"] == "conflict"
    data = await gq.run(
        "query($id: ID!) { conflict(id: $id) { base local remote } }", id=conflict["id"]
    )
    assert data["conflict"] == {"base": BASE, "local": local, "remote": raven}


async def test_update_file_with_an_unknown_base_conflicts(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("plan.md", BASE))
    raven = BASE + "more\n"
    result = (
        await gq.run(
            UPDATE, source=source["id"], path="plan.md", content=raven, base=sha("never stored")
        )
    )["updateFile"]
    assert result["status"] == "CONFLICT"
    assert api.file(source["id"], "plan.md")["content"] == BASE


async def test_update_file_refused_unless_bidirectional(gq: Gq, api: Api) -> None:
    for mode in ("import_only", "local_to_cloud"):
        source = api.source(mode)
        api.push(source["id"], upsert("a.md", "local\n"))
        error = await gq.error(
            UPDATE, source=source["id"], path="a.md", content="raven\n", base=sha("local\n")
        )
        assert error["extensions"] == {"code": "CONFLICT", "reason": "MODE_FORBIDS_EDIT"}
        assert api.file(source["id"], "a.md")["content"] == "local\n"


# ---- resolveConflict ---------------------------------------------------------


async def test_resolve_keep_local(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"], "k.md")
    result = (await gq.run(RESOLVE, id=clash["id"], resolution="KEEP_LOCAL"))["resolveConflict"]
    assert result["hash"] == sha(clash["local"])
    assert result["conflict"]["status"] == "RESOLVED"
    assert result["conflict"]["resolution"] == "keep_local"
    assert result["conflict"]["resolvedHash"] == sha(clash["local"])
    assert result["eventCursor"] == api.deltas(source["id"])[-1]["cursor"]
    record = api.file(source["id"], "k.md")
    assert record["content"] == clash["local"] and record["state"] == "ok"


async def test_resolve_keep_raven(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"], "k.md")
    result = (await gq.run(RESOLVE, id=clash["id"], resolution="KEEP_RAVEN"))["resolveConflict"]
    assert result["hash"] == sha(clash["remote"])
    assert api.file(source["id"], "k.md")["content"] == clash["remote"]


async def test_resolve_manual_merge(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"], "k.md")
    text = "# Title\nlocal and remote line, reconciled\n"
    result = (await gq.run(RESOLVE, id=clash["id"], resolution="MANUAL_MERGE", content=text))[
        "resolveConflict"
    ]
    assert result["hash"] == sha(text)
    assert api.file(source["id"], "k.md")["content"] == text
    data = await gq.run(VERSIONS, id=source["id"], path="k.md")
    assert data["source"]["file"]["versions"]["nodes"][0]["origin"] == "MERGE"


async def test_resolve_manual_merge_needs_content(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"], "k.md")
    error = await gq.error(RESOLVE, id=clash["id"], resolution="MANUAL_MERGE")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "MISSING_CONTENT"}
    assert api.conflicts(source["id"])[0]["id"] == clash["id"]


def _two_region_conflict(api: Api, source_id: str, path: str) -> str:
    base = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n"
    remote = "ONE (raven)\ntwo\nthree\nfour\nfive\nsix\nSEVEN (raven)\n"
    local = "ONE (local)\ntwo\nthree\nfour\nfive\nsix\nSEVEN (local)\n"
    api.push(source_id, upsert(path, base))
    api.push(source_id, upsert(path, remote, base=sha(base)))
    result = api.push(source_id, upsert(path, local, base=sha(base)))["results"][0]
    assert result["status"] == "conflict"
    conflict_id: str = result["conflictId"]
    return conflict_id


async def test_resolve_with_region_decisions_stores_exactly_the_preview(gq: Gq, api: Api) -> None:
    source = api.source()
    conflict_id = _two_region_conflict(api, source["id"], "r.md")
    decisions = [
        {"index": 1, "choice": "LOCAL"},
        {"index": 2, "choice": "EDITED", "text": "SEVEN (hand-merged)\nand a new line\n"},
    ]
    preview = (await gq.run(APPLY, id=conflict_id, decisions=decisions))["conflict"]
    assert [r["index"] for r in preview["preview"]["regions"]] == [1, 2]
    expected = preview["applyDecisions"]
    assert expected["unresolved"] == 0
    assert expected["text"] == (
        "ONE (local)\ntwo\nthree\nfour\nfive\nsix\nSEVEN (hand-merged)\nand a new line\n"
    )

    result = (
        await gq.run(RESOLVE, id=conflict_id, decisions=decisions, revision=preview["revision"])
    )["resolveConflict"]
    assert result["hash"] == sha(expected["text"])
    assert result["conflict"]["resolution"] == "manual_merge"
    assert api.file(source["id"], "r.md")["content"] == expected["text"]


async def test_region_decisions_of_every_kind(gq: Gq, api: Api) -> None:
    source = api.source()
    conflict_id = _two_region_conflict(api, source["id"], "r.md")
    cases = {
        ("RAVEN", "BASE"): "ONE (raven)\ntwo\nthree\nfour\nfive\nsix\nseven\n",
        ("BOTH_LOCAL_FIRST", "BOTH_RAVEN_FIRST"): (
            "ONE (local)\nONE (raven)\ntwo\nthree\nfour\nfive\nsix\nSEVEN (raven)\nSEVEN (local)\n"
        ),
    }
    for (first, second), text in cases.items():
        decisions = [{"index": 1, "choice": first}, {"index": 2, "choice": second}]
        data = await gq.run(APPLY, id=conflict_id, decisions=decisions)
        assert data["conflict"]["applyDecisions"] == {"text": text, "unresolved": 0}

    partial = await gq.run(APPLY, id=conflict_id, decisions=[{"index": 2, "choice": "LOCAL"}])
    result = partial["conflict"]["applyDecisions"]
    assert result["unresolved"] == 1 and "<<<<<<<" in result["text"]
    assert result["text"].endswith("SEVEN (local)\n")

    decisions = [
        {"index": 1, "choice": "BOTH_LOCAL_FIRST"},
        {"index": 2, "choice": "BOTH_RAVEN_FIRST"},
    ]
    expected = (await gq.run(APPLY, id=conflict_id, decisions=decisions))["conflict"][
        "applyDecisions"
    ]["text"]
    await gq.run(RESOLVE, id=conflict_id, decisions=decisions)
    assert api.file(source["id"], "r.md")["content"] == expected


async def test_resolve_with_incomplete_or_bad_decisions(gq: Gq, api: Api) -> None:
    source = api.source()
    conflict_id = _two_region_conflict(api, source["id"], "r.md")
    bad = [
        [{"index": 1, "choice": "LOCAL"}],
        [
            {"index": 1, "choice": "LOCAL"},
            {"index": 2, "choice": "LOCAL"},
            {"index": 3, "choice": "LOCAL"},
        ],
        [
            {"index": 1, "choice": "LOCAL"},
            {"index": 1, "choice": "RAVEN"},
            {"index": 2, "choice": "LOCAL"},
        ],
        [{"index": 1, "choice": "LOCAL"}, {"index": 2, "choice": "EDITED"}],
    ]
    for decisions in bad:
        error = await gq.error(RESOLVE, id=conflict_id, decisions=decisions)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_DECISIONS"}
    assert [c["id"] for c in api.conflicts(source["id"])] == [conflict_id]


async def test_decisions_do_not_combine_with_another_resolution(gq: Gq, api: Api) -> None:
    source = api.source()
    conflict_id = _two_region_conflict(api, source["id"], "r.md")
    decisions = [{"index": 1, "choice": "LOCAL"}, {"index": 2, "choice": "LOCAL"}]
    for extra in ({"resolution": "KEEP_RAVEN"}, {"resolution": "KEEP_LOCAL"}, {"content": "x\n"}):
        error = await gq.error(RESOLVE, id=conflict_id, decisions=decisions, **extra)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_RESOLUTION"}
    assert [c["id"] for c in api.conflicts(source["id"])] == [conflict_id]
    result = await gq.run(RESOLVE, id=conflict_id, decisions=decisions, resolution="MANUAL_MERGE")
    assert result["resolveConflict"]["conflict"]["status"] == "RESOLVED"


async def test_decisions_on_a_stale_view_read_as_stale(gq: Gq, api: Api) -> None:
    """Region numbers belong to the view they were chosen in: a changed conflict is stale.

    Here a newer local side settles region 1, so the old decisions name a region
    2 that no longer exists; the answer must say "reload", not "bad decisions".
    """
    source = api.source()
    conflict_id = _two_region_conflict(api, source["id"], "s.md")
    seen = (await gq.run(APPLY, id=conflict_id, decisions=[]))["conflict"]["revision"]
    base = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n"
    settled = "ONE (raven)\ntwo\nthree\nfour\nfive\nsix\nSEVEN (local)\n"
    api.push(source["id"], upsert("s.md", settled, base=sha(base)))
    decisions = [{"index": 1, "choice": "LOCAL"}, {"index": 2, "choice": "RAVEN"}]

    error = await gq.error(RESOLVE, id=conflict_id, decisions=decisions, revision=seen)
    assert error["extensions"] == {"code": "CONFLICT", "reason": "STALE_REVISION"}
    assert [c["id"] for c in api.conflicts(source["id"])] == [conflict_id]


async def test_resolve_refuses_a_stale_revision(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"], "k.md")
    seen = (await gq.run(APPLY, id=clash["id"], decisions=[]))["conflict"]["revision"]
    # The connector sends a newer local side: the conflict changes under the user.
    newer = "# Title\nlocal line, edited again\n"
    api.push(source["id"], upsert("k.md", newer, base=sha(clash["base"])))

    error = await gq.error(RESOLVE, id=clash["id"], resolution="KEEP_LOCAL", revision=seen)
    assert error["extensions"] == {"code": "CONFLICT", "reason": "STALE_REVISION"}
    assert api.conflicts(source["id"])[0]["id"] == clash["id"]
    assert api.file(source["id"], "k.md")["state"] == "conflict"

    current = (await gq.run(APPLY, id=clash["id"], decisions=[]))["conflict"]["revision"]
    assert current == seen + 1
    result = (await gq.run(RESOLVE, id=clash["id"], resolution="KEEP_LOCAL", revision=current))[
        "resolveConflict"
    ]
    assert result["hash"] == sha(newer)
    assert api.file(source["id"], "k.md")["content"] == newer


async def test_resolve_twice_is_a_conflict(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"], "k.md")
    await gq.run(RESOLVE, id=clash["id"], resolution="KEEP_LOCAL")
    error = await gq.error(RESOLVE, id=clash["id"], resolution="KEEP_RAVEN")
    assert error["extensions"] == {"code": "CONFLICT", "reason": "CONFLICT_RESOLVED"}
    assert api.file(source["id"], "k.md")["content"] == clash["local"]


# ---- restoreVersion ----------------------------------------------------------


async def test_restore_version_makes_an_old_version_current(gq: Gq, api: Api) -> None:
    source = api.source()
    texts = ["v1\n", "v2\n", "v3\n"]
    base: str | None = None
    for text in texts:
        api.push(source["id"], upsert("h.md", text, base=base))
        base = sha(text)

    result = (await gq.run(RESTORE, source=source["id"], path="h.md", hash=sha("v1\n")))[
        "restoreVersion"
    ]
    assert result["status"] == "OK" and result["hash"] == sha("v1\n")
    assert result["path"] == "h.md" and result["conflictId"] is None
    data = await gq.run(VERSIONS, id=source["id"], path="h.md")
    file = data["source"]["file"]
    assert file["content"] == "v1\n" and file["state"] == "OK"
    versions = file["versions"]["nodes"]
    assert [(v["seq"], v["origin"], v["content"]) for v in versions] == [
        (4, "RAVEN", "v1\n"),
        (3, "CONNECTOR", "v3\n"),
        (2, "CONNECTOR", "v2\n"),
        (1, "CONNECTOR", "v1\n"),
    ]
    last = api.deltas(source["id"])[-1]
    assert last["type"] == "file.upsert" and last["cursor"] == result["eventCursor"]
    assert last["payload"]["origin"] == "raven" and last["payload"]["content"] == "v1\n"

    again = (await gq.run(RESTORE, source=source["id"], path="h.md", hash=sha("v1\n")))[
        "restoreVersion"
    ]
    assert again["status"] == "UNCHANGED"


async def test_restore_version_on_import_only_source(gq: Gq, api: Api) -> None:
    source = api.source("import_only")
    api.push(source["id"], upsert("h.md", "v1\n"))
    api.push(source["id"], upsert("h.md", "v2\n", base=sha("v1\n")))
    error = await gq.error(RESTORE, source=source["id"], path="h.md", hash=sha("v1\n"))
    assert error["extensions"] == {"code": "CONFLICT", "reason": "MODE_FORBIDS_EDIT"}
    assert api.file(source["id"], "h.md")["content"] == "v2\n"
    assert len(api.history(source["id"], "h.md")) == 2


async def test_restore_version_only_from_this_files_history(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("h.md", "v1\n"), upsert("other.md", "elsewhere\n"))
    for digest in (sha("elsewhere\n"), sha("never\n")):
        error = await gq.error(RESTORE, source=source["id"], path="h.md", hash=digest)
        assert error["extensions"] == {"code": "NOT_FOUND", "reason": "VERSION_NOT_FOUND"}
    error = await gq.error(RESTORE, source=source["id"], path="nope.md", hash=sha("v1\n"))
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert api.file(source["id"], "h.md")["content"] == "v1\n"
