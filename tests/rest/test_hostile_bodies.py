"""Hostile bodies are refused before they cost memory: credentials from the headers
first, the size limit while reading, the JSON shape (values, depth) before any
object is built. Every refusal is a 4xx with a code, and nothing is written.

Raw sockets send exactly what an attacker would: headers promising a huge body,
then only a few bytes of it. A server that read the body first would never
answer; the socket timeout only bounds a hung test.
"""

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from backend.auth import mint_token
from tests.conftest import LiveServer
from tests.factories import PREFIX, Api, assert_error, upsert
from tests.graphql.conftest import auth_headers, check_error_shape, ws_url

MIB = 1024 * 1024
WAIT = 30.0
"""Bounds a hung test only: every read ends on an answer or a close."""

PUSH = PREFIX + "sources/push-batch"


class RawResponse:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines)}

    def json(self) -> Any:
        return json.loads(self.body)


def send_partial(
    server: LiveServer, path: str, headers: dict[str, str], declared: int, sent: bytes
) -> RawResponse:
    """POST headers declaring ``declared`` body bytes, send only ``sent``, and read
    the answer up to the server's close (which must come: the body never will)."""
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", f"Content-Length: {declared}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Content-Type: application/json", "", ""]
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall("\r\n".join(lines).encode() + sent)
        return RawResponse(_read_to_close(sock))


def _read_to_close(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _snapshot(api: Api, source_id: str) -> tuple[Any, ...]:
    """What a refused request must leave untouched: files, events, sources, connectors."""
    return (api.files(source_id), api.deltas(source_id), api.sources())


@pytest.fixture
def world(api: Api) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """A source with one file, and its state before the test's hostile requests."""
    source = api.source()
    api.push(source["id"], upsert("kept.md", "# Kept\n"))
    before = _snapshot(api, source["id"])
    yield source["id"], before
    assert _snapshot(api, source["id"]) == before, "a refused request changed the workspace"


# ---- credentials before the body ---------------------------------------------------


def _credentials(api: Api) -> dict[str, tuple[dict[str, str], int, str]]:
    other = mint_token(api.settings, ["ws-somebody-else"])
    return {
        "no token": ({"x-workspace-id": api.workspace}, 401, "UNAUTHENTICATED"),
        "forged": (
            {"Authorization": "Bearer abc.def.ghi", "x-workspace-id": api.workspace},
            401,
            "UNAUTHENTICATED",
        ),
        "no workspace": ({"Authorization": f"Bearer {api.token}"}, 400, "WORKSPACE_REQUIRED"),
        "not granted": (
            {"Authorization": f"Bearer {other}", "x-workspace-id": api.workspace},
            403,
            "FORBIDDEN",
        ),
    }


@pytest.mark.parametrize("case", ["no token", "forged", "no workspace", "not granted"])
def test_rest_refuses_bad_credentials_without_reading_the_body(
    live_server: LiveServer, api: Api, world: Any, case: str
) -> None:
    headers, status, code = _credentials(api)[case]
    response = send_partial(live_server, PUSH, headers, 64 * MIB, b'{"items": [')
    assert response.status == status
    assert response.headers["connection"] == "close"
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("case", "code"),
    [("no token", "UNAUTHENTICATED"), ("forged", "UNAUTHENTICATED"), ("not granted", "FORBIDDEN")],
)
def test_graphql_refuses_bad_credentials_without_reading_the_body(
    live_server: LiveServer, api: Api, world: Any, case: str, code: str
) -> None:
    headers, _, _ = _credentials(api)[case]
    response = send_partial(live_server, "/graphql", headers, 64 * MIB, b'{"query": "')
    assert response.headers["connection"] == "close"
    result = response.json()
    assert result["data"] is None
    [error] = result["errors"]
    check_error_shape(error)
    assert error["extensions"]["code"] == code


