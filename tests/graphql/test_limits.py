"""Document limits: depth, tokens, aliases and introspection depth are refused up front."""

from collections.abc import Callable

from tests.conftest import LiveServer
from tests.factories import Api, upsert
from tests.graphql.conftest import Gq, GqlFactory, auth_headers, open_http

# The deepest selection the schema allows today is well under the default limit,
# so a real client query always passes; depth 8 counted from ``source``. Small
# pages keep it within the cost budget (see test_cost.py).
DEEP = """
query($id: ID!) {
  source(id: $id) {
    files(first: 10) {
      edges {
        node {
          versions(first: 10) {
            edges {
              node { seq content }
            }
          }
        }
      }
    }
  }
}
"""


async def test_the_deepest_real_query_passes(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "A\n"))
    data = await gq.run(DEEP, id=source["id"])
    edge = data["source"]["files"]["edges"][0]
    assert edge["node"]["versions"]["edges"][0]["node"] == {"seq": 1, "content": "A\n"}


async def test_too_deep_query_is_refused(start_server: Callable[..., LiveServer], api: Api) -> None:
    server = start_server(graphql_max_depth=4)
    source = api.source()
    api.push(source["id"], upsert("a.md", "A\n"))
    async with open_http(server, auth_headers(api)) as gq:
        error = await gq.error(DEEP, id=source["id"])
        shallow = await gq.run(
            "query($id: ID!) { source(id: $id) { files { nodes { path } } } }", id=source["id"]
        )
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "exceeds maximum operation depth of 4" in error["message"]
    assert shallow["source"]["files"]["nodes"] == [{"path": "a.md"}]


async def test_too_deep_document_on_the_default_server(gq: Gq) -> None:
    """Even a nonsense document deeper than the limit is refused with a clear message."""
    depth = 20
    document = "{ sources " + "{ connector " * depth + "{ id }" + " }" * depth + " }"
    errors = await gq.errors(document)
    assert {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}
    assert any("exceeds maximum operation depth of 12" in e["message"] for e in errors)


async def test_oversized_document_is_refused(gq: Gq, api: Api) -> None:
    limit = api.settings.graphql_max_tokens
    document = "{ sources { " + "id " * limit + "} }"
    error = await gq.error(document)
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert f"more than {limit} tokens" in error["message"]


async def test_too_many_aliases_are_refused(gq: Gq) -> None:
    document = "{ " + " ".join(f"a{i}: sources {{ id }}" for i in range(31)) + " }"
    error = await gq.error(document)
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "aliases" in error["message"]


async def test_deep_introspection_is_refused(gq: Gq) -> None:
    nested = (
        "{ types { fields { type { fields { type { fields { type { fields { name } } } } } } } } }"
    )
    error = await gq.error("{ __schema " + nested + " }")
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "introspection depth" in error["message"]
    # Ordinary introspection (what GraphiQL and gql's schema fetch send) still works.
    data = await gq.run("{ __schema { queryType { name } types { name } } }")
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_limits_apply_over_websocket(ws_client: GqlFactory, api: Api) -> None:
    limit = api.settings.graphql_max_tokens
    async with ws_client(auth_headers(api)) as ws:
        error = await ws.error("{ sources { " + "id " * limit + "} }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
