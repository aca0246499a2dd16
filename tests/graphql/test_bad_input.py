"""Bad input always gets a coded error, never INTERNAL_SERVER_ERROR and never a partial write.

``Gq.error`` already fails on a missing code, on INTERNAL_SERVER_ERROR and on a
message that looks like Python internals; each test also checks the exact code.
"""

import base64
import json
from typing import Any

import httpx
import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq, GqlFactory, auth_headers, check_error_shape

FILE = "query($id: ID!, $path: String!) { source(id: $id) { file(path: $path) { path } } }"
UPDATE = """
mutation($id: String!, $path: String!, $content: String!, $base: String) {
  updateFile(sourceId: $id, path: $path, content: $content, baseHash: $base) { status }
}
"""
RESTORE = """
mutation($id: String!, $path: String!, $hash: String!) {
  restoreVersion(sourceId: $id, path: $path, hash: $hash) { status }
}
"""
DIFF = """
query($id: ID!, $from: String!, $to: String!, $context: Int! = 3) {
  source(id: $id) {
    file(path: "a.md") { diff(fromHash: $from, toHash: $to, contextLines: $context) { unified } }
  }
}
"""
BAD_PATHS = [
    "../up.md",
    "notes/../../up.md",
    "/etc/passwd",
    "notes\\win.md",
    "",
    "a\x00b.md",
    "tab\there.md",
    "x/" * 600 + "long.md",
    "./",
    ".",
]
GOOD_HASH = sha("a\n")
NEWER = "b\n"
BAD_HASHES = ["xyz", "g" * 64, GOOD_HASH[:-1], GOOD_HASH + "0", " " + GOOD_HASH[1:], "\x00"]


@pytest.fixture
def source_id(api: Api) -> str:
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    api.push(source["id"], upsert("a.md", "b\n", base=sha("a\n")))
    source_id: str = source["id"]
    return source_id


def _assert_unchanged(api: Api, source_id: str) -> None:
    assert [f["relativePath"] for f in api.files(source_id)] == ["a.md"]
    assert api.file(source_id, "a.md")["content"] == "b\n"
    assert len(api.deltas(source_id)) == 2


# ---- paths -------------------------------------------------------------------


async def test_invalid_paths(gq: Gq, api: Api, source_id: str, subtests: pytest.Subtests) -> None:
    for path in BAD_PATHS:
        with subtests.test(path=path[:40]):
            for document, extra in (
                (FILE, {}),
                (UPDATE, {"content": "x\n"}),
                (RESTORE, {"hash": sha("a\n")}),
            ):
                error = await gq.error(document, id=source_id, path=path, **extra)
                assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_PATH"}
    _assert_unchanged(api, source_id)


# ---- hashes ------------------------------------------------------------------


async def test_bad_hashes(gq: Gq, api: Api, source_id: str, subtests: pytest.Subtests) -> None:
    for bad in BAD_HASHES:
        cases: list[tuple[str, dict[str, Any]]] = [
            (DIFF, {"from": bad, "to": GOOD_HASH}),
            (DIFF, {"from": GOOD_HASH, "to": bad}),
            (UPDATE, {"path": "a.md", "content": "c\n", "base": bad}),
            (RESTORE, {"path": "a.md", "hash": bad}),
        ]
        with subtests.test(hash=bad):
            for document, variables in cases:
                error = await gq.error(document, id=source_id, **variables)
                assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_HASH"}
    _assert_unchanged(api, source_id)


async def test_hashes_are_case_insensitive(gq: Gq, source_id: str) -> None:
    data = await gq.run(DIFF, id=source_id, **{"from": sha("a\n").upper()}, to=sha("b\n"))
    assert data["source"]["file"]["diff"]["unified"].endswith("-a\n+b\n")


