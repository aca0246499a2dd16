"""GraphQL under a busy pool: UNAVAILABLE when no connection is free, and previews hold none.

The servers here have one pooled connection and wait one second for it.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport

from tests.busy import TINY_POOL, big_conflict, checked_out, merging_threads, pool_held, wait_until
from tests.conftest import LiveServer
from tests.factories import Api
from tests.graphql.conftest import Gq, auth_headers, open_http

PREVIEWS = 3
ALIASED_PREVIEWS = (
    "query($id: ID!) {"
    + " ".join(
        f"p{n}: conflict(id: $id) {{ preview {{ summary {{ conflictingRegions }} }} }}"
        for n in range(PREVIEWS)
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


async def test_aliased_previews_leave_the_pool_to_others(
    start_server: Callable[..., LiveServer], workspace: str
) -> None:
    """One operation with several big previews; REST and GraphQL reads still answer.

    The test waits until every preview is inside the merge engine, then reads:
    with a preview holding its connection through the merge, the reads would wait
    out the pool timeout and fail.
    """
    server = start_server(**TINY_POOL)
    with Api(server.url, server.settings, workspace) as api:
        conflict_id = big_conflict(api)
        async with (
            patient_session(server, auth_headers(api)) as heavy,
            open_http(server, auth_headers(api)) as light,
        ):
            previews = asyncio.create_task(heavy.run(ALIASED_PREVIEWS, id=conflict_id))

            def all_computing() -> bool:
                assert not previews.done(), "the previews ended before all computed"
                return merging_threads() == PREVIEWS

            await asyncio.to_thread(wait_until, all_computing, "every preview is merging")
            assert checked_out(server) == 0
            listed = await asyncio.to_thread(
                api.post, "sources/list", {}, timeout=httpx.Timeout(60)
            )
            assert listed.status_code == 200, listed.text
            sources = await light.run("{ sources { id } }")
            assert [s["id"] for s in sources["sources"]] == [s["id"] for s in listed.json()]
            assert merging_threads() > 0, "the reads must answer while previews still compute"
            result = await previews
    for n in range(PREVIEWS):
        assert result[f"p{n}"]["preview"]["summary"]["conflictingRegions"] > 1000
