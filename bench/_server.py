"""Shared helpers for benchmarks: a real ``localsync serve`` subprocess and an API client.

Benchmarks import this module as ``_server`` (the script's own directory is on
``sys.path`` when run as ``.venv/bin/python bench/<name>.py``).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
PREFIX = "/api/local-sync/"
BENCH_SECRET = "bench-secret-" + "x" * 40


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays one clean JSON object."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _localsync_bin() -> Path:
    """The ``localsync`` entry point of the venv running this script, else the repo's."""
    candidate = Path(sys.executable).parent / "localsync"
    return candidate if candidate.exists() else REPO / ".venv" / "bin" / "localsync"


def database_kind(database_url: str | None) -> str:
    if database_url is None or database_url.startswith("sqlite"):
        return "sqlite"
    if database_url.startswith("postgresql"):
        return "postgresql"
    return database_url.split(":", 1)[0]


@contextlib.contextmanager
def fresh_postgres_database(base_url: str, prefix: str = "localsync_bench") -> Iterator[str]:
    """A new, empty database next to ``base_url``'s; dropped (forcefully) afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        log(f"created database {name}")
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            log(f"dropped database {name}")
    finally:
        admin.dispose()


def process_cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of one live process (Linux ``/proc``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def child_pids(parent: int) -> list[int]:
    """Live children of ``parent`` (``serve --workers`` runs its workers as children)."""
    children: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == parent:  # ppid (field 4)
            children.append(int(stat.parent.name))
    return children


class ServerProcess:
    """``localsync serve`` on a free loopback port, in its own process and data dir.

    Use as a context manager; the server is stopped (SIGINT, then SIGKILL) on exit.
    """

    def __init__(
        self,
        database_url: str | None = None,
        secret: str = BENCH_SECRET,
        log_level: str = "warning",
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
    ) -> None:
        self.workers = workers
        self.database_url = database_url
        self.secret = secret
        self.log_level = log_level
        self.extra_env = extra_env or {}
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="localsync-bench-")
        self.data_dir = Path(self._tmp.name) / "data"
        self.log_path = Path(self._tmp.name) / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> Any:
        """Settings sharing the server's secret (for ``mint_token``)."""
        from backend.settings import Settings

        return Settings(data_dir=self.data_dir, jwt_secret=self.secret)

    def token(self, workspaces: list[str], user: str = "bench") -> str:
        from backend.auth import mint_token

        return mint_token(self.settings(), workspaces, user=user)

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        env = {
            **os.environ,
            "LOCALSYNC_DATA_DIR": str(self.data_dir),
            "LOCALSYNC_JWT_SECRET": self.secret,
            **self.extra_env,
        }
        env.pop("LOCALSYNC_DATABASE_URL", None)
        cmd = [
            str(_localsync_bin()),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            self.log_level,
        ]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        log_file = self.log_path.open("wb")
        try:
            self.proc = subprocess.Popen(
                cmd, env=env, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT
            )
        finally:
            log_file.close()
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        log(f"server pid {self.proc.pid} up on {self.url}")
        return self

    def _wait_healthy(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not healthy after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float | None:
        """User+system CPU the server has used, its worker processes included (Linux
        ``/proc``; None elsewhere).

        Robust to other load on the machine, unlike wall-clock throughput.
        """
        if self.proc is None:
            return None
        pids = [self.proc.pid, *child_pids(self.proc.pid)]
        times = [process_cpu_seconds(pid) for pid in pids]
        if times[0] is None:
            return None
        return sum(t for t in times if t is not None)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
            log(f"server pid {proc.pid} stopped ({proc.returncode})")
        self._tmp.cleanup()

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class BenchApi:
    """A keep-alive client for one workspace that fails loudly on any non-200."""

    def __init__(self, server: ServerProcess, workspace: str | None = None) -> None:
        self.workspace = workspace or f"ws-bench-{uuid.uuid4().hex[:8]}"
        token = server.token([self.workspace])
        self.headers = {
            "Authorization": f"Bearer {token}",
            "x-workspace-id": self.workspace,
            "content-type": "application/json",
        }
        self.http = httpx.Client(base_url=server.url, headers=self.headers, timeout=300)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "BenchApi":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def post_raw(self, path: str, body: bytes) -> httpx.Response:
        """POST pre-encoded JSON (keeps client-side encoding out of timed loops)."""
        response = self.http.post(PREFIX + path, content=body)
        if response.status_code != 200:
            raise RuntimeError(f"{path} -> {response.status_code}: {response.text[:500]}")
        return response

    def call(self, path: str, body: Any = None) -> Any:
        response = self.http.post(PREFIX + path, json=body)
        if response.status_code != 200:
            raise RuntimeError(f"{path} -> {response.status_code}: {response.text[:500]}")
        return response.json()

    def connector(self, name: str = "bench-laptop") -> dict[str, Any]:
        body = {"name": name, "platform": sys.platform, "version": "0.1.0"}
        result: dict[str, Any] = self.call("connectors/register", body)
        return result

    def source(self, connector_id: str, name: str = "Bench", mode: str = "bidirectional") -> str:
        body = {"name": name, "mode": mode, "connectorId": connector_id}
        result: dict[str, Any] = self.call("sources", body)
        return str(result["id"])
