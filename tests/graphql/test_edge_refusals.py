"""What reaches GraphQL from the edge: no operation over GET, introspection priced,
lone surrogate escapes answered, and nothing large decoded before ``connection_init``.

Raw HTTP (``httpx``) and a plain WebSocket client send exactly what a hostile or
careless client would; every wait ends on an answer or a close.
"""

import asyncio
import json
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.conftest import LiveServer
from tests.factories import Api
from tests.graphql.conftest import Gq, auth_headers, check_error_shape, ws_url

PROTOCOL = Subprotocol("graphql-transport-ws")
WAIT = 30.0
"""Bounds a hung test only."""

SCHEMA = "__schema { types { name fields { name args { name type { name } } } } }"


def _aliased_schemas(count: int) -> str:
    return "{ " + " ".join(f"s{i}: {SCHEMA}" for i in range(count)) + " }"


def _post(server: LiveServer, api: Api, body: bytes) -> httpx.Response:
    headers = {**auth_headers(api), "content-type": "application/json"}
    response = httpx.post(server.url + "/graphql", content=body, headers=headers, timeout=WAIT)
    assert response.status_code < 500, response.text
    return response


def _only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    check_error_shape(error)
    assert isinstance(error, dict)
    return error


# ---- GET serves the GraphiQL page only -------------------------------------------


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "authenticated"])
def test_no_operation_runs_over_get(live_server: LiveServer, api: Api, authenticated: bool) -> None:
    headers = auth_headers(api) if authenticated else {}
    for query in (_aliased_schemas(30), "{ sources { id } }", "{ __typename }"):
        response = httpx.get(
            live_server.url + "/graphql", params={"query": query}, headers=headers, timeout=WAIT
        )
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == "POST"
        error = _only_error(response)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "METHOD_NOT_ALLOWED"}
        assert "POST" in error["message"]


def test_the_graphiql_page_stays_on_get(live_server: LiveServer) -> None:
    page = httpx.get(live_server.url + "/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


# ---- introspection is priced -----------------------------------------------------


async def test_one_introspection_is_within_budget(gq: Gq) -> None:
    """What GraphiQL and gql's schema fetch send: one ``__schema``."""
    result = await gq.run(get_introspection_query(descriptions=True))
    assert result["__schema"]["queryType"]["name"] == "Query"


async def test_aliased_introspection_is_refused_before_it_runs(gq: Gq) -> None:
    error = await gq.error(_aliased_schemas(30))
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
    types = " ".join(f't{i}: __type(name: "Query") {{ name }}' for i in range(30))
    error = await gq.error("{ " + types + " }")
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error


# ---- lone surrogate escapes --------------------------------------------------------

LONE = "\\ud800"
"""A JSON escape of half a surrogate pair: valid JSON, not encodable as UTF-8."""


def _syntax_error(error: dict[str, Any]) -> None:
    """GraphQL's lexer refuses the character, and says so."""
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}, error
    assert error["message"].startswith("Syntax Error: Invalid character"), error
    assert "U+D800" in error["message"], error


def test_a_lone_surrogate_in_a_document_over_http(live_server: LiveServer, api: Api) -> None:
    """Answered as the syntax error it is, not as a body that is not JSON."""
    for query in ("{ sources { id } } # " + LONE, '{ source(id: \\"' + LONE + '\\") { id } }'):
        response = _post(live_server, api, ('{"query": "' + query + '"}').encode())
        assert response.status_code == 200, response.text
        _syntax_error(_only_error(response))


async def _acknowledged(server: LiveServer, api: Api) -> ClientConnection:
    ws = await connect(ws_url(server), subprotocols=[PROTOCOL])
    await ws.send(json.dumps({"type": "connection_init", "payload": auth_headers(api)}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert ack["type"] == "connection_ack", ack
    return ws


async def test_a_lone_surrogate_in_a_subscribe_message(live_server: LiveServer, api: Api) -> None:
    """The operation gets a coded error; the socket stays open for the next one."""
    source_id = api.source()["id"]
    query = 'subscription { sourceEvents(sourceId: \\"' + LONE + '\\") { cursor } }'
    message = '{"id": "1", "type": "subscribe", "payload": {"query": "' + query + '"}}'
    ws = await _acknowledged(live_server, api)
    try:
        await ws.send(message)
        answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert (answer["id"], answer["type"]) == ("1", "error"), answer
        [error] = answer["payload"]
        check_error_shape(error)
        _syntax_error(error)
        ok = {"query": "query($s: ID!) { source(id: $s) { id } }", "variables": {"s": source_id}}
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": ok}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert answer["type"] == "next", answer
        assert answer["payload"]["data"]["source"]["id"] == source_id
    finally:
        await ws.close()


# ---- nothing large before connection_init ----------------------------------------


async def test_a_large_message_before_connection_init_closes_4400(
    live_server: LiveServer, api: Api
) -> None:
    padded = {"type": "connection_init", "payload": {**auth_headers(api), "pad": "x" * 64 * 1024}}
    async with connect(ws_url(live_server), subprotocols=[PROTOCOL]) as ws:
        await ws.send(json.dumps(padded))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400, closed.value


async def test_a_large_message_after_connection_init_is_read(
    live_server: LiveServer, api: Api
) -> None:
    """Once admitted, a message is held to ws_max_message_bytes only."""
    source_id = api.source()["id"]
    query = "query($s: ID!) { source(id: $s) { id } }"
    variables = {"s": source_id, "unused": "x" * 64 * 1024}
    ws = await _acknowledged(live_server, api)
    try:
        payload = {"query": query, "variables": variables}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert answer["type"] == "next", answer
    finally:
        await ws.close()
