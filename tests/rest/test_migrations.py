"""Concurrent first start: servers started together on an empty database all come up.

Each server upgrades the schema as it starts. Started at once on an empty
database, they must take turns (PostgreSQL: an advisory lock; SQLite: the file
lock of ``BEGIN IMMEDIATE``) instead of racing to create the same tables.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.conftest import fresh_pg_database

SERVERS = 3
ROUNDS = 2
START_DEADLINE_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Make empty databases on this test's backend; PostgreSQL ones are dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield lambda: f"sqlite:///{tmp_path / f'first-start-{uuid.uuid4().hex[:8]}.db'}"
        return
    with ExitStack() as databases:
        yield lambda: databases.enter_context(fresh_pg_database("localsync_first_start"))


class Server:
    """One ``localsync serve`` process; its output goes to a file, read when it fails."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.port = _free_port()
        self.log_path = data_dir / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALSYNC_")}
        env["LOCALSYNC_DATA_DIR"] = str(data_dir)
        env["LOCALSYNC_JWT_SECRET"] = "first-start-" + "x" * 32
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backend.cli",
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                database_url,
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
        except httpx.TransportError:
            return False
        return response.status_code == 200

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _start_together(database_url: str, tmp_path: Path) -> None:
    """Start ``SERVERS`` servers at once; each must answer /healthz, none may exit."""
    servers = []
    for i in range(SERVERS):
        data_dir = tmp_path / f"server-{uuid.uuid4().hex[:8]}-{i}"
        data_dir.mkdir()
        servers.append(Server(database_url, data_dir))
    try:
        waiting = list(servers)
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while waiting and time.monotonic() < deadline:
            exited = [s for s in waiting if s.process.poll() is not None]
            assert not exited, "a server exited on first start:\n" + exited[0].output()
            waiting = [s for s in waiting if not s.healthy()]
            if waiting:
                time.sleep(0.1)  # polling the servers' state, not waiting for an outcome
        assert not waiting, "a server never answered /healthz:\n" + waiting[0].output()
        assert all(s.process.poll() is None for s in servers)
    finally:
        for server in servers:
            server.stop()


@pytest.mark.slow
def test_servers_started_together_on_an_empty_database_all_come_up(
    empty_database: Callable[[], str], tmp_path: Path
) -> None:
    for _ in range(ROUNDS):
        _start_together(empty_database(), tmp_path)
