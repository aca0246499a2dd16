"""Heavy work never starves the pool; a request that cannot get a connection answers 503.

The servers here have one pooled connection and wait one second for it.
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
    computing_threads,
    merging_threads,
    pool_held,
    wait_until,
)
from tests.conftest import LiveServer
from tests.factories import Api, assert_error

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
    """While several big previews (or diffs) compute, the one connection stays free.

    The test waits until every request is computing (or queued to compute), then asks for
    the source list: with a request holding its read transaction through the
    computation, the list would wait out the pool timeout and answer 503.
    """
    server = start_server(**TINY_POOL)
    with Api(server.url, server.settings, workspace) as api:
        path, body = request_for(big_conflict(api))
        clients = [Api(server.url, server.settings, workspace) for _ in range(HEAVY)]
        with ThreadPoolExecutor(HEAVY) as pool:
            heavy = [pool.submit(c.post, path, body) for c in clients]

            def all_computing() -> bool:
                finished = [h.result() for h in heavy if h.done()]
                assert not finished, f"a request ended before all computed: {finished[0].text}"
                assert merging_threads() <= MAX_CONCURRENT, "more merges at once than turns"
                return computing_threads() == HEAVY

            wait_until(all_computing, "every request is computing")
            assert checked_out(server) == 0
            listed = api.post("sources/list", {}, timeout=httpx.Timeout(60))
            assert listed.status_code == 200, listed.text
            assert computing_threads() > 0, "the list must answer while the others still compute"
            answers = [h.result() for h in heavy]
        for client in clients:
            client.http.close()
    for answer in answers:
        assert answer.status_code == 200, answer.text
