"""Every query and mutation that takes an id answers another workspace's id as missing.

Each case is run twice: with the other tenant's real id and with an id that exists
nowhere. Both must give the same NOT_FOUND answer, and the other tenant's data
must be unchanged afterwards.
"""

from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

MISSING = "00000000-0000-0000-0000-000000000000"


@dataclass
class World:
    connector_id: str
    source_id: str
    conflict_id: str
    path: str
    first_hash: str


def _build(api: Api) -> World:
    connector = api.connector("theirs")
    source = api.source("bidirectional", connector=connector)
    api.push(source["id"], upsert("doc.md", "their v1\n"))
    api.push(source["id"], upsert("doc.md", "their v2\n", base=sha("their v1\n")))
    clash = api.open_conflict(source["id"], "clash.md")
    return World(connector["id"], source["id"], clash["id"], "doc.md", sha("their v1\n"))


def _snapshot(api: Api, world: World) -> Any:
    return (
        api.sources(),
        api.files(world.source_id),
        api.history(world.source_id, world.path),
        api.conflicts(world.source_id, None),
        api.deltas(world.source_id),
        api.call("connectors/heartbeat", {"connectorId": world.connector_id})["id"],
    )


# name -> (document, variables from (their world, our world))
CASES: dict[str, tuple[str, Any]] = {
    "query source": (
        "query($id: ID!) { source(id: $id) { id name } }",
        lambda t, o: {"id": t.source_id},
    ),
    "query conflict": (
        "query($id: ID!) { conflict(id: $id) { id local remote } }",
        lambda t, o: {"id": t.conflict_id},
    ),
    "query conflict preview": (
        "query($id: ID!) { conflict(id: $id) { preview { mergedWithMarkers } } }",
        lambda t, o: {"id": t.conflict_id},
    ),
    "heartbeat": (
        "mutation($id: String!) { heartbeat(connectorId: $id) { id } }",
        lambda t, o: {"id": t.connector_id},
    ),
    "createSource with their connector": (
        'mutation($c: String!) { createSource(input: {name: "x", mode: BIDIRECTIONAL,'
        " connectorId: $c}) { id } }",
        lambda t, o: {"c": t.connector_id},
    ),
    "pauseSource": (
        "mutation($id: String!) { pauseSource(sourceId: $id) { id } }",
        lambda t, o: {"id": t.source_id},
    ),
    "resumeSource": (
        "mutation($id: String!) { resumeSource(sourceId: $id) { id } }",
        lambda t, o: {"id": t.source_id},
    ),
    "pushBatch": (
        'mutation($id: String!) { pushBatch(sourceId: $id, items: [{operationId: "op-x",'
        ' path: "doc.md", content: "overwritten\\n"}]) { applied } }',
        lambda t, o: {"id": t.source_id},
    ),
    "pushBatch with their connector": (
        "mutation($id: String!, $c: String!) { pushBatch(sourceId: $id, connectorId: $c,"
        ' items: [{operationId: "op-y", path: "mine.md", content: "x\\n"}]) { applied } }',
        lambda t, o: {"id": o.source_id, "c": t.connector_id},
    ),
    "updateFile": (
        'mutation($id: String!) { updateFile(sourceId: $id, path: "doc.md",'
        ' content: "overwritten\\n") { status } }',
        lambda t, o: {"id": t.source_id},
    ),
    "resolveConflict keep local": (
        "mutation($id: String!) { resolveConflict(conflictId: $id, resolution: KEEP_LOCAL)"
        " { hash } }",
        lambda t, o: {"id": t.conflict_id},
    ),
    "resolveConflict manual": (
        "mutation($id: String!) { resolveConflict(conflictId: $id, resolution: MANUAL_MERGE,"
        ' content: "overwritten\\n") { hash } }',
        lambda t, o: {"id": t.conflict_id},
    ),
    "resolveConflict decisions": (
        "mutation($id: String!) { resolveConflict(conflictId: $id,"
        " decisions: [{index: 1, choice: LOCAL}]) { hash } }",
        lambda t, o: {"id": t.conflict_id},
    ),
    "restoreVersion": (
        'mutation($id: String!, $h: String!) { restoreVersion(sourceId: $id, path: "doc.md",'
        " hash: $h) { status } }",
        lambda t, o: {"id": t.source_id, "h": t.first_hash},
    ),
}


def _missing(world: World) -> World:
    return World(MISSING, MISSING, MISSING, world.path, world.first_hash)


async def test_other_workspaces_ids_answer_as_missing(
    gq: Gq, api: Api, other_api: Api, subtests: pytest.Subtests
) -> None:
    theirs = _build(other_api)
    ours = _build(api)
    before = _snapshot(other_api, theirs)
    ours_before = _snapshot(api, ours)
    for case, (document, variables) in CASES.items():
        with subtests.test(case=case):
            foreign = await gq.error(document, **variables(theirs, ours))
            missing = await gq.error(document, **variables(_missing(theirs), ours))

            assert foreign["extensions"]["code"] == "NOT_FOUND", foreign
            assert foreign["extensions"] == missing["extensions"]
            assert foreign["message"] == missing["message"]
            assert "their" not in foreign["message"]
            assert _snapshot(other_api, theirs)[:5] == before[:5]
            assert _snapshot(api, ours)[:5] == ours_before[:5]


async def test_their_version_hash_cannot_be_restored_here(gq: Gq, api: Api, other_api: Api) -> None:
    theirs = _build(other_api)
    source = api.source()
    api.push(source["id"], upsert("doc.md", "ours\n"))
    error = await gq.error(
        'mutation($id: String!, $h: String!) { restoreVersion(sourceId: $id, path: "doc.md",'
        " hash: $h) { status } }",
        id=source["id"],
        h=theirs.first_hash,
    )
    assert error["extensions"] == {"code": "NOT_FOUND", "reason": "VERSION_NOT_FOUND"}
    assert api.file(source["id"], "doc.md")["content"] == "ours\n"


async def test_their_content_is_never_used_as_a_base(gq: Gq, api: Api, other_api: Api) -> None:
    """A base hash naming another tenant's content is an unknown base, never shown or merged."""
    secret = "# Plan\nTOP SECRET: launch on friday\nline two\n"
    theirs = other_api.source()
    other_api.push(theirs["id"], upsert("plan.md", secret))

    source = api.source()
    api.push(source["id"], upsert("plan.md", "# Plan\nline two\nours\n"))
    result = await gq.run(
        "mutation($id: String!, $c: String!, $b: String) { updateFile(sourceId: $id,"
        ' path: "plan.md", content: $c, baseHash: $b) { status conflictId } }',
        id=source["id"],
        c="# Plan\nline two, edited\n",
        b=sha(secret),
    )
    assert result["updateFile"]["status"] == "CONFLICT"
    data = await gq.run(
        "query($id: ID!) { conflict(id: $id) { baseHash base preview { baseKnown"
        " mergedWithMarkers regions { base } chunks { stable } } } }",
        id=result["updateFile"]["conflictId"],
    )
    conflict = data["conflict"]
    assert conflict["base"] is None and conflict["preview"]["baseKnown"] is False
    assert "SECRET" not in str(data)
    # Recorded as the conflict's claimed base, it still is no version of this file.
    error = await gq.error(
        'query($id: ID!, $f: String!, $t: String!) { source(id: $id) { file(path: "plan.md")'
        " { diff(fromHash: $f, toHash: $t) { unified } } } }",
        id=source["id"],
        f=sha(secret),
        t=sha("# Plan\nline two\nours\n"),
    )
    assert error["extensions"] == {"code": "NOT_FOUND", "reason": "VERSION_NOT_FOUND"}
