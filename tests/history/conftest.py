"""A database of its own per test, for tests that plant breaches or replace the database."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from backend.cli import main
from backend.settings import Settings
from tests.conftest import LiveServer, fresh_pg_database, make_settings
from tests.factories import Api
from tests.graphql.conftest import gq, gql_client, other_gq  # noqa: F401  (shared fixtures)


@pytest.fixture
def own_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the session's backend."""
    if database_url.startswith("postgresql"):
        with fresh_pg_database("localsync_history") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'own.db'}"


@pytest.fixture
def own_settings(own_database: str, tmp_path: Path) -> Settings:
    return make_settings(own_database, tmp_path / "data")


@pytest.fixture
def own_server(own_settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(own_settings).start()
    yield server
    server.stop()


@pytest.fixture
def own_api(own_server: LiveServer) -> Iterator[Api]:
    with Api(own_server.url, own_server.settings, f"ws-{uuid.uuid4().hex[:12]}") as client:
        yield client


@pytest.fixture
def own_engine(own_database: str) -> Iterator[Engine]:
    engine = create_engine(own_database)
    yield engine
    engine.dispose()


@pytest.fixture
def localsync() -> Callable[..., Result]:
    """Run a ``localsync`` command in-process, as an operator would from a shell."""
    runner = CliRunner()

    def run(*args: str, database_url: str, **kwargs: Any) -> Result:
        return runner.invoke(main, [*args, "--database-url", database_url], **kwargs)

    return run
