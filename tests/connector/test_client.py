"""The connector's REST transport: kept-alive connections, and one the server closed."""

import http.client
import select
import socket
from collections.abc import Callable

from connector.client import Backoff, Client
from tests.conftest import LiveServer
from tests.connector.conftest import eventually
from tests.factories import Api


def _closed_by_peer(sock: socket.socket | None) -> bool:
    if sock is None:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""


def test_a_connection_the_server_closed_while_idle_is_replaced_at_once(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    server = start_server(keep_alive_seconds=1)
    # One attempt only: without the immediate reconnect the second call would fail.
    client = Client(server.url, api.token, api.workspace, Backoff(attempts=1), timeout=10)
    try:
        assert client.sources() == []
        conn = client.http.conn
        assert conn is not None
        eventually(lambda: _closed_by_peer(conn.sock), "the server closing the idle connection")
        assert client.sources() == []
        assert client.http.conn is not None and client.http.conn is not conn
    finally:
        client.close()


def test_plain_http_sets_up_no_tls(live_server: LiveServer, api: Api) -> None:
    client = Client(live_server.url, api.token, api.workspace)
    try:
        client.sources()
        assert type(client.http.conn) is http.client.HTTPConnection  # not HTTPSConnection
    finally:
        client.close()
