"""GraphQL under a busy pool: UNAVAILABLE when no connection is free; heavy fields hold none.

The servers here have one pooled connection and wait one second for it.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport

from tests.busy import (
    TINY_POOL,
    BigConflict,
    big_conflict,
    checked_out,
    computing_threads,
    pool_held,
    wait_until,
)
from tests.conftest import LiveServer
from tests.factories import Api
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

    The test waits until every aliased field is computing (or queued to compute), then
    reads: with a field holding its connection through the computation, the
    reads would wait out the pool timeout and fail.
    """
    server = start_server(**TINY_POOL)
    with Api(server.url, server.settings, workspace) as api:
        document, variables = operation_for(big_conflict(api))
        async with (
            patient_session(server, auth_headers(api)) as heavy,
            open_http(server, auth_headers(api)) as light,
        ):
            running = asyncio.create_task(heavy.run(document, **variables))

            def all_computing() -> bool:
                assert not running.done(), "the operation ended before every field computed"
                return computing_threads() == HEAVY

            await asyncio.to_thread(wait_until, all_computing, "every field is computing")
            assert checked_out(server) == 0
            listed = await asyncio.to_thread(
                api.post, "sources/list", {}, timeout=httpx.Timeout(60)
            )
            assert listed.status_code == 200, listed.text
            sources = await light.run("{ sources { id } }")
            assert [s["id"] for s in sources["sources"]] == [s["id"] for s in listed.json()]
            assert computing_threads() > 0, "the reads must answer while the fields still compute"
            result = await running
    assert sorted(result) == [f"h{n}" for n in range(HEAVY)]
