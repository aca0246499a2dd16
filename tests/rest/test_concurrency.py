"""Concurrent writers: gapless cursors and exactly-once operations, on both backends.

Writers go through two server instances sharing the database, as two processes
of one deployment would.
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert

THREADS = 8
BATCHES = 10


def _run_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` on ``count`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "a writer thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def servers(live_server: LiveServer, start_server: Callable[..., LiveServer]) -> list[LiveServer]:
    return [live_server, start_server()]


def test_concurrent_pushes_get_gapless_cursors(
    api: Api, servers: list[LiveServer], workspace: str
) -> None:
    source = api.source()
    sid = source["id"]

    def writer(index: int) -> list[str]:
        server = servers[index % len(servers)]
        statuses: list[str] = []
        with Api(server.url, server.settings, workspace) as client:
            previous: str | None = None
            for batch in range(BATCHES):
                own = f"own t{index} b{batch}"
                result = client.push(
                    sid,
                    upsert(f"t{index}.md", own, base=previous),
                    upsert("shared.md", f"shared t{index} b{batch}"),
                )
                statuses += [r["status"] for r in result["results"]]
                previous = sha(own)
        return statuses

    total = THREADS * BATCHES * 2
    followed: list[int] = []

    def follower() -> None:
        """A reader following cursors while the writers run sees every event once, in order."""
        with Api(servers[-1].url, servers[-1].settings, workspace) as client:
            cursor = 0
            while len(followed) < total:
                page = client.call("sources/deltas", {"sourceId": sid, "cursor": cursor})
                followed.extend(e["cursor"] for e in page["events"])
                cursor = page["nextCursor"]

    reader = threading.Thread(target=follower, daemon=True)
    reader.start()
    statuses = [s for per_thread in _run_threads(THREADS, writer) for s in per_thread]
    reader.join(timeout=60)
    assert not reader.is_alive()
    assert followed == list(range(1, total + 1))
    assert len(statuses) == total
    assert "rejected" not in statuses and "duplicate" not in statuses

    events = api.deltas(sid)
    assert [e["cursor"] for e in events] == list(range(1, total + 1))
    assert api.sources()[0]["lastCursor"] == total
    # Every thread's own file saw all of its batches, in its order.
    for index in range(THREADS):
        versions = api.history(sid, f"t{index}.md")
        assert [v["content"] for v in reversed(versions)] == [
            f"own t{index} b{batch}" for batch in range(BATCHES)
        ]
    # The shared file took one write; every other one became a side of one conflict.
    shared = api.history(sid, "shared.md")
    assert len(shared) == THREADS * BATCHES
    [conflict] = api.conflicts(sid)
    assert conflict["revision"] == THREADS * BATCHES - 1
    kinds = [e["type"] for e in events if e["relativePath"] == "shared.md"]
    assert kinds.count("conflict.opened") == 1
    assert kinds.count("file.upsert") == 1


def test_a_batch_retried_concurrently_applies_once(
    api: Api, servers: list[LiveServer], workspace: str
) -> None:
    source = api.source()
    sid = source["id"]
    batch = [upsert(f"f{i}.md", f"content {i}", op=f"op-{i}") for i in range(20)]

    def retry(index: int) -> list[str]:
        server = servers[index % len(servers)]
        with Api(server.url, server.settings, workspace) as client:
            return [r["status"] for r in client.push(sid, *batch)["results"]]

    outcomes = _run_threads(THREADS, retry)
    for item in range(len(batch)):
        per_item = sorted(outcome[item] for outcome in outcomes)
        assert per_item == ["applied"] + ["duplicate"] * (THREADS - 1)
    events = api.deltas(sid)
    assert [e["cursor"] for e in events] == list(range(1, len(batch) + 1))
    assert all(len(api.history(sid, f"f{i}.md")) == 1 for i in range(len(batch)))


def test_concurrent_raven_edits_and_pushes_stay_gapless(
    api: Api, servers: list[LiveServer], workspace: str
) -> None:
    source = api.source()
    sid = source["id"]

    def mixed(index: int) -> None:
        server = servers[index % len(servers)]
        with Api(server.url, server.settings, workspace) as client:
            for step in range(5):
                if index % 2:
                    client.update(sid, f"raven-{index}.md", f"r{index}.{step}")
                else:
                    client.push(sid, upsert(f"local-{index}.md", f"l{index}.{step}"))

    _run_threads(THREADS, mixed)
    events = api.deltas(sid)
    assert [e["cursor"] for e in events] == list(range(1, len(events) + 1))
    # Raven edits without base overwrite; pushes without base conflict after the first.
    assert len(events) == THREADS * 5
