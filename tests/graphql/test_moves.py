"""Moves over GraphQL: pushBatch takes renameFrom, versions say movedFrom."""

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

PUSH = """
mutation($source: String!, $items: [PushItemInput!]!) {
  pushBatch(sourceId: $source, items: $items) { results { path status code } }
}
"""
HISTORY = """
query($id: ID!, $path: String!) {
  source(id: $id) {
    file(path: $path) { path versions(first: 10) { edges { node { seq hash movedFrom } } } }
  }
}
"""


def _item(path: str, content: str, rename_from: object, op: str) -> dict[str, object]:
    return {
        "operationId": op,
        "path": path,
        "content": content,
        "baseHash": sha(content),
        "renameFrom": rename_from,
    }


async def test_a_move_pushed_over_graphql_shows_moved_from(gq: Gq, api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("notes/a.md", "# A\n"))
    items = [_item("archive/a.md", "# A\n", "notes/a.md", "op-move")]
    [result] = (await gq.run(PUSH, source=sid, items=items))["pushBatch"]["results"]
    assert (result["path"], result["status"]) == ("archive/a.md", "APPLIED")
    file = (await gq.run(HISTORY, id=sid, path="archive/a.md"))["source"]["file"]
    nodes = [e["node"] for e in file["versions"]["edges"]]
    assert [(n["seq"], n["movedFrom"]) for n in nodes] == [(2, "notes/a.md"), (1, None)]
    assert (await gq.run(HISTORY, id=sid, path="notes/a.md"))["source"]["file"] is None


async def test_hostile_rename_from_over_graphql_is_rejected_per_item(gq: Gq, api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "# A\n"))
    items = [
        _item("b.md", "# A\n", "../../etc/passwd", "op-1"),
        _item("c.md", "# A\n", "a.md", "op-2"),
    ]
    results = (await gq.run(PUSH, source=sid, items=items))["pushBatch"]["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("REJECTED", "INVALID_RENAME_FROM"),
        ("APPLIED", None),
    ]
    assert {f["relativePath"] for f in api.files(sid)} == {"c.md"}


async def test_a_move_from_another_workspace_path_moves_nothing(
    gq: Gq, api: Api, other_api: Api
) -> None:
    theirs = other_api.source()["id"]
    other_api.push(theirs, upsert("secret.md", "# S\n"))
    mine = api.source()["id"]
    items = [_item("stolen.md", "# S\n", "secret.md", "op-x")]
    [result] = (await gq.run(PUSH, source=mine, items=items))["pushBatch"]["results"]
    assert result["status"] == "APPLIED"  # a plain upsert: nothing of the other source moved
    assert [f["relativePath"] for f in other_api.files(theirs)] == ["secret.md"]
    file = (await gq.run(HISTORY, id=mine, path="stolen.md"))["source"]["file"]
    assert [e["node"]["movedFrom"] for e in file["versions"]["edges"]] == [None]
