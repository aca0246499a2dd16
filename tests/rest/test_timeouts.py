"""Connections time out: slow headers are closed, a stalled body answers 408, idle
keep-alive connections end, and oversized heads and WebSocket messages are refused.

Each test starts a server with small limits and waits for the server's answer or
close on a raw socket; the socket timeout only bounds a hung test.
"""

import asyncio
import json
import socket
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from backend.serving import GuardedHttpProtocol, uvicorn_config
from tests.conftest import LiveServer
from tests.factories import PREFIX, Api
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
