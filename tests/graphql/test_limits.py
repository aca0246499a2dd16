"""Document limits (depth, tokens, aliases, introspection depth) are refused up front;
the text one answer carries is capped as it resolves."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from gql import GraphQLRequest

from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.graphql.conftest import (
    Gq,
    GqlFactory,
    auth_headers,
    check_error_shape,
    open_http,
    open_ws,
)
from tests.graphql.test_cost import statements

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


# ---- response size -------------------------------------------------------------


def _post(server: LiveServer, api: Api, document: str, **variables: Any) -> dict[str, Any]:
    """The whole answer, data beside errors (gql keeps only one of them)."""
    body = {"query": document, "variables": variables}
    response = httpx.post(server.url + "/graphql", json=body, headers=auth_headers(api), timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _too_large(errors: list[dict[str, Any]], limit: int) -> list[list[Any]]:
    for error in errors:
        check_error_shape(error)
        assert error["extensions"] == {"code": "RESPONSE_TOO_LARGE", "limit": limit}, error
        assert f"more than {limit} bytes" in error["message"], error
    return sorted(error["path"] for error in errors)


def _history(api: Api, texts: list[str]) -> str:
    source = api.source()
    base = None
    for text in texts:
        api.push(source["id"], upsert("a.md", text, base=base))
        base = sha(text)
    source_id: str = source["id"]
    return source_id


HISTORY = """
query($id: ID!) { source(id: $id) { file(path: "a.md") { versions { nodes { seq content } } } } }
"""


async def test_text_past_the_response_cap_fails_with_a_code(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    texts = [f"version {i}\n" for i in range(4)]  # 10 bytes each
    source_id = _history(api, texts)
    server = start_server(graphql_max_response_bytes=25)
    answer = _post(server, api, HISTORY, id=source_id)
    nodes = answer["data"]["source"]["file"]["versions"]["nodes"]
    assert [(n["seq"], n["content"]) for n in nodes] == [
        (4, "version 3\n"),
        (3, "version 2\n"),
        (2, None),
        (1, None),
    ]
    prefix = ["source", "file", "versions", "nodes"]
    assert _too_large(answer["errors"], 25) == [[*prefix, 2, "content"], [*prefix, 3, "content"]]
    # The default cap serves the same history whole.
    async with open_http(start_server(), auth_headers(api)) as gq:
        data = await gq.run(HISTORY, id=source_id)
    assert [n["content"] for n in data["source"]["file"]["versions"]["nodes"]] == texts[::-1]


async def test_text_that_would_not_fit_is_never_read(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    source_id = _history(api, ["0123456789"])
    server = start_server(graphql_max_response_bytes=9)
    document = 'query($id: ID!) { source(id: $id) { file(path: "a.md") { size content } } }'
    _post(server, api, "{ sources { id } }")  # warm up
    with statements(server) as ran:
        answer = _post(server, api, document, id=source_id)
    assert answer["data"]["source"]["file"] == {"size": 10, "content": None}
    assert _too_large(answer["errors"], 9) == [["source", "file", "content"]]
    assert ran and not [s for s in ran if "blobs" in s.lower()], ran
    roomy = start_server()
    _post(roomy, api, "{ sources { id } }")
    with statements(roomy) as ran:
        answer = _post(roomy, api, document, id=source_id)
    assert answer["data"]["source"]["file"] == {"size": 10, "content": "0123456789"}
    assert [s for s in ran if "blobs" in s.lower()], ran


async def test_computed_text_counts_too(start_server: Callable[..., LiveServer], api: Api) -> None:
    """Previews and diffs are built from the sides; what they return counts the same."""
    source = api.source()
    clash = api.open_conflict(source["id"])
    server = start_server(graphql_max_response_bytes=30)
    preview = "query($id: ID!) { conflict(id: $id) { preview { mergedWithMarkers } } }"
    answer = _post(server, api, preview, id=clash["id"])
    assert answer["data"] is None
    assert _too_large(answer["errors"], 30) == [["conflict", "preview", "mergedWithMarkers"]]
    diff = (
        "query($id: ID!, $path: String!, $from: String!, $to: String!) { source(id: $id) {"
        " file(path: $path) { diff(fromHash: $from, toHash: $to) { unified } } } }"
    )
    hashes = {"from": sha(clash["base"]), "to": sha(clash["remote"])}
    answer = _post(server, api, diff, id=source["id"], path=clash["path"], **hashes)
    assert _too_large(answer["errors"], 30) == [["source", "file", "diff", "unified"]]
    # Under the default cap both answer.
    async with open_http(start_server(), auth_headers(api)) as gq:
        data = await gq.run(preview, id=clash["id"])
        assert "<<<<<<<" in data["conflict"]["preview"]["mergedWithMarkers"]
        data = await gq.run(diff, id=source["id"], path=clash["path"], **hashes)
        assert "+remote line" in data["source"]["file"]["diff"]["unified"]


EVENTS = "query($id: ID!) { source(id: $id) { events { nodes { cursor payload } } } }"
FEED = """
subscription($id: String!) { sourceEvents(sourceId: $id, after: 0) { cursor payload } }
"""


async def test_each_event_of_a_subscription_has_the_whole_cap(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    source = api.source()
    texts = [f"note number {i}\n" for i in range(4)]  # 14 bytes each
    for i, text in enumerate(texts):
        api.push(source["id"], upsert(f"n{i}.md", text))
    server = start_server(graphql_max_response_bytes=20)
    # One answer with every event's text is over the cap ...
    answer = _post(server, api, EVENTS, id=source["id"])
    assert answer["data"] is None
    assert _too_large(answer["errors"], 20) == [["source", "events", "nodes", 1, "payload"]]
    # ... while each event of the live feed is an answer of its own.
    async with open_ws(server, auth_headers(api)) as ws:
        request = GraphQLRequest(FEED, variable_values={"id": source["id"]})
        feed = ws.session.subscribe(request)
        events = [(await asyncio.wait_for(anext(feed), 15))["sourceEvents"] for _ in texts]
        await feed.aclose()
    assert [e["payload"]["content"] for e in events] == texts
