"""Shared fixtures: a real database per backend, a real uvicorn server, a fresh workspace per test.

Every test gets its own workspace id, so tests sharing one server and database
never see each other's data, which is itself the isolation rule at work.
"""

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from backend.app import create_app
from backend.serving import uvicorn_config
from backend.settings import Settings
from tests.factories import Api

PG_ENV = "LOCALSYNC_TEST_DATABASE_URL"

# CI replays the same examples every run (a red CI must be reproducible); local
# runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get(PG_ENV) else [])


class LiveServer:
    """A uvicorn server on a free loopback port, in a thread of the test process, with
    the connection limits ``localsync serve`` has (``backend.serving.uvicorn_config``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.port = _free_port()
        config = uvicorn_config(self.app, settings, "127.0.0.1", self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_pg_database(prefix: str = "localsync_test") -> Iterator[str]:
    """A new, empty PostgreSQL database beside the test one; dropped (forcefully) afterwards."""
    base = make_url(os.environ[PG_ENV])
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, dropped at the end."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_database")
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'localsync.db'}"


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "jwt_secret": "test-secret-" + "x" * 32,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings).start()
    yield server
    server.stop()


@pytest.fixture
def workspace() -> str:
    return f"ws-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def api(live_server: LiveServer, workspace: str) -> Iterator[Api]:
    with Api(live_server.url, live_server.settings, workspace) as client:
        yield client


@pytest.fixture
def other_api(live_server: LiveServer) -> Iterator[Api]:
    """A second tenant on the same server, for isolation tests."""
    with Api(live_server.url, live_server.settings, f"ws-{uuid.uuid4().hex[:12]}") as client:
        yield client


@pytest.fixture
def start_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LiveServer]]:
    """Start extra servers on this backend's database with settings overrides.

    They share the database with ``live_server`` (as several processes of one
    deployment would) and are stopped when the test ends.
    """
    servers: list[LiveServer] = []

    def start(**overrides: object) -> LiveServer:
        data_dir = overrides.pop("data_dir", None) or tmp_path_factory.mktemp("server")
        settings = make_settings(database_url, Path(str(data_dir)), **overrides)
        server = LiveServer(settings).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def db_engine(settings: Settings) -> Iterator[Engine]:
    """A direct connection to the test database, for checks the API cannot show (blob rows)."""
    engine = create_engine(settings.resolved_database_url())
    yield engine
    engine.dispose()