async def test_bad_hash_in_a_pushed_item_rejects_only_that_item(
    gq: Gq, api: Api, source_id: str
) -> None:
    document = """
    mutation($id: String!, $items: [PushItemInput!]!) {
      pushBatch(sourceId: $id, items: $items) { applied results { status code } }
    }
    """
    items = [
        {"operationId": "bad-base", "path": "x.md", "content": "x\n", "baseHash": "nothex"},
        {"operationId": "bad-hash", "path": "y.md", "content": "y\n", "contentHash": "12"},
        {"operationId": "good", "path": "z.md", "content": "z\n"},
    ]
    result = (await gq.run(document, id=source_id, items=items))["pushBatch"]
    assert [(r["status"], r["code"]) for r in result["results"]] == [
        ("REJECTED", "INVALID_HASH"),
        ("REJECTED", "INVALID_HASH"),
        ("APPLIED", None),
    ]
    assert sorted(f["relativePath"] for f in api.files(source_id)) == ["a.md", "z.md"]


# ---- enums and types ---------------------------------------------------------


def on_source(selection: str, variables: str = "") -> str:
    return f"query($id: ID!{variables}) {{ source(id: $id) {{ {selection} }} }}"


def on_file(selection: str, variables: str = "") -> str:
    return on_source(f'file(path: "a.md") {{ {selection} }}', variables)


CREATE = 'mutation { createSource(input: {name: "x", %s}) { id } }'
RESOLVE_X = 'mutation%s { resolveConflict(conflictId: "x", %s) { hash } }'
SCHEMA_VIOLATIONS: list[tuple[str, dict[str, Any]]] = [
    (on_source("files(state: BOGUS) { nodes { path } }"), {}),
    (on_source("files(state: $s) { nodes { path } }", ", $s: FileState"), {"s": "ok"}),
    (on_source("conflicts(status: $s) { nodes { id } }", ", $s: ConflictStatus"), {"s": "X"}),
    (CREATE % "mode: SIDEWAYS", {}),
    (CREATE % "mode: BIDIRECTIONAL, mergeGranularity: CHAR", {}),
    (CREATE.replace("mutation", "mutation($m: SyncMode!)") % "mode: $m", {"m": "bidirectional"}),
    (RESOLVE_X % ("($r: Resolution)", "resolution: $r"), {"r": "keep_local"}),
    (RESOLVE_X % ("", 'resolution: "KEEP_LOCAL"'), {}),
    (RESOLVE_X % ("", "decisions: [{index: 1, choice: MINE}]"), {}),
    (on_source('files(first: "ten") { nodes { path } }'), {}),
    (on_source("files(first: 9999999999) { nodes { path } }"), {}),
    (on_source("files(first: $f) { nodes { path } }", ", $f: Int!"), {"f": 1.5}),
    (on_source("nope"), {}),
    ("query { source { id } }", {}),
    ('mutation { pushBatch(sourceId: "x", items: [{path: "a.md"}]) { applied } }', {}),
]