def test_each_request_acts_as_its_own_principal(api: Api, other_api: Api, world: Any) -> None:
    """The principal verified at the edge is the request's own, even when two tenants
    take turns on one keep-alive connection."""
    source_id, _ = world
    other = other_api.source()
    with httpx.Client(base_url=str(api.http.base_url)) as shared:
        for _ in range(3):
            mine = shared.post(PREFIX + "sources/list", json={}, headers=api.headers)
            theirs = shared.post(PREFIX + "sources/list", json={}, headers=other_api.headers)
            assert [s["id"] for s in mine.json()] == [source_id]
            assert [s["id"] for s in theirs.json()] == [other["id"]]


def test_graphiql_and_health_stay_open(live_server: LiveServer) -> None:
    assert httpx.get(live_server.url + "/healthz").status_code == 200
    page = httpx.get(live_server.url + "/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


# ---- JSON shape: values and depth ----------------------------------------------------


def _empties(size: int, item: bytes) -> bytes:
    """``{"sourceId": ..., "items": [item, item, ...]}`` of about ``size`` bytes."""
    count = size // (len(item) + 1)
    return b'{"sourceId": "s", "items": [' + b",".join([item] * count) + b"]}"


@pytest.mark.parametrize("item", [b"{}", b"[]"], ids=["empty-objects", "empty-arrays"])
def test_sixty_mib_of_empty_items_is_refused(
    live_server: LiveServer, api: Api, world: Any, item: bytes
) -> None:
    source_id, _ = world
    body = _empties(60 * MIB, item).replace(b'"s"', json.dumps(source_id).encode())
    response = api.raw("sources/push-batch", body)
    assert_error(response, 413, "JSON_TOO_COMPLEX")
    assert httpx.get(live_server.url + "/healthz").status_code == 200


def test_the_value_limit_is_exact(start_server: Any) -> None:
    server = start_server(max_json_values=50)
    with Api(server.url, server.settings, "ws-values") as api:
        source = api.source()
        head = b'{"sourceId": "%s", "extra": [' % source["id"].encode()
        at_limit = head + b",".join([b"1"] * 47) + b"]}"  # object, id, list, 47 numbers
        assert api.raw("sources/deltas", at_limit).status_code == 200
        over = head + b",".join([b"1"] * 48) + b"]}"
        assert_error(api.raw("sources/deltas", over), 413, "JSON_TOO_COMPLEX")


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_rest_nesting_past_the_limit_is_refused(api: Api, world: Any) -> None:
    source_id, _ = world
    limit = api.settings.max_json_depth
    fits = {"sourceId": source_id, "cursor": 0, "extra": _nested(limit - 1)}
    assert api.post("sources/deltas", fits).status_code == 200
    too_deep = {**fits, "extra": _nested(limit)}
    response = api.post("sources/deltas", too_deep)
    assert_error(response, 400, "MALFORMED_JSON")
    assert "nested deeper" in response.json()["error"]["message"]


def _graphql(server: LiveServer, api: Api, body: bytes) -> httpx.Response:
    headers = {**auth_headers(api), "content-type": "application/json"}
    return httpx.post(server.url + "/graphql", content=body, headers=headers, timeout=WAIT)


def test_graphql_variables_nested_past_the_limit(
    live_server: LiveServer, api: Api, world: Any
) -> None:
    query = "query($v: String) { sources { id } }"
    # json.dumps cannot write this deep: build the text by hand
    deep = "[" * 100_000 + '"x"' + "]" * 100_000
    body = json.dumps({"query": query, "variables": {"v": "PLACEHOLDER"}})
    response = _graphql(live_server, api, body.replace('"PLACEHOLDER"', deep).encode())
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    check_error_shape(error)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "MALFORMED_JSON"}


def test_graphql_variables_with_too_many_values(
    live_server: LiveServer, api: Api, world: Any
) -> None:
    """GraphQL holds fewer values than REST: it checks each one on the event loop."""
    limit = api.settings.graphql_max_json_values
    assert limit < api.settings.max_json_values

    def body(numbers: int) -> bytes:
        query = "query($v: [Int]) { sources { id } }"
        text = json.dumps({"query": query, "variables": {"v": "PLACEHOLDER"}})
        return text.replace('"PLACEHOLDER"', "[" + ",".join(["1"] * numbers) + "]").encode()

    # the object, the query, the variables object, the list: four values besides the numbers
    assert _graphql(live_server, api, body(limit - 4)).status_code == 200
    response = _graphql(live_server, api, body(limit - 3))
    assert response.status_code == 413, response.text
    [error] = response.json()["errors"]
    check_error_shape(error)
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "reason": "JSON_TOO_COMPLEX"}
    assert httpx.get(live_server.url + "/healthz").status_code == 200


