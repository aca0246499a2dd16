"""Helpers that keep a test server's database pool or its CPU busy, and watch its state.

The servers run in the test process (``LiveServer``), so a test can wait on
their real state: connections checked out of the pool, threads inside
CPU-bound work, requests waiting for a compute turn. Nothing here replaces a
collaborator: it looks, or takes the server's own compute turns as a merge would.
"""

import asyncio
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import backend.merge
import backend.services.cpu
from backend.services.cpu import MAX_CONCURRENT, turns
from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert

T = TypeVar("T")

CPU_BOUND = str(Path(backend.services.cpu.__file__))
MERGE_ENGINE = str(Path(backend.merge.__file__).parent)
TINY_POOL: dict[str, Any] = {
    "db_pool_size": 1,
    "db_pool_max_overflow": 0,
    "db_pool_timeout_seconds": 1.0,
    # The blocked request below must outlast the checks, not give up on SQLite's lock.
    "sqlite_busy_timeout_seconds": 300.0,
}
"""Settings for a server with one pooled connection and a short wait for it."""


def wait_until(condition: Callable[[], bool], what: str, deadline_seconds: float = 120) -> None:
    """Poll a state until it holds; the deadline only turns a hang into a failure."""
    deadline = time.monotonic() + deadline_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting until {what}")
        time.sleep(0.01)


def checked_out(server: LiveServer) -> int:
    """Connections of ``server``'s pool in use right now."""
    runtime = server.app.state.runtime
    count: int = runtime.engine.pool.checkedout()
    return count


def _threads_in(where: Callable[[str], bool]) -> int:
    """Threads of this process (test servers included) with a frame in matching files."""
    count = 0
    for frame in sys._current_frames().values():
        current: FrameType | None = frame
        while current is not None:
            if where(current.f_code.co_filename):
                count += 1
                break
            current = current.f_back
    return count


def computing_threads() -> int:
    """Threads inside ``backend.services.cpu``: computing in a turn (none waits there)."""
    return _threads_in(lambda filename: filename == CPU_BOUND)


def merging_threads() -> int:
    """Threads running merge-engine code right now."""
    return _threads_in(lambda filename: filename.startswith(MERGE_ENGINE))


def on_server_loop(server: LiveServer, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work()`` on ``server``'s event loop and wait for its result."""
    loop = server.server.servers[0].get_loop()

    async def run() -> T:
        return await work()

    return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=60)


def queued_for_turn(server: LiveServer) -> int:
    """Merges and diffs of ``server`` waiting for a compute turn right now."""

    async def waiting() -> int:
        return turns().statistics().tasks_waiting

    return on_server_loop(server, waiting)


@contextmanager
def compute_turns_held(server: LiveServer) -> Iterator[None]:
    """Take every compute turn of ``server`` inside the block, as running merges would."""
    holders = [object() for _ in range(MAX_CONCURRENT)]

    async def take() -> None:
        for holder in holders:
            await turns().acquire_on_behalf_of(holder)

    async def give_back() -> None:
        for holder in holders:
            turns().release_on_behalf_of(holder)

    on_server_loop(server, take)
    try:
        yield
    finally:
        on_server_loop(server, give_back)


@contextmanager
def source_locked(database_url: str, source_id: str) -> Iterator[None]:
    """Hold, from outside the server, a lock that a push to ``source_id`` must wait for."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path
        writer = sqlite3.connect(path, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            yield
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            lock = text("SELECT id FROM sources WHERE id = :id FOR UPDATE")
            conn.execute(lock, {"id": source_id})
            yield
            conn.rollback()
    finally:
        engine.dispose()


@contextmanager
def pool_held(server: LiveServer, workspace: str, source_id: str) -> Iterator[None]:
    """Keep every pooled connection of a one-connection ``server`` busy inside the block.

    A push to ``source_id`` waits on a lock held from outside while holding the
    server's only connection. Afterwards the lock is released and that push must
    still succeed: being made to wait loses nothing.
    """
    with Api(server.url, server.settings, workspace) as pusher, ThreadPoolExecutor(1) as pool:
        push: Future[Any]
        with source_locked(server.settings.resolved_database_url(), source_id):
            push = pool.submit(pusher.push, source_id, upsert("held.md", "held\n"))
            wait_until(
                lambda: checked_out(server) == 1 or push.done(),
                "the push holds the pooled connection",
            )
            assert not push.done(), push.result()
            yield
        result = push.result()
    assert result["results"][0]["status"] == "applied", result


@dataclass(frozen=True)
class BigConflict:
    """A conflict on ``big.md`` whose sides are large enough that work on them takes a while."""

    source_id: str
    conflict_id: str
    path: str
    base_hash: str
    local_hash: str


def big_conflict(api: Api, lines: int = 30_000) -> BigConflict:
    """Every third line differs on both sides, so the merge has thousands of regions."""

    def side(label: str) -> str:
        return "".join(
            f"line {i} {label} edit\n" if label and i % 3 == 0 else f"line {i} of the base text\n"
            for i in range(lines)
        )

    base, remote, local = side(""), side("remote"), side("local")
    sid = api.source()["id"]
    api.push(sid, upsert("big.md", base))
    api.push(sid, upsert("big.md", remote, base=sha(base)))
    result = api.push(sid, upsert("big.md", local, base=sha(base)))["results"][0]
    assert result["status"] == "conflict", result
    return BigConflict(sid, result["conflictId"], "big.md", sha(base), sha(local))
