"""Connections time out: slow headers are closed, a stalled body answers 408, idle
keep-alive connections end, and oversized heads and WebSocket messages are refused.

Each test starts a server with small limits and waits for the server's answer or
close on a raw socket; the socket timeout only bounds a hung test.
"""

import asyncio
import contextlib
import json
import socket
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from backend.serving import GuardedHttpProtocol, uvicorn_config
from tests.conftest import LiveServer
from tests.factories import PREFIX, Api, upsert
from tests.graphql.conftest import auth_headers, ws_url
from tests.rest.test_hostile_bodies import RawResponse, _read_to_close

WAIT = 30.0
"""Bounds a hung test only."""


def _connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)


def test_headers_that_never_complete_are_closed(start_server: Any) -> None:
    server = start_server(header_timeout_seconds=0.5)
    with _connect(server) as sock:
        sock.sendall(b"POST /api/local-sync/sources/list HTTP/1.1\r\nHost: localhost\r\nX-Slo")
        assert _read_to_close(sock) == b""


def test_a_connection_that_sends_nothing_is_closed(start_server: Any) -> None:
    server = start_server(header_timeout_seconds=0.5)
    with _connect(server) as sock:
        assert sock.recv(1) == b""


def test_headers_in_time_are_served_on_the_same_server(start_server: Any) -> None:
    server = start_server(header_timeout_seconds=0.5)
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        response = RawResponse(_read_to_close(sock))
    assert (response.status, response.json()) == (200, {"status": "ok"})


def test_a_stalled_body_answers_408_and_closes(start_server: Any) -> None:
    server = start_server(body_timeout_seconds=0.5)
    with Api(server.url, server.settings, "ws-slow-body") as api:
        source = api.source()
        head = [
            f"POST {PREFIX}sources/push-batch HTTP/1.1",
            "Host: localhost",
            "Content-Type: application/json",
            "Content-Length: 1000",
            *(f"{name}: {value}" for name, value in api.headers.items()),
            "",
            "",
        ]
        with _connect(server) as sock:
            sock.sendall("\r\n".join(head).encode() + b'{"sourceId": ')
            response = RawResponse(_read_to_close(sock))
        assert response.status == 408
        assert response.headers["connection"] == "close"
        assert response.json()["error"]["code"] == "REQUEST_TIMEOUT"
        assert api.files(source["id"]) == [] and api.deltas(source["id"]) == []


def test_an_idle_keep_alive_connection_is_closed(start_server: Any) -> None:
    server = start_server(keep_alive_seconds=1)
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        assert _read_to_close(sock) == b""


def test_headers_over_the_size_limit_answer_431(start_server: Any) -> None:
    server = start_server(max_header_bytes=8 * 1024)
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        sock.sendall(b"X-Padding: " + b"a" * 16 * 1024 + b"\r\n")
        response = RawResponse(_read_to_close(sock))
    assert response.status == 431


async def test_a_websocket_message_over_the_limit_is_refused(start_server: Any, api: Api) -> None:
    server = start_server(ws_max_message_bytes=4096)
    init = {"type": "connection_init", "payload": {**auth_headers(api), "pad": "x" * 8192}}
    protocols = [Subprotocol("graphql-transport-ws")]
    async with connect(ws_url(server), subprotocols=protocols) as ws:
        await ws.send(json.dumps(init))
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
    close = info.value.rcvd
    assert close is not None and close.code == 1009, close


def test_serve_and_the_tests_share_one_configuration(live_server: LiveServer) -> None:
    settings = live_server.settings.model_copy(
        update={"keep_alive_seconds": 7, "ws_max_message_bytes": 1234, "header_timeout_seconds": 3}
    )
    config = uvicorn_config(live_server.app, settings, "127.0.0.1", 0)
    config.load()
    assert config.http_protocol_class is GuardedHttpProtocol
    assert (config.timeout_keep_alive, config.ws_max_size) == (7, 1234)
    assert config.header_timeout == 3
    assert isinstance(live_server.server.config.http_protocol_class, type)
    assert live_server.server.config.http_protocol_class is GuardedHttpProtocol


def test_stray_bytes_after_a_response_do_not_keep_a_connection_open(start_server: Any) -> None:
    server = start_server(header_timeout_seconds=0.5, keep_alive_seconds=60)
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(b"\r\n")  # not a request: must not stop every clock
        assert _read_to_close(sock) == b""


