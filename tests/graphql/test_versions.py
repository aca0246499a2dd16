"""History pages at the largest size: ``versions(first: 500)`` and REST ``history`` limit 500."""

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

VERSIONS = """
query($id: ID!, $first: Int!, $after: String) {
  source(id: $id) {
    file(path: "long.md") {
      versionCount
      versions(first: $first, after: $after) {
        edges { cursor node { seq } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
PAGE = 500


def _long_history(api: Api, count: int) -> str:
    """A source whose ``long.md`` has ``count`` versions, each edited from the one before."""
    sid: str = api.source()["id"]
    previous: str | None = None
    for start in range(0, count, api.settings.max_batch_items):
        items = []
        for n in range(start, min(count, start + api.settings.max_batch_items)):
            content = f"version {n}\n"
            items.append(upsert("long.md", content, base=previous))
            previous = sha(content)
        api.push(sid, *items)
    return sid


async def test_the_largest_page_of_history_is_served(gq: Gq, api: Api) -> None:
    sid = _long_history(api, PAGE + 1)

    first = (await gq.run(VERSIONS, id=sid, first=PAGE))["source"]["file"]
    assert first["versionCount"] == PAGE + 1
    page = first["versions"]
    assert [e["node"]["seq"] for e in page["edges"]] == list(range(PAGE + 1, 1, -1))
    assert page["pageInfo"]["hasNextPage"] is True

    after = page["pageInfo"]["endCursor"]
    rest = (await gq.run(VERSIONS, id=sid, first=PAGE, after=after))["source"]["file"]
    assert [e["node"]["seq"] for e in rest["versions"]["edges"]] == [1]
    assert rest["versions"]["pageInfo"]["hasNextPage"] is False

    # The REST counterpart: the same newest 500, then the last one before them.
    body = {"sourceId": sid, "relativePath": "long.md", "limit": PAGE, "includeContent": False}
    newest = api.call("sources/history", body)
    assert [v["seq"] for v in newest] == list(range(PAGE + 1, 1, -1))
    older = api.call("sources/history", {**body, "before": newest[-1]["seq"]})
    assert [v["seq"] for v in older] == [1]
