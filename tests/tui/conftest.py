"""Fixtures for the terminal app: a client on the test workspace and ready-made data."""

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from textual.app import App

from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient

PATH = "notes/plan.md"
BASE = "# Plan\n\nalpha one\n\nmiddle text\n\nbeta two\n\nmore middle\n\ngamma three\n"
LOCAL = "# Plan\n\nalpha LOCAL\n\nmiddle text\n\nbeta LOCAL\n\nmore middle\n\ngamma LOCAL\n"
RAVEN = "# Plan\n\nalpha RAVEN\n\nmiddle text\n\nbeta RAVEN\n\nmore middle\n\ngamma RAVEN\n"


@pytest.fixture
def client(live_server: LiveServer, api: Api) -> LocalSyncClient:
    return LocalSyncClient(live_server.url, api.token, api.workspace)


@pytest.fixture
def make_app(client: LocalSyncClient) -> Iterator[Any]:
    def make(c: LocalSyncClient | None = None) -> App[None]:
        return LocalSyncApp(c or client)

    yield make


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound, never listening: connects are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _BadGateway(BaseHTTPRequestHandler):
    """Answers every POST as a reverse proxy does when the server behind it is down."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<html><body>502 Bad Gateway</body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is no place for an access log."""


@pytest.fixture
def bad_gateway() -> Iterator[str]:
    """The URL of a real HTTP server that answers 502, like a proxy that lost its upstream.

    The test server never answers a 5xx on purpose, so this stands in for the
    proxy a deployment may put in front of it.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BadGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def three_region_conflict(api: Api, source_id: str, path: str = PATH) -> dict[str, Any]:
    """Base with three separated paragraphs; both sides rewrite all three differently."""
    api.push(source_id, upsert(path, BASE))
    result = api.push(source_id, upsert(path, LOCAL, base=sha(BASE)))["results"][0]
    assert result["status"] == "applied", result
    edit = api.update(source_id, path, RAVEN, base=sha(BASE))
    assert edit["status"] == "conflict", edit
    return {"id": edit["conflictId"], "path": path}
