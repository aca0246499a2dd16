"""GraphQL under a busy pool: UNAVAILABLE when no connection is free; heavy fields hold none,
and fields waiting for a compute turn hold no worker thread.

The servers here mostly have one pooled connection and wait one second for it.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport

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
from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq, auth_headers, open_http

HEAVY = 3
PREVIEWS = (
    "query($conflict: ID!) {"
    + " ".join(
        f"h{n}: conflict(id: $conflict) {{ preview {{ summary {{ conflictingRegions }} }} }}"
        for n in range(HEAVY)
    )
    + "}"
)
DIFFS = (
    "query($source: ID!, $path: String!, $from: String!, $to: String!) {"
    + " ".join(
        f"h{n}: source(id: $source) {{ file(path: $path) {{"
        " diff(fromHash: $from, toHash: $to) { insertions } } }"
        for n in range(HEAVY)
    )
    + "}"
)

CREATE = 'mutation { createSource(input: {name: "Refused", mode: BIDIRECTIONAL}) { id } }'


@asynccontextmanager
async def patient_session(server: LiveServer, headers: dict[str, str]) -> AsyncIterator[Gq]:
    """A session that waits for a long operation (gql gives up after 10 s by default)."""
    transport = HTTPXAsyncTransport(url=server.url + "/graphql", headers=headers, timeout=300)
    async with Client(transport=transport, execute_timeout=300) as session:
        yield Gq(session)


async def test_an_operation_that_cannot_get_a_connection_is_unavailable(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    server = start_server(**TINY_POOL)
    with Api(server.url, server.settings, workspace) as api:
        source = api.source()
        async with open_http(server, auth_headers(api)) as gq:
            with pool_held(server, workspace, source["id"]):
                assert await gq.code("{ sources { id } }") == "UNAVAILABLE"
                assert await gq.code(CREATE) == "UNAVAILABLE"
            listed = await gq.run("{ sources { id } }")
        # The refused create wrote nothing.
        assert [s["id"] for s in listed["sources"]] == [source["id"]]


def _previews(big: BigConflict) -> tuple[str, dict[str, Any]]:
    return PREVIEWS, {"conflict": big.conflict_id}


def _diffs(big: BigConflict) -> tuple[str, dict[str, Any]]:
    variables = {
        "source": big.source_id,
        "path": big.path,
        "from": big.base_hash,
        "to": big.local_hash,
    }
    return DIFFS, variables


@pytest.mark.parametrize("operation_for", [_previews, _diffs], ids=["previews", "diffs"])
async def test_aliased_heavy_fields_leave_the_pool_to_others(
    start_server: Callable[..., LiveServer],
    workspace: str,
    operation_for: Callable[[BigConflict], tuple[str, dict[str, Any]]],
) -> None:
    """One operation with several big previews (or diffs); REST and GraphQL reads still answer.

    The test holds the compute turns until every aliased field has read what it
    needs and waits for a turn, then reads: with a field holding its connection
    on to the computation, the reads would wait out the pool timeout and fail.
    Then the turns go back; while the fields compute, at every look no
    connection is held and no more than the turns compute.
    """
    server = start_server(**TINY_POOL)
    with Api(server.url, server.settings, workspace) as api:
        document, variables = operation_for(big_conflict(api))
        async with (
            patient_session(server, auth_headers(api)) as heavy,
            open_http(server, auth_headers(api)) as light,
        ):
            with compute_turns_held(server):
                running = asyncio.create_task(heavy.run(document, **variables))

                def all_waiting() -> bool:
                    assert not running.done(), "the operation ended before every field computed"
                    return queued_for_turn(server) == HEAVY

                await asyncio.to_thread(wait_until, all_waiting, "every field waits for a turn")
                assert checked_out(server) == 0
                listed = await asyncio.to_thread(
                    api.post, "sources/list", {}, timeout=httpx.Timeout(60)
                )
                assert listed.status_code == 200, listed.text
                sources = await light.run("{ sources { id } }")
                assert [s["id"] for s in sources["sources"]] == [s["id"] for s in listed.json()]

            def all_answered() -> bool:
                assert checked_out(server) == 0, "a computation holds a connection"
                assert computing_threads() <= MAX_CONCURRENT, "more computing than turns"
                return running.done()

            await asyncio.to_thread(wait_until, all_answered, "the operation is answered")
            result = await running
    assert sorted(result) == [f"h{n}" for n in range(HEAVY)]


WAITING = 45
"""More operations waiting for a compute turn than the server's 40 shared worker threads."""
PREVIEW = "query($id: ID!) { conflict(id: $id) { preview { mergedWithMarkers } } }"


