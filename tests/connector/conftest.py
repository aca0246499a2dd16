"""Helpers for connector tests: run the real CLI against a real server and real folders."""

import os
import signal
import subprocess
import sys
import threading
import time
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

    def subprocess(
        self, folder: Path, *extra: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``sync --once`` in its own process; ``env`` is added to this process's environment."""
        cmd = [sys.executable, "-m", "connector.cli", *self.args(folder, *extra)]
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, timeout=120, env=full_env
        )

    def daemon(self, folder: Path, *extra: str) -> "Daemon":
        """Continuous ``sync`` (no ``--once``) of ``folder`` in its own process."""
        args = [a for a in self.args(folder, *extra) if a != "--once"]
        return Daemon(folder, args)


class Daemon:
    """A continuous ``sync`` subprocess; its log goes to a file beside the folder.

    Use as a context manager: on exit it is stopped with SIGINT if still running.
    """

    def __init__(self, folder: Path, args: list[str]) -> None:
        self.log_path = folder.parent / f"{folder.name}-daemon.log"
        with self.log_path.open("w") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "connector.cli", *args],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                text=True,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Send ``sig`` and wait for the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)

    def __enter__(self) -> "Daemon":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.stop()


def eventually(check: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Poll until ``check`` holds; the limit only bounds a hung test, it asserts no timing."""
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


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