def test_graphql_over_http_still_decodes_ordinary_bodies(
    live_server: LiveServer, api: Api, world: Any
) -> None:
    source_id, _ = world
    big = "x" * (api.settings.json_offload_bytes * 2)  # decoded on a worker thread
    query = "query($s: ID!) { source(id: $s) { id } }"
    body = {"query": query, "variables": {"s": source_id}, "extensions": {"pad": big}}
    response = _graphql(live_server, api, json.dumps(body).encode())
    assert response.json() == {"data": {"source": {"id": source_id}}}
    response = _graphql(live_server, api, b'{"query": ')
    assert response.status_code == 400


PROTOCOL = Subprotocol("graphql-transport-ws")


async def test_websocket_message_nested_past_the_limit_closes_4400(
    live_server: LiveServer, api: Api
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    async with connect(ws_url(live_server), subprotocols=[PROTOCOL], max_size=None) as ws:
        init = {"type": "connection_init", "payload": auth_headers(api)}
        await ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "connection_ack"
        query = 'subscription { sourceEvents(sourceId: "s") { cursor } }'
        message = {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {}}}
        text = json.dumps(message).replace("{}}}", '{"v": ' + deep + "}}}")
        await ws.send(text)
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
    close = info.value.rcvd
    assert close is not None and close.code == 4400, close


# ---- size, while reading -------------------------------------------------------------


def test_chunked_body_over_the_limit_is_cut_off(start_server: Any) -> None:
    server = start_server(max_request_bytes=MIB)
    with Api(server.url, server.settings, "ws-chunked") as api:
        source = api.source()
        before = _snapshot(api, source["id"])
        sent = 0

        def chunks() -> Iterator[bytes]:
            nonlocal sent
            yield b'{"sourceId": "%s", "items": [' % source["id"].encode()
            item = json.dumps(upsert("big.md", "x" * 60_000)).encode()
            while sent < 4 * MIB:
                sent += len(item) + 1
                yield item + b","

        try:
            response = api.raw("sources/push-batch", chunks())
        except httpx.TransportError:
            pytest.fail("the server dropped the connection instead of answering 413")
        assert "content-length" not in response.request.headers
        assert_error(response, 413, "REQUEST_TOO_LARGE")
        assert _snapshot(api, source["id"]) == before


def test_declared_length_over_the_limit_is_refused_unread(
    live_server: LiveServer, api: Api, world: Any
) -> None:
    declared = api.settings.max_request_bytes + 1
    response = send_partial(live_server, PUSH, api.headers, declared, b"{")
    assert response.status == 413
    assert response.json()["error"]["code"] == "REQUEST_TOO_LARGE"


# ---- GraphQL documents: read on the event loop, so bounded ----------------------------


def test_a_huge_graphql_literal_is_refused_before_it_is_read(
    live_server: LiveServer, api: Api, world: Any
) -> None:
    literal = "x" * (api.settings.graphql_max_document_bytes + 1)
    query = 'mutation { registerConnector(name: "%s", platform: "linux", version: "1") { id } }'
    body = json.dumps({"query": query % literal}).encode()
    response = _graphql(live_server, api, body)
    assert response.status_code == 413, response.text
    [error] = response.json()["errors"]
    check_error_shape(error)
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "reason": "DOCUMENT_TOO_LARGE"}


async def test_a_huge_graphql_document_over_websocket_closes_4400(
    live_server: LiveServer, api: Api
) -> None:
    padding = " " * api.settings.graphql_max_document_bytes
    query = 'subscription { sourceEvents(sourceId: "s") { cursor } }' + padding
    async with connect(ws_url(live_server), subprotocols=[PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": auth_headers(api)}))
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
    close = info.value.rcvd
    assert close is not None and close.code == 4400, close
