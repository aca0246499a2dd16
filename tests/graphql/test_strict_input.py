"""GraphQL writes obey the same per-item rules as REST: path clashes, long names, reuse."""

from typing import Any

from tests.factories import Api, upsert
from tests.graphql.conftest import Gq
from tests.rest.test_path_clash import LONG_NAME
from tests.rest.test_strict_items import state

UPDATE = """
mutation($id: String!, $path: String!, $content: String!) {
  updateFile(sourceId: $id, path: $path, content: $content) { status }
}
"""


async def test_graphql_update_file_obeys_the_same_rule(api: Api, gq: Gq) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes/a.md", "A"))
    before = state(api, sid)
    error = await gq.error(UPDATE, id=sid, path="notes", content="x")
    assert error["extensions"]["reason"] == "PATH_CLASH"
    error = await gq.error(UPDATE, id=sid, path=LONG_NAME, content="x")
    assert error["extensions"]["reason"] == "INVALID_PATH"
    assert state(api, sid) == before


PUSH = """
mutation($id: String!, $items: [PushItemInput!]!) {
  pushBatch(sourceId: $id, items: $items) { results { status code } }
}
"""


async def test_graphql_push_batch_obeys_the_same_rules(api: Api, gq: Gq) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes/a.md", "A", op="op-a"))
    before = state(api, sid)
    items: list[dict[str, Any]] = [
        {"operationId": "op-1", "path": "notes", "content": "x"},
        {"operationId": "op-a", "path": "notes/a.md", "content": "other"},
        {"operationId": "op-2", "path": LONG_NAME, "content": "x"},
    ]
    data = await gq.run(PUSH, id=sid, items=items)
    assert [(r["status"], r["code"]) for r in data["pushBatch"]["results"]] == [
        ("REJECTED", "PATH_CLASH"),
        ("REJECTED", "OPERATION_ID_REUSED"),
        ("REJECTED", "INVALID_PATH"),
    ]
    assert state(api, sid) == before