async def _closed_by_server(server: LiveServer) -> None:
    """Open a connection that sends nothing and wait for the server to close it: its
    header clock, started now, has then run out."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        assert await asyncio.wait_for(reader.read(1), WAIT) == b""
    finally:
        writer.close()


async def test_a_websocket_outlives_the_header_timeout(start_server: Any, api: Api) -> None:
    """The header clock of the request that upgraded must not close the socket later.

    When to push is decided by observing the server: a connection opened after the
    upgrade, that sends nothing, is closed by the server once a header clock started
    after the upgrade's has run out, twice over.
    """
    server = start_server(header_timeout_seconds=0.5)
    with Api(server.url, server.settings, api.workspace) as client:
        source_id = client.source()["id"]
        subscribe = {
            "id": "1",
            "type": "subscribe",
            "payload": {
                "query": "subscription($s: String!) { sourceEvents(sourceId: $s, after: 0)"
                " { cursor } }",
                "variables": {"s": source_id},
            },
        }
        protocols = [Subprotocol("graphql-transport-ws")]
        async with connect(ws_url(server), subprotocols=protocols, ping_interval=None) as ws:
            init = {"type": "connection_init", "payload": auth_headers(client)}
            await ws.send(json.dumps(init))
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "connection_ack"
            await ws.send(json.dumps(subscribe))
            for cursor in (1, 2):
                await _closed_by_server(server)
                await asyncio.to_thread(client.push, source_id, upsert(f"{cursor}.md", "x\n"))
                message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                assert message["type"] == "next", message
                assert message["payload"]["data"]["sourceEvents"]["cursor"] == cursor


def test_a_whole_head_over_the_size_limit_in_one_read_answers_431(start_server: Any) -> None:
    server = start_server(max_header_bytes=8 * 1024)
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 16 * 1024
    with _connect(server) as sock:
        sock.sendall(head + b"\r\nConnection: close\r\n\r\n")
        response = RawResponse(_read_to_close(sock))
    assert response.status == 431


def test_a_long_url_over_the_size_limit_answers_431(start_server: Any) -> None:
    server = start_server(max_header_bytes=8 * 1024)
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz?" + b"a" * 16 * 1024 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
        response = RawResponse(_read_to_close(sock))
    assert response.status == 431


def test_a_head_within_the_limit_is_served(start_server: Any) -> None:
    server = start_server(max_header_bytes=8 * 1024)
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 6 * 1024
    with _connect(server) as sock:
        sock.sendall(head + b"\r\nConnection: close\r\n\r\n")
        response = RawResponse(_read_to_close(sock))
    assert response.status == 200


def _read_response(sock: socket.socket) -> tuple[RawResponse, bytes]:
    """One response with a Content-Length body, and whatever bytes came after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response head: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(RawResponse(head + b"\r\n\r\n").headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed inside a response body"
        rest += chunk
    return RawResponse(head + b"\r\n\r\n" + rest[:length]), rest[length:]


def _rest_until_close(sock: socket.socket, after: bytes) -> bytes:
    try:
        return after + _read_to_close(sock)
    except ConnectionResetError:
        return after


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/nowhere"), ("PUT", "/healthz"), ("POST", PREFIX[:-1])]
)
def test_a_body_left_unread_by_an_early_response_closes_the_connection(
    start_server: Any, method: str, path: str
) -> None:
    """A response given before its body arrived (404, 405, redirect) ends the connection:
    the body sent afterwards is never read as a request head (no 431 after it)."""
    server = start_server(max_header_bytes=8 * 1024, header_timeout_seconds=30)
    body = b"x" * 32 * 1024
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n\r\n"
    with _connect(server) as sock:
        sock.sendall(head.encode())
        response, after = _read_response(sock)
        assert response.status in (307, 404, 405)
        assert response.headers.get("connection") == "close"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(body)  # the server may have closed first, as it should
        assert _rest_until_close(sock, after) == b""
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert RawResponse(_read_to_close(sock)).status == 200


def test_a_body_read_by_the_app_keeps_the_connection_alive(start_server: Any, api: Api) -> None:
    """The request that follows a fully read body is served on the same connection."""
    server = start_server(header_timeout_seconds=30)
    body = json.dumps({}).encode()
    head = (
        f"POST {PREFIX}sources/list HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in api.headers.items())
        + "\r\n"
    )
    with _connect(server) as sock:
        sock.sendall(head.encode())
        sock.sendall(body)
        first, after = _read_response(sock)
        assert first.status == 200 and first.headers.get("connection") != "close"
        assert after == b""
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert RawResponse(_read_to_close(sock)).status == 200
