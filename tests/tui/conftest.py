"""Fixtures for the terminal app: a client on the test workspace and ready-made data."""

import socket
from collections.abc import Iterator
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


def three_region_conflict(api: Api, source_id: str, path: str = PATH) -> dict[str, Any]:
    """Base with three separated paragraphs; both sides rewrite all three differently."""
    api.push(source_id, upsert(path, BASE))
    result = api.push(source_id, upsert(path, LOCAL, base=sha(BASE)))["results"][0]
    assert result["status"] == "applied", result
    edit = api.update(source_id, path, RAVEN, base=sha(BASE))
    assert edit["status"] == "conflict", edit
    return {"id": edit["conflictId"], "path": path}
