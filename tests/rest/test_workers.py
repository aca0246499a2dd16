"""``localsync serve --workers N``: several processes on one port, one PostgreSQL.

Each response names the process that served it (``x-localsync-worker``), so the
tests open connections until they hold one on each worker.
"""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from backend.settings import Settings
from tests.conftest import PG_ENV, _free_port, fresh_pg_database
from tests.factories import Api, upsert

WORKER = "x-localsync-worker"
SECRET = "test-secret-" + "x" * 32
WAIT = 30.0
WORKERS_UP = 180.0
"""Bound on both workers answering: each process imports and starts on its own, which on a
loaded 2-core machine (two suites side by side) took over 30 s; the wait ends as soon as both
have answered."""
SUB = "subscription($s: String!) { sourceEvents(sourceId: $s) { cursor path } }"


def _serve(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "backend.cli", "serve", "--log-level", "warning", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALSYNC_")}
    return {**env, "LOCALSYNC_DATA_DIR": str(data_dir), "LOCALSYNC_JWT_SECRET": SECRET, **extra}


@pytest.mark.parametrize("how", ["option", "environment"])
def test_workers_on_sqlite_are_refused_with_the_reason(tmp_path: Path, how: str) -> None:
    args = ("--workers", "2") if how == "option" else ()
    extra = {} if how == "option" else {"LOCALSYNC_WORKERS": "2"}
    port = str(_free_port())
    proc = _serve("--port", port, *args, env=_env(tmp_path, **extra))
    output, _ = proc.communicate(timeout=WAIT)
    assert proc.returncode == 2, output
    assert b"needs PostgreSQL" in output and b"SQLite" in output
    assert not (tmp_path / "localsync.db").exists(), "nothing is created for a refused start"


class Workers:
    """``serve --workers 2`` on a fresh PostgreSQL database, in a child process."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(data_dir=data_dir, jwt_secret=SECRET)
        args = ("--port", str(self.port), "--workers", "2", "--database-url", database_url)
        self.proc = _serve(*args, env=_env(data_dir))
        self.output = b""
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output += line

    def wait_for_both(self) -> tuple[str, str]:
        """Open connections until two different workers have answered."""
        seen: set[str] = set()
        deadline = time.monotonic() + WORKERS_UP
        while len(seen) < 2:
            assert self.proc.poll() is None, self.output.decode(errors="replace")
            assert time.monotonic() < deadline, f"saw workers {seen} only"
            try:
                pid = httpx.get(self.url + "/healthz", timeout=5).headers[WORKER]
            except httpx.TransportError:
                time.sleep(0.05)  # not accepting yet
                continue
            if pid in seen:
                time.sleep(0.05)  # leave the CPU to the worker still starting
            seen.add(pid)
        first, second = sorted(seen)
        return first, second

    def client_on(self, pid: str) -> httpx.Client:
        """A keep-alive client whose connection is served by worker ``pid``."""
        for _ in range(200):
            client = httpx.Client(base_url=self.url, timeout=30)
            if client.get("/healthz").headers[WORKER] == pid:
                return client
            client.close()
        raise AssertionError(f"no connection reached worker {pid}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workers, str, str]]:
    if not os.environ.get(PG_ENV):
        pytest.skip("several workers run on PostgreSQL only")
    with fresh_pg_database("localsync_workers") as url:
        server = Workers(url, tmp_path_factory.mktemp("workers"))
        try:
            first, second = server.wait_for_both()
            yield server, first, second
        finally:
            server.stop()


def _api_on(server: Workers, pid: str, workspace: str) -> Api:
    api = Api(server.url, server.settings, workspace)
    api.http.close()
    api.http = server.client_on(pid)
    return api


async def _ws_on(server: Workers, pid: str) -> ClientConnection:
    url = server.url.replace("http://", "ws://") + "/graphql"
    for _ in range(200):
        ws = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")])
        if ws.response is not None and ws.response.headers.get(WORKER) == pid:
            return ws
        await ws.close()
    raise AssertionError(f"no WebSocket reached worker {pid}")


async def test_a_push_through_one_worker_reaches_a_subscriber_on_the_other(
    workers: tuple[Workers, str, str],
) -> None:
    server, first, second = workers
    workspace = f"ws-{uuid.uuid4().hex[:12]}"
    with _api_on(server, second, workspace) as writer:
        source = writer.source()
        ws = await _ws_on(server, first)
        try:
            init = {"Authorization": f"Bearer {writer.token}", "x-workspace-id": workspace}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            body = {"query": SUB, "variables": {"s": source["id"]}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": body}))

            def pushes() -> None:
                for i in range(4):
                    writer.push(source["id"], upsert(f"{i}.md", f"{i}\n"))
                    assert writer.http.get("/healthz").headers[WORKER] == second

            pusher = asyncio.create_task(asyncio.to_thread(pushes))
            received: list[dict[str, Any]] = []
            while len(received) < 4:
                message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                assert message["type"] == "next", message
                received.append(message["payload"]["data"]["sourceEvents"])
            await pusher
            assert received == [{"cursor": i + 1, "path": f"{i}.md"} for i in range(4)]
        finally:
            await ws.close()


def test_writers_on_both_workers_keep_cursors_gapless(workers: tuple[Workers, str, str]) -> None:
    server, first, second = workers
    workspace = f"ws-{uuid.uuid4().hex[:12]}"
    clients = [_api_on(server, pid, workspace) for pid in (first, second, first, second)]
    try:
        source = clients[0].source()
        errors: list[BaseException] = []

        def write(n: int, client: Api) -> None:
            try:
                for i in range(5):
                    client.push(source["id"], upsert(f"w{n}/{i}.md", f"{n} {i}\n"))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=write, args=(n, c)) for n, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        assert not errors, errors
        events = clients[1].deltas(source["id"])
        assert [e["cursor"] for e in events] == list(range(1, 21))
        assert len({e["relativePath"] for e in events}) == 20
    finally:
        for client in clients:
            client.http.close()


def test_metrics_sum_every_worker(workers: tuple[Workers, str, str]) -> None:
    server, first, second = workers

    def applied() -> float:
        text = httpx.get(server.url + "/metrics", timeout=10).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "localsync_push_items_total" and sample.labels == {
                    "status": "applied"
                }:
                    return float(sample.value)
        return 0.0

    workspace = f"ws-{uuid.uuid4().hex[:12]}"
    before = applied()
    with _api_on(server, first, workspace) as one, _api_on(server, second, workspace) as two:
        source = one.source()
        one.push(source["id"], upsert("a.md", "a\n"))
        two.push(source["id"], upsert("b.md", "b\n"), upsert("c.md", "c\n"))
    assert applied() - before == 3