async def test_fields_waiting_for_a_compute_turn_hold_no_worker_thread(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    """With every compute turn taken, previews queue on the event loop, not in threads.

    Were each waiting preview to park a worker thread, the 45 would take all 40
    shared ones, and every other operation's database read would wait for them.
    """
    server = start_server(max_queued_computations=WAITING, db_pool_timeout_seconds=60.0)
    with Api(server.url, server.settings, workspace) as api:
        clash = api.open_conflict(api.source()["id"])
        headers = auth_headers(api)
        limits = httpx.Limits(max_connections=100)
        async with (
            httpx.AsyncClient(base_url=server.url, limits=limits, timeout=300) as http,
            open_http(server, headers) as light,
        ):

            async def preview() -> httpx.Response:
                body = {"query": PREVIEW, "variables": {"id": clash["id"]}}
                return await http.post("/graphql", json=body, headers=headers)

            answer_when_free = (await preview()).json()
            with compute_turns_held(server):
                waiting = [asyncio.create_task(preview()) for _ in range(WAITING)]

                def all_waiting() -> bool:
                    done = [w.result() for w in waiting if w.done()]
                    assert not done, f"a preview answered without a turn: {done[0].text}"
                    return queued_for_turn(server) == WAITING

                await asyncio.to_thread(wait_until, all_waiting, "every preview waits for a turn")
                assert computing_threads() == 0
                health = await http.get("/healthz", timeout=60)
                assert health.status_code == 200, health.text
                listed = await light.run("{ sources { id } }")
                assert len(listed["sources"]) == 1
                assert not any(w.done() for w in waiting), "the turns were held throughout"
            answers = await asyncio.gather(*waiting)
    assert "<<<<<<<" in answer_when_free["data"]["conflict"]["preview"]["mergedWithMarkers"]
    for answer in answers:
        assert answer.json() == answer_when_free


async def test_past_the_queue_bound_a_field_is_unavailable(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    """One preview more than ``max_queued_computations`` is told to retry; the others run."""
    server = start_server(max_queued_computations=2)
    with Api(server.url, server.settings, workspace) as api:
        clash = api.open_conflict(api.source()["id"])
        two = (
            "query($id: ID!) { "
            + " ".join(
                f"p{n}: conflict(id: $id) {{ preview {{ mergedWithMarkers }} }}" for n in range(2)
            )
            + " }"
        )
        async with (
            patient_session(server, auth_headers(api)) as heavy,
            open_http(server, auth_headers(api)) as light,
        ):
            with compute_turns_held(server):
                running = asyncio.create_task(heavy.run(two, id=clash["id"]))
                await asyncio.to_thread(
                    wait_until, lambda: queued_for_turn(server) == 2, "two previews wait"
                )
                error = await light.error(PREVIEW, id=clash["id"])
                assert error["extensions"]["code"] == "UNAVAILABLE", error
                assert error["extensions"]["retryAfter"] == server.settings.retry_after_seconds
                assert not running.done()
            result = await running
            again = await light.run(PREVIEW, id=clash["id"])
    for key in ("p0", "p1"):
        assert result[key]["preview"] == again["conflict"]["preview"]


LARGE_REGIONS = 8


def _large_regions_conflict(api: Api) -> str:
    """A conflict of ``LARGE_REGIONS`` regions, each too large for inline word changes."""

    def side(label: str) -> str:
        blocks = []
        for block in range(LARGE_REGIONS):
            lines = "".join(f"block {block} line {i} {label}\n" for i in range(300))
            blocks.append(f"## stable heading {block}\n{lines}")
        return "".join(blocks)

    base, remote, local = side("base"), side("remote"), side("local")
    source_id: str = api.source()["id"]
    api.push(source_id, upsert("regions.md", base))
    api.push(source_id, upsert("regions.md", remote, base=sha(base)))
    result = api.push(source_id, upsert("regions.md", local, base=sha(base)))["results"][0]
    assert result["status"] == "conflict", result
    conflict_id: str = result["conflictId"]
    return conflict_id


async def test_a_previews_word_changes_are_not_refused_as_a_queue(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    """The merge screen asks word changes of every region at once: the preview was
    admitted, so its regions wait for turns however many they are."""
    server = start_server(max_queued_computations=1)
    with Api(server.url, server.settings, workspace) as api:
        conflict_id = _large_regions_conflict(api)
        async with patient_session(server, auth_headers(api)) as gq:
            data = await gq.run(
                "query($id: ID!) { conflict(id: $id) { preview { regions { index"
                " wordChanges { old new } } } } }",
                id=conflict_id,
            )
    regions = data["conflict"]["preview"]["regions"]
    assert [r["index"] for r in regions] == list(range(1, LARGE_REGIONS + 1))
    assert all(r["wordChanges"] for r in regions)
