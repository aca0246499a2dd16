"""Helpers for connector tests: run the real CLI against a real server and real folders."""

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner, Result

from backend.app import create_app
from backend.settings import Settings
from connector.cli import main
from tests.conftest import LiveServer, make_settings
from tests.factories import Api

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Syncer:
    """Runs ``sync --once`` for folders of one workspace against one server URL."""

    url: str
    token: str
    workspace: str

    def args(self, folder: Path, *extra: str) -> list[str]:
        return [
            "sync",
            str(folder),
            "--server",
            self.url,
            "--token",
            self.token,
            "--workspace",
            self.workspace,
            "--source-name",
            "Notes",
            "--once",
            "--retries",
            "2",
            *extra,
        ]

    def once(self, folder: Path, *extra: str) -> Result:
        return CliRunner().invoke(main, self.args(folder, *extra), catch_exceptions=False)

    def subprocess(self, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "connector.cli", *self.args(folder, *extra)]
        return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture
def syncer(api: Api, live_server: LiveServer) -> Syncer:
    return Syncer(live_server.url, api.token, api.workspace)


def tree(folder: Path) -> dict[str, str]:
    """Every synced-looking file under ``folder`` (the state dir left out), as text."""
    out: dict[str, str] = {}
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(".localsync") or not path.is_file():
            continue
        out[rel] = path.read_text(encoding="utf-8")
    return out


def write(folder: Path, rel: str, text: str) -> None:
    target = folder / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def source_id(folder: Path) -> str:
    import json

    return str(json.loads((folder / ".localsync" / "config.json").read_text())["source_id"])


class PortServer(LiveServer):
    """A LiveServer on a chosen port, so a restarted server answers at the same URL."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.port = port
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)


@pytest.fixture
def own_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[int | None], LiveServer]]:
    """Start servers on the shared test database (optionally on a given port); stopped after."""
    servers: list[LiveServer] = []
    data_dir = tmp_path_factory.mktemp("own-server")
    secret_settings = make_settings(database_url, data_dir)

    def start(port: int | None = None) -> LiveServer:
        if port is None:
            server = LiveServer(secret_settings).start()
        else:
            server = PortServer(secret_settings, port).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.thread.is_alive():
            server.stop()


def env_without_localsync() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOCALSYNC_")}
