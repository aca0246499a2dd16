"""The cost budget: an operation over it is refused whole before anything runs;
every document our own clients send stays well under it."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from gql import GraphQLRequest
from graphql import DocumentNode, GraphQLObjectType, parse
from sqlalchemy import event
from sqlalchemy.engine import Engine

import connector.live
import tui.client
from backend.graphql.cost import FIELD_COSTS, SOURCES, operation_cost, sized_lists
from backend.graphql.response_size import TEXT_FIELDS
from backend.graphql.schema import build_schema
from backend.graphql.types.common import MAX_PAGE
from backend.settings import Settings
from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq, GqlFactory, auth_headers, check_error_shape, open_http


@pytest.fixture(scope="module")
def schema() -> Any:
    return build_schema(Settings(jwt_secret="cost-" + "x" * 32))._schema


def _client_documents() -> dict[str, DocumentNode]:
    """Every document the terminal app and the connector send, by name."""
    documents = {
        f"tui {name}": request.document
        for name, request in vars(tui.client).items()
        if isinstance(request, GraphQLRequest)
    }
    documents["connector live feed"] = parse(connector.live.SUBSCRIPTION)
    return documents


def test_every_document_our_clients_send_is_well_under_budget(schema: Any) -> None:
    """A new or grown client query must not meet QUERY_TOO_COSTLY in the field.

    Each is priced at the largest page the server serves, whatever page size the
    client passes today.
    """
    budget = Settings(jwt_secret="x" * 40).graphql_max_cost
    documents = _client_documents()
    assert len(documents) >= 15, sorted(documents)
    costs = {
        name: operation_cost(schema, document, None, {"first": MAX_PAGE})
        for name, document in documents.items()
    }
    assert all(cost is not None for cost in costs.values()), costs
    over = {name: cost for name, cost in costs.items() if (cost or 0) > budget // 4}
    assert not over, f"client documents near the budget of {budget}: {over}"
    # The dearest: a version's blame (a capped walk of line diffs, priced BLAME), then
    # the merge screen's query (a preview, word changes, three sides and their authors).
    dearest = sorted(costs, key=lambda name: costs[name] or 0, reverse=True)
    assert dearest[:2] == ["tui _BLAME", "tui _CONFLICT"], {n: costs[n] for n in dearest[:3]}
    # The inbox lists every source's conflicts: priced per source, at the app's page size.
    inbox = operation_cost(schema, documents["tui _INBOX"], None, {"first": 100}, {SOURCES: 100})
    assert inbox is not None and inbox <= budget // 4, f"inbox over 100 sources: {inbox}"


def test_priced_fields_exist_in_the_schema(schema: Any) -> None:
    """A renamed field must not slip out of the price list or the response cap unnoticed."""
    for key in (*FIELD_COSTS, *TEXT_FIELDS):
        type_name, field = key.split(".")
        type_ = schema.get_type(type_name)
        assert isinstance(type_, GraphQLObjectType), key
        assert field in type_.fields, key


COSTS: list[tuple[str, dict[str, Any], int]] = [
    # Every 100 objects a page (or the sources list) returns cost 1, rounded up.
    ("{ sources { id name } }", {}, 1 + 1),
    ('{ source(id: "s") { file(path: "a") { content } } }', {}, 3),
    # One response key runs once; an alias is a key of its own.
    ('{ source(id: "s") { file(path: "a") { content content } } }', {}, 3),
    ('{ source(id: "s") { file(path: "a") { content again: content } } }', {}, 4),
    # A page multiplies what is inside it: `first`, else the argument's default (100).
    ('{ source(id: "s") { files { nodes { content } } } }', {}, 102 + 1),
    (
        '{ source(id: "s") { files(first: 7) { nodes { content'
        " versions(first: 3) { nodes { content } } } } } }",
        {},
        1 + 1 + 7 * (1 + 1 + 3) + 1,  # 7 files and 21 versions: one unit of objects
    ),
    (
        'query($n: Int!) { source(id: "s") { files(first: $n) { nodes { content } } } }',
        {"n": 9},
        11 + 1,
    ),
    (
        'query($n: Int! = 4) { source(id: "s") { files(first: $n) { nodes { content } } } }',
        {},
        6 + 1,
    ),
    # Past the largest page the resolver refuses the argument; the price stops there.
    (
        '{ source(id: "s") { files(first: 100000) { nodes { content } } } }',
        {},
        2 + MAX_PAGE + MAX_PAGE // 100,
    ),
    # A value execution will refuse is priced at the default.
    (
        'query($n: Int!) { source(id: "s") { files(first: $n) { nodes { path } } } }',
        {"n": "x"},
        2 + 1,
    ),
    # Pages inside pages: free fields, but 250,500 objects built and encoded.
    (
        '{ source(id: "s") { files(first: 500) { nodes {'
        " versions(first: 500) { nodes { hash size } } } } } }",
        {},
        1 + 1 + 500 * 1 + (500 + 500 * 500) // 100,
    ),
    (
        'query { ...Q } fragment Q on Query { conflict(id: "c") { ... on Conflict {'
        " preview { regions { wordChanges { old } } } } } }",
        {},
        1 + 100 + 10,
    ),
    # Who wrote each side: a query of its own per conflict.
    ('{ conflict(id: "c") { sideAuthors { local remote } } }', {}, 1 + 1),
    (
        'mutation { a: pushBatch(sourceId: "s", items: []) { applied }'
        ' b: pauseSource(sourceId: "s") { id } }',
        {},
        101,
    ),
]


@pytest.mark.parametrize(("document", "variables", "expected"), COSTS)
def test_operation_cost(
    schema: Any, document: str, variables: dict[str, Any], expected: int
) -> None:
    assert operation_cost(schema, parse(document), None, variables) == expected


def test_cost_of_the_named_operation(schema: Any) -> None:
    document = parse(
        "query Cheap { sources { id } }"
        ' query Dear { source(id: "s") { files { nodes { content } } } }'
    )
    assert operation_cost(schema, document, "Cheap") == 2
    assert operation_cost(schema, document, "Dear") == 103
    assert operation_cost(schema, document, "Missing") is None


SOURCES_PREVIEWS = "{ sources { conflicts(first: 9) { nodes { preview { mergedWithMarkers } } } } }"


@pytest.mark.parametrize("count", [0, 1, 5, 40])
def test_what_is_inside_the_sources_list_runs_once_per_source(schema: Any, count: int) -> None:
    cost = operation_cost(schema, parse(SOURCES_PREVIEWS), None, None, {SOURCES: count})
    objects = count + count * 9
    assert cost == 1 + count * (1 + 9 * 100) + -(-objects // 100)


@pytest.mark.parametrize(
    ("document", "selected"),
    [
        ("{ sources { id } }", {SOURCES}),
        ("{ all: sources { id } }", {SOURCES}),
        ("query { ...S } fragment S on Query { sources { id } }", {SOURCES}),
        ('{ source(id: "s") { id } connectors { id } }', set()),
        ('mutation { pauseSource(sourceId: "s") { id } }', set()),
    ],
)
def test_which_operations_need_the_source_count(
    schema: Any, document: str, selected: set[str]
) -> None:
    assert sized_lists(schema, parse(document)) == selected


# ---- against a server ----------------------------------------------------------


@contextmanager
def statements(server: LiveServer) -> Iterator[list[str]]:
    """SQL statements the server runs meanwhile (its own server: no other client)."""
    engine: Engine = server.app.state.runtime.engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _history(api: Api, count: int = 3) -> str:
    source = api.source()
    previous = None
    for i in range(count):
        text = f"revision {i}\n"
        api.push(source["id"], upsert("a.md", text, base=previous))
        previous = sha(text)
    source_id: str = source["id"]
    return source_id


def _aliased_history(aliases: int, first: int = 50) -> str:
    pages = " ".join(
        f"v{i}: versions(first: {first}) {{ nodes {{ content }} }}" for i in range(aliases)
    )
    return 'query($id: ID!) { source(id: $id) { file(path: "a.md") { ' + pages + " } } }"


def _refusal(error: dict[str, Any], budget: int) -> int:
    check_error_shape(error)
    extensions = error["extensions"]
    assert extensions["code"] == "QUERY_TOO_COSTLY", error
    assert extensions["budget"] == budget and extensions["cost"] > budget, error
    assert f"cost {extensions['cost']}" in error["message"], error
    assert f"budget of {budget}" in error["message"], error
    cost: int = extensions["cost"]
    return cost


async def test_aliased_pages_of_content_are_refused_before_anything_runs(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    source_id = _history(api)
    server = start_server()
    budget = server.settings.graphql_max_cost
    async with open_http(server, auth_headers(api)) as gq:
        await gq.run("{ sources { id } }")  # warm up: connections, caches
        with statements(server) as ran:
            error = await gq.error(_aliased_history(30), id=source_id)
        assert ran == []
        assert _refusal(error, budget) == 1 + 1 + 30 * (1 + 50) + 30 * 50 // 100
        one = await gq.run(_aliased_history(1), id=source_id)
    contents = [n["content"] for n in one["source"]["file"]["v0"]["nodes"]]
    assert contents == ["revision 2\n", "revision 1\n", "revision 0\n"]


async def test_aliased_conflict_previews_are_refused_before_anything_runs(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    clash = api.open_conflict(api.source()["id"])
    server = start_server()
    previews = " ".join(
        f"c{i}: conflict(id: $id) {{ preview {{ mergedWithMarkers }} }}" for i in range(20)
    )
    async with open_http(server, auth_headers(api)) as gq:
        await gq.run("{ sources { id } }")
        with statements(server) as ran:
            error = await gq.error("query($id: ID!) { " + previews + " }", id=clash["id"])
        assert ran == []
        _refusal(error, server.settings.graphql_max_cost)
        one = await gq.run(
            "query($id: ID!) { conflict(id: $id) { preview { mergedWithMarkers } } }",
            id=clash["id"],
        )
    assert "<<<<<<<" in one["conflict"]["preview"]["mergedWithMarkers"]


FRAGMENTS = """
query($id: ID!, $n: Int!) {
  source(id: $id) {
    file(path: "a.md") {
      ...History
      ... on File { again: versions(first: $n) { nodes { content } } }
    }
  }
}
fragment History on File {
  versions(first: $n) { nodes { content } }
  more: versions(first: $n) { nodes { ...Text } }
}
fragment Text on Version { content }
"""


async def test_fragments_inline_fragments_and_variables_are_priced(gq: Gq, api: Api) -> None:
    source_id = _history(api)
    error = await gq.error(FRAGMENTS, id=source_id, n=MAX_PAGE)
    assert _refusal(error, api.settings.graphql_max_cost) == 1 + 1 + 3 * (1 + MAX_PAGE) + 15
    data = await gq.run(FRAGMENTS, id=source_id, n=2)
    file = data["source"]["file"]
    for key in ("versions", "more", "again"):
        assert [n["content"] for n in file[key]["nodes"]] == ["revision 2\n", "revision 1\n"]


async def test_a_refused_mutation_writes_nothing(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("kept.md", "kept\n"))
    before = (api.files(source["id"]), api.deltas(source["id"]))
    pushes = " ".join(
        f'p{i}: pushBatch(sourceId: $id, items: [{{operationId: "op-{i}", path: "n{i}.md",'
        f' content: "n{i}"}}]) {{ applied }}'
        for i in range(11)
    )
    error = await gq.error("mutation($id: String!) { " + pushes + " }", id=source["id"])
    _refusal(error, api.settings.graphql_max_cost)
    assert (api.files(source["id"]), api.deltas(source["id"])) == before


async def test_the_budget_is_a_setting(start_server: Callable[..., LiveServer], api: Api) -> None:
    source_id = _history(api)
    document = 'query($id: ID!) { source(id: $id) { file(path: "a.md") { content } } }'
    async with open_http(start_server(graphql_max_cost=2), auth_headers(api)) as strict:
        error = await strict.error(document, id=source_id)
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 3, "budget": 2}
    async with open_http(start_server(graphql_max_cost=3), auth_headers(api)) as enough:
        data = await enough.run(document, id=source_id)
    assert data["source"]["file"]["content"] == "revision 2\n"


async def test_the_budget_holds_over_websocket(ws_client: GqlFactory, api: Api) -> None:
    source_id = _history(api, count=1)
    async with ws_client(auth_headers(api)) as ws:
        error = await ws.error(_aliased_history(30), id=source_id)
    _refusal(error, api.settings.graphql_max_cost)


async def test_a_page_past_the_largest_is_refused_by_its_own_rule(gq: Gq, api: Api) -> None:
    """``first`` over the limit is INVALID_LIMIT, as it is without content."""
    source_id = _history(api, count=1)
    error = await gq.error(
        'query($id: ID!) { source(id: $id) { file(path: "a.md") {'
        " versions(first: 100000) { nodes { content } } } } }",
        id=source_id,
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_LIMIT"}


def test_refusal_is_a_graphql_answer_not_an_http_error(live_server: LiveServer, api: Api) -> None:
    response = httpx.post(
        live_server.url + "/graphql",
        json={"query": _aliased_history(30), "variables": {"id": "any"}},
        headers=auth_headers(api),
        timeout=30,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    _refusal(body["errors"][0], api.settings.graphql_max_cost)


async def test_previews_under_every_source_are_priced_by_the_source_count(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    """Counted before the walk: two sources double what runs inside ``sources``."""
    server = start_server()
    budget = server.settings.graphql_max_cost
    first = api.source()
    api.open_conflict(first["id"])
    async with open_http(server, auth_headers(api)) as gq:
        one = await gq.run(SOURCES_PREVIEWS)
        [source] = one["sources"]
        [node] = source["conflicts"]["nodes"]
        assert "<<<<<<<" in node["preview"]["mergedWithMarkers"]
        second = api.source()
        with statements(server) as ran:
            error = await gq.error(SOURCES_PREVIEWS)
        # The count is the one query before the refusal (SQLite also sends BEGIN).
        queries = [q for q in ran if q.strip().upper() != "BEGIN"]
        assert len(queries) == 1 and "count(*)" in queries[0].lower(), ran
        assert _refusal(error, budget) == 1 + 2 * (1 + 9 * 100) + 1
    assert [s["id"] for s in api.sources()] == [first["id"], second["id"]]


async def test_the_source_count_is_read_with_the_callers_credentials(
    live_server: LiveServer, api: Api
) -> None:
    """Without a valid token, pricing refuses as the resolver would: nothing else runs."""
    async with open_http(live_server, {"x-workspace-id": api.workspace}) as gq:
        error = await gq.error(SOURCES_PREVIEWS)
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