async def test_schema_violations(gq: Gq, source_id: str, subtests: pytest.Subtests) -> None:
    for document, variables in SCHEMA_VIOLATIONS:
        with subtests.test(document=document):
            if "$id" in document:
                variables = {"id": source_id, **variables}
            errors = await gq.errors(document, **variables)
            assert {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_syntax_error(live_server: LiveServer, api: Api) -> None:
    # gql refuses to send unparsable text, so this one goes as plain HTTP.
    response = httpx.post(
        live_server.url + "/graphql",
        json={"query": "{ sources { id "},
        headers=auth_headers(api),
        timeout=30,
    )
    assert response.status_code < 500
    body = response.json()
    assert body.get("data") is None
    for error in body["errors"]:
        check_error_shape(error)
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# ---- pagination and ranges ---------------------------------------------------


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


VERSIONS_AFTER = on_file("versions(after: $a) { nodes { seq } }", ", $a: String")
FILES_AFTER = on_source("files(after: $a) { nodes { path } }", ", $a: String")
DIFF_CONTEXT = on_file(
    f'diff(fromHash: "{GOOD_HASH}", toHash: "{sha(NEWER)}", contextLines: $c) {{ unified }}',
    ", $c: Int!",
)
OUT_OF_RANGE: list[tuple[str, dict[str, Any], str]] = [
    (on_source("files(first: 0) { nodes { path } }"), {}, "INVALID_LIMIT"),
    (on_source("files(first: 501) { nodes { path } }"), {}, "INVALID_LIMIT"),
    (on_source("conflicts(first: -1) { nodes { id } }"), {}, "INVALID_LIMIT"),
    (on_source("events(first: 0) { nodes { cursor } }"), {}, "INVALID_LIMIT"),
    (on_file("versions(first: 501) { nodes { seq } }"), {}, "INVALID_LIMIT"),
    (on_source("events(after: -1) { nodes { cursor } }"), {}, "INVALID_CURSOR"),
    (VERSIONS_AFTER, {"a": "not base64!"}, "INVALID_CURSOR"),
    (VERSIONS_AFTER, {"a": _b64("seven")}, "INVALID_CURSOR"),
    (VERSIONS_AFTER, {"a": _b64("9" * 40)}, "INVALID_CURSOR"),
    (VERSIONS_AFTER, {"a": _b64("²")}, "INVALID_CURSOR"),
    (VERSIONS_AFTER, {"a": _b64("-1")}, "INVALID_CURSOR"),
    (
        on_source("conflicts(after: $a) { nodes { id } }", ", $a: String"),
        {"a": _b64("x")},
        "INVALID_CURSOR",
    ),
    (FILES_AFTER, {"a": _b64("\x00")}, "INVALID_CURSOR"),
    (FILES_AFTER, {"a": _b64("../x")}, "INVALID_CURSOR"),
    (FILES_AFTER, {"a": "%%%"}, "INVALID_CURSOR"),
    (DIFF_CONTEXT, {"c": 51}, "INVALID_CONTEXT"),
    (DIFF_CONTEXT, {"c": -1}, "INVALID_CONTEXT"),
]


async def test_out_of_range_arguments(gq: Gq, source_id: str, subtests: pytest.Subtests) -> None:
    for document, variables, reason in OUT_OF_RANGE:
        with subtests.test(document=document, variables=variables):
            error = await gq.error(document, id=source_id, **variables)
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": reason}


async def test_conflict_preview_context_range(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"])
    for lines in (-1, 51):
        error = await gq.error(
            "query($id: ID!, $n: Int!) { conflict(id: $id) { preview(contextLines: $n)"
            " { baseKnown } } }",
            id=clash["id"],
            n=lines,
        )
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_CONTEXT"}


# ---- content -----------------------------------------------------------------


async def test_content_with_nul_is_refused(gq: Gq, api: Api, source_id: str) -> None:
    error = await gq.error(UPDATE, id=source_id, path="a.md", content="a\x00b", base=sha("b\n"))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_CONTENT"}
    _assert_unchanged(api, source_id)


async def test_content_over_the_size_limit(gq: Gq, api: Api, source_id: str) -> None:
    big = "x" * (api.settings.max_file_bytes + 1)
    error = await gq.error(UPDATE, id=source_id, path="big.md", content=big)
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "reason": "CONTENT_TOO_LARGE"}
    _assert_unchanged(api, source_id)


async def test_manual_merge_content_is_validated(gq: Gq, api: Api) -> None:
    source = api.source()
    clash = api.open_conflict(source["id"])
    error = await gq.error(
        "mutation($id: String!) { resolveConflict(conflictId: $id, resolution: MANUAL_MERGE,"
        ' content: "a\\u0000b") { hash } }',
        id=clash["id"],
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_CONTENT"}
    assert api.conflicts(source["id"])[0]["id"] == clash["id"]


# ---- ids ---------------------------------------------------------------------

ID_DOCUMENTS = {
    "source": "query($id: ID!) { source(id: $id) { id } }",
    "conflict": "query($id: ID!) { conflict(id: $id) { id } }",
    "heartbeat": "mutation($id: String!) { heartbeat(connectorId: $id) { id } }",
    "pauseSource": "mutation($id: String!) { pauseSource(sourceId: $id) { id } }",
    "resumeSource": "mutation($id: String!) { resumeSource(sourceId: $id) { id } }",
    "pushBatch": "mutation($id: String!) { pushBatch(sourceId: $id, items: []) { applied } }",
    "updateFile": (
        'mutation($id: String!) { updateFile(sourceId: $id, path: "a.md", content: "x")'
        " { status } }"
    ),
    "resolveConflict": (
        "mutation($id: String!) { resolveConflict(conflictId: $id, resolution: KEEP_LOCAL)"
        " { hash } }"
    ),
    "restoreVersion": (
        'mutation($id: String!) { restoreVersion(sourceId: $id, path: "a.md", hash: "'
        + sha("a\n")
        + '") { status } }'
    ),
    "createSource connector": (
        'mutation($id: String!) { createSource(input: {name: "x", mode: BIDIRECTIONAL,'
        " connectorId: $id}) { id } }"
    ),
}
NOT_FOUND = ("NOT_FOUND",)
ODD_IDS = {
    "not-a-uuid": NOT_FOUND,
    "x" * 5000: NOT_FOUND,
    "' OR '1'='1": NOT_FOUND,
    "ünïcödé-🙂": NOT_FOUND,
    "": ("BAD_USER_INPUT", "NOT_FOUND"),
    # PostgreSQL text cannot hold NUL: the lookup must not reach the driver with it.
    "abc\x00def": ("BAD_USER_INPUT",),
}


@pytest.mark.parametrize("operation", list(ID_DOCUMENTS))
async def test_odd_ids(gq: Gq, operation: str) -> None:
    for odd, codes in ODD_IDS.items():
        error = await gq.error(ID_DOCUMENTS[operation], id=odd)
        assert error["extensions"]["code"] in codes, (odd[:20], error)


async def test_credentials_are_checked_before_arguments(gql_client: GqlFactory) -> None:
    async with gql_client({"x-workspace-id": "ws-x"}) as anonymous:
        for document in ID_DOCUMENTS.values():
            error = await anonymous.error(document, id="abc\x00def")
            assert error["extensions"]["code"] == "UNAUTHENTICATED"


# ---- text that cannot be stored ----------------------------------------------
# gql (like any strict JSON encoder) cannot send a lone surrogate, so these go as
# raw JSON with the escape written out, exactly as a hostile client would send it.

NAME_DOCUMENTS = {
    "registerConnector name": (
        'mutation($v: String!) { registerConnector(name: $v, platform: "linux", version: "1")'
        " { id } }"
    ),
    "createSource name": (
        "mutation($v: String!) { createSource(input: {name: $v, mode: BIDIRECTIONAL}) { id } }"
    ),
    "pushBatch operationId": (
        "mutation($s: String!, $v: String!) { pushBatch(sourceId: $s, items: [{operationId: $v,"
        ' path: "n.md", content: "n"}]) { results { status code } } }'
    ),
    "pushBatch contentType": (
        "mutation($s: String!, $v: String!) { pushBatch(sourceId: $s, items: [{operationId:"
        ' "op-ct", path: "n.md", content: "n", contentType: $v}]) { results { status code } } }'
    ),
    "files prefix": (
        "query($s: ID!, $v: String!) { source(id: $s) { files(prefix: $v) { nodes { path } } } }"
    ),
    "source id": "query($v: ID!) { source(id: $v) { id } }",
    "conflict id": "query($v: ID!) { conflict(id: $v) { id } }",
    "heartbeat id": "mutation($v: String!) { heartbeat(connectorId: $v) { id } }",
    "createSource pattern": (
        'mutation($v: String!) { createSource(input: {name: "x", mode: BIDIRECTIONAL,'
        ' includePatterns: ["**/*.md", $v]}) { id } }'
    ),
    "pauseSource id": "mutation($v: String!) { pauseSource(sourceId: $v) { id } }",
}
UNSTORABLE = {"lone surrogate": "bad\ud800text", "nul": "bad\x00text"}


def _raw(server: LiveServer, api: Api, document: str, variables: dict[str, Any]) -> Any:
    body = json.dumps({"query": document, "variables": variables}, ensure_ascii=True)
    headers = {**auth_headers(api), "content-type": "application/json"}
    response = httpx.post(server.url + "/graphql", content=body, headers=headers, timeout=30)
    assert response.status_code < 500, response.text
    return response.json()


async def test_unstorable_text_is_a_client_error(
    live_server: LiveServer, api: Api, subtests: pytest.Subtests
) -> None:
    """Text no database column can hold is refused (a pushed item alone is rejected)."""
    source = api.source()
    for operation, document in NAME_DOCUMENTS.items():
        for text, value in UNSTORABLE.items():
            with subtests.test(operation=operation, text=text):
                body = _raw(live_server, api, document, {"s": source["id"], "v": value})
                if operation.startswith("pushBatch"):
                    assert "errors" not in body, body
                    assert body["data"]["pushBatch"]["results"][0]["status"] == "REJECTED"
                else:
                    assert body.get("data") is None
                    [error] = body["errors"]
                    check_error_shape(error)
                    expected = {"code": "BAD_USER_INPUT", "reason": "INVALID_INPUT"}
                    assert error["extensions"] == expected
    assert [s["id"] for s in api.sources()] == [source["id"]]
    assert api.files(source["id"]) == []


# ---- requests the schema cannot serve ------------------------------------------

SUBSCRIBE = "subscription($id: String!) { sourceEvents(sourceId: $id) { cursor } }"
PAUSE = "mutation($id: String!) { pauseSource(sourceId: $id) { status } }"


def _graphql(
    server: LiveServer, api: Api, method: str, content_type: str | None = None, **kwargs: Any
) -> httpx.Response:
    url = server.url + "/graphql"
    headers = auth_headers(api)
    if content_type:
        headers["content-type"] = content_type
    response = httpx.request(method, url, headers=headers, timeout=30, **kwargs)
    assert response.status_code < 500, response.text
    return response


def _coded(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    check_error_shape(error)
    extensions: dict[str, Any] = error["extensions"]
    return extensions


def _snapshot(api: Api, source_id: str) -> Any:
    return api.sources(), api.files(source_id), api.deltas(source_id)


async def test_a_subscription_over_http_is_refused_with_a_code(
    live_server: LiveServer, api: Api, source_id: str
) -> None:
    variables = {"id": source_id}
    response = _graphql(live_server, api, "POST", json={"query": SUBSCRIBE, "variables": variables})
    assert _coded(response) == {"code": "BAD_USER_INPUT", "reason": "WEBSOCKET_REQUIRED"}
    assert "WebSocket" in response.json()["errors"][0]["message"]
    params = {"query": SUBSCRIBE, "variables": json.dumps(variables)}
    response = _graphql(live_server, api, "GET", params=params)
    assert response.status_code == 405
    assert _coded(response) == {"code": "BAD_USER_INPUT", "reason": "METHOD_NOT_ALLOWED"}


async def test_an_unknown_operation_name(
    live_server: LiveServer, api: Api, ws_client: GqlFactory
) -> None:
    document = "query Mine { sources { id } }"
    body = {"query": document, "operationName": "Theirs"}
    response = _graphql(live_server, api, "POST", json=body)
    assert response.status_code == 400
    assert 'Unknown operation named "Theirs"' in response.text
    async with ws_client(auth_headers(api)) as ws:
        with pytest.raises(TransportQueryError) as refused:
            await ws.session.execute(GraphQLRequest(document, operation_name="Theirs"))
    [error] = refused.value.errors or []
    check_error_shape(error)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "UNKNOWN_OPERATION"}
    assert 'Unknown operation named "Theirs"' in error["message"]


SOURCE_BY_ID = "query($id: ID!) { source(id: $id) { id } }"
PUSH_ITEMS = """
mutation($id: String!, $items: [PushItemInput!]!) {
  pushBatch(sourceId: $id, items: $items) { applied }
}
"""


@pytest.mark.parametrize(
    "variables",
    [{}, {"id": None}, {"id": [1]}, {"id": {"nested": "x"}}, {"id": True}],
    ids=["missing", "null", "list", "object", "boolean"],
)
async def test_missing_or_wrongly_typed_variables(gq: Gq, variables: dict[str, Any]) -> None:
    error = await gq.error(SOURCE_BY_ID, **variables)
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "$id" in error["message"], error


async def test_a_wrongly_typed_mutation_variable_writes_nothing(
    gq: Gq, api: Api, source_id: str
) -> None:
    before = _snapshot(api, source_id)
    for items in ("a.md", [{"operationId": 7, "path": "n.md"}], [{"path": "n.md"}]):
        error = await gq.error(PUSH_ITEMS, id=source_id, items=items)
        assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "$items" in error["message"], error
    assert _snapshot(api, source_id) == before


async def test_a_mutation_over_get_is_refused_and_writes_nothing(
    live_server: LiveServer, api: Api, source_id: str
) -> None:
    before = _snapshot(api, source_id)
    params = {"query": PAUSE, "variables": json.dumps({"id": source_id})}
    response = _graphql(live_server, api, "GET", params=params)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert _coded(response) == {"code": "BAD_USER_INPUT", "reason": "METHOD_NOT_ALLOWED"}
    assert _snapshot(api, source_id) == before


async def test_a_batch_is_refused_whole(live_server: LiveServer, api: Api, source_id: str) -> None:
    before = _snapshot(api, source_id)
    batch = [
        {"query": PAUSE, "variables": {"id": source_id}},
        {"query": "{ sources { id } }"},
    ]
    response = _graphql(live_server, api, "POST", json=batch)
    assert response.status_code == 400
    assert "Batching is not enabled" in response.text
    assert _snapshot(api, source_id) == before


def _nested_list(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def _nested_object(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


PATTERNS = """
mutation($p: [String!]) {
  createSource(input: {name: "deep", mode: BIDIRECTIONAL, includePatterns: $p}) { id }
}
"""
ITEM = {"operationId": "deep", "path": "deep.md", "content": "deep\n"}


def _deep_cases(depth: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (PUSH_ITEMS, {"items": _nested_list(depth, ITEM)}),
        (PUSH_ITEMS, {"items": [{**ITEM, "operationId": _nested_object(depth)}]}),
        (PUSH_ITEMS, {"items": [{**ITEM, "content": _nested_list(depth, "x")}]}),
        (PATTERNS, {"p": _nested_list(depth, "**/*.md")}),
    ]


async def test_deeply_nested_variables_that_reach_the_schema(
    gq: Gq, ws_client: GqlFactory, api: Api, source_id: str
) -> None:
    """Nesting the request decoder lets through is refused by the schema, with a code."""
    depth = api.settings.max_json_depth - 8  # room for the envelope of an HTTP or WS message
    before = _snapshot(api, source_id)
    async with ws_client(auth_headers(api)) as ws:
        for session in (gq, ws):
            for document, variables in _deep_cases(depth):
                error = await session.error(document, id=source_id, **variables)
                assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert _snapshot(api, source_id) == before


async def test_variables_nested_deeper_than_any_decoder_allows(
    live_server: LiveServer, api: Api, source_id: str
) -> None:
    before = _snapshot(api, source_id)
    for depth in (api.settings.max_json_depth + 1, 5_000, 100_000):
        # Written out by hand: the json module itself gives up at this depth.
        items = "[" * depth + "]" * depth
        body = f'{{"query": {json.dumps(PUSH_ITEMS)}, "variables": {{"items": {items}}}}}'
        response = _graphql(live_server, api, "POST", "application/json", content=body)
        assert 400 <= response.status_code < 500, response.text
        _coded(response)
    assert _snapshot(api, source_id) == before


async def test_a_prefix_longer_than_any_path_is_a_client_error(gq: Gq, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("notes/a.md", "a"))
    document = (
        "query($s: ID!, $p: String!) { source(id: $s) { files(prefix: $p) { nodes { path } } } }"
    )
    error = await gq.error(document, s=source["id"], p="n" * 60_000)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_INPUT"}
    data = await gq.run(document, s=source["id"], p="notes/")
    assert data["source"]["files"]["nodes"] == [{"path": "notes/a.md"}]
