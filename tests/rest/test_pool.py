"""Heavy work never starves the pool or the worker threads; a request that cannot get a
connection, or a compute turn past the queue bound, answers 503.

The servers here mostly have one pooled connection and wait one second for it.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from backend.services.cpu import MAX_CONCURRENT
from tests.busy import (
    TINY_POOL,
    BigConflict,
    big_conflict,
    checked_out,
    compute_turns_held,
    computing_threads,
    pool_held,
    queued_for_turn,
    wait_until,
)
from tests.conftest import LiveServer
from tests.factories import Api, assert_error, sha

HEAVY = 3


def test_a_request_that_cannot_get_a_connection_answers_503(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    server = start_server(**TINY_POOL)
    with Api(server.url, server.settings, workspace) as api:
        source = api.source()
        sources_before = [s["id"] for s in api.sources()]
        files_before = api.files(source["id"])
        with pool_held(server, workspace, source["id"]):
            for path, body in (
                ("sources/list", {}),
                ("sources/files", {"sourceId": source["id"]}),
                ("sources", {"name": "Refused", "mode": "bidirectional"}),
            ):
                response = api.post(path, body)
                assert_error(response, 503, "UNAVAILABLE")
                retry_after = response.headers.get("Retry-After")
                assert retry_after == str(server.settings.retry_after_seconds), path
        # The refused create wrote nothing; the held push went through.
        assert [s["id"] for s in api.sources()] == sources_before
        after = api.files(source["id"])
        assert [f["relativePath"] for f in after] == sorted(
            [f["relativePath"] for f in files_before] + ["held.md"]
        )


def _preview(big: BigConflict) -> tuple[str, dict[str, Any]]:
    return "sources/conflicts/preview", {"conflictId": big.conflict_id}


def _diff(big: BigConflict) -> tuple[str, dict[str, Any]]:
    body = {
        "sourceId": big.source_id,
        "relativePath": big.path,
        "fromHash": big.base_hash,
        "toHash": big.local_hash,
    }
    return "sources/history/diff", body


@pytest.mark.parametrize("request_for", [_preview, _diff], ids=["preview", "diff"])
def test_heavy_work_holds_no_connection(
    start_server: Callable[..., LiveServer],
    workspace: str,
    request_for: Callable[[BigConflict], tuple[str, dict[str, Any]]],
) -> None:
    """While several big previews (or diffs) wait for turns and compute, the one connection
    stays free.

    The test holds the compute turns until every request has read what it needs
    and waits for a turn, then asks for the source list: with a request holding
    its read transaction on to the computation, the list would wait out the pool
    timeout and answer 503. Then the turns go back; while the requests compute,
    at every look no connection is held and no more than the turns compute.
    """
    server = start_server(**TINY_POOL)
    with Api(server.url, server.settings, workspace) as api:
        path, body = request_for(big_conflict(api))
        clients = [Api(server.url, server.settings, workspace) for _ in range(HEAVY)]
        with ThreadPoolExecutor(HEAVY) as pool:
            with compute_turns_held(server):
                heavy = [pool.submit(c.post, path, body) for c in clients]

                def all_waiting() -> bool:
                    finished = [h.result() for h in heavy if h.done()]
                    assert not finished, f"a request ended without a turn: {finished[0].text}"
                    return queued_for_turn(server) == HEAVY

                wait_until(all_waiting, "every request waits for a turn")
                assert checked_out(server) == 0
                listed = api.post("sources/list", {}, timeout=httpx.Timeout(60))
                assert listed.status_code == 200, listed.text

            def all_answered() -> bool:
                assert checked_out(server) == 0, "a computation holds a connection"
                assert computing_threads() <= MAX_CONCURRENT, "more computing than turns"
                return all(h.done() for h in heavy)

            wait_until(all_answered, "every request is answered")
            answers = [h.result() for h in heavy]
        for client in clients:
            client.http.close()
    for answer in answers:
        assert answer.status_code == 200, answer.text


WAITING = 45
"""More requests waiting for a compute turn than the server's 40 shared worker threads."""


def test_requests_waiting_for_a_compute_turn_hold_no_worker_thread(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    """With every compute turn taken, previews queue on the event loop, not in threads.

    Were each waiting preview to park a worker thread, the 45 would take all 40
    shared ones, and ``/healthz`` and every sync route would wait for a merge to end.
    """
    server = start_server(max_queued_computations=WAITING, db_pool_timeout_seconds=60.0)
    with (
        Api(server.url, server.settings, workspace) as api,
        httpx.Client(base_url=server.url, limits=httpx.Limits(max_connections=100)) as http,
    ):
        clash = api.open_conflict(api.source()["id"])
        body = {"conflictId": clash["id"]}
        answer_when_free = api.post("sources/conflicts/preview", body).json()

        def preview() -> httpx.Response:
            return http.post(
                "/api/local-sync/sources/conflicts/preview",
                json=body,
                headers=api.headers,
                timeout=300,
            )

        with ThreadPoolExecutor(WAITING) as pool:
            with compute_turns_held(server):
                waiting = [pool.submit(preview) for _ in range(WAITING)]

                def all_waiting() -> bool:
                    done = [w.result() for w in waiting if w.done()]
                    assert not done, f"a preview answered without a turn: {done[0].text}"
                    return queued_for_turn(server) == WAITING

                wait_until(all_waiting, "every preview waits for a compute turn")
                assert computing_threads() == 0
                health = http.get("/healthz", timeout=60)
                assert health.status_code == 200, health.text
                listed = api.post("sources/list", {})
                assert listed.status_code == 200, listed.text
                assert not any(w.done() for w in waiting), "the turns were held throughout"
            answers = [w.result() for w in waiting]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json() == answer_when_free


def test_past_the_queue_bound_a_computation_is_refused_with_503(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    """A burst cannot queue without end: one more than the bound is told to retry."""
    server = start_server(max_queued_computations=2)
    with Api(server.url, server.settings, workspace) as api:
        source = api.source()
        clash = api.open_conflict(source["id"])
        refusable = [
            ("sources/conflicts/preview", {"conflictId": clash["id"]}),
            (
                "sources/history/diff",
                {
                    "sourceId": source["id"],
                    "relativePath": clash["path"],
                    "fromHash": sha(clash["base"]),
                    "toHash": sha(clash["local"]),
                },
            ),
        ]
        history_before = api.post(
            "sources/history", {"sourceId": source["id"], "relativePath": clash["path"]}
        ).json()
        clients = [Api(server.url, server.settings, workspace) for _ in range(2)]
        with ThreadPoolExecutor(2) as pool:
            with compute_turns_held(server):
                path, body = refusable[0]
                waiting = [pool.submit(c.post, path, body) for c in clients]
                wait_until(lambda: queued_for_turn(server) == 2, "two previews wait for a turn")
                for path, body in refusable:
                    response = api.post(path, body)
                    assert_error(response, 503, "UNAVAILABLE")
                    retry_after = response.headers.get("Retry-After")
                    assert retry_after == str(server.settings.retry_after_seconds), path
                assert queued_for_turn(server) == 2
            answers = [w.result() for w in waiting]
        for client in clients:
            client.http.close()
        for path, body in refusable:
            assert api.post(path, body).status_code == 200, path
        history_after = api.post(
            "sources/history", {"sourceId": source["id"], "relativePath": clash["path"]}
        ).json()
    for answer in answers:
        assert answer.status_code == 200, answer.text
    assert history_after == history_before
