"""``sourceEvents`` over graphql-transport-ws: replay after a cursor, then follow live."""

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.graphql.conftest import GqlFactory, auth_headers, check_error_shape

SUB = """
subscription($source: String!, $after: Int!) {
  sourceEvents(sourceId: $source, after: $after) { cursor type path payload createdAt }
}
"""
WAIT = 15.0


async def _next(events: AsyncGenerator[dict[str, Any], None]) -> dict[str, Any]:
    result = await asyncio.wait_for(events.__anext__(), WAIT)
    event: dict[str, Any] = result["sourceEvents"]
    return event


async def _until(events: AsyncGenerator[dict[str, Any], None], cursor: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while not received or received[-1]["cursor"] < cursor:
        received.append(await _next(events))
    return received


def _subscribe(session: Any, source_id: str, after: int) -> AsyncGenerator[dict[str, Any], None]:
    request = GraphQLRequest(SUB, variable_values={"source": source_id, "after": after})
    events: AsyncGenerator[dict[str, Any], None] = session.subscribe(request)
    return events


async def test_replays_then_follows_live_pushes_in_order(ws_client: GqlFactory, api: Api) -> None:
    source = api.source()
    for i in range(4):
        api.push(source["id"], upsert(f"before/{i}.md", f"before {i}\n"))

    async with ws_client(auth_headers(api)) as ws:
        events = _subscribe(ws.session, source["id"], after=2)
        replayed = [await _next(events), await _next(events)]
        assert [e["cursor"] for e in replayed] == [3, 4]
        assert [e["path"] for e in replayed] == ["before/2.md", "before/3.md"]
        assert replayed[0]["payload"]["content"] == "before 2\n"

        def push_while_subscribed() -> None:
            for batch in range(3):
                api.push(
                    source["id"],
                    *(upsert(f"live/{batch}-{i}.md", f"live {batch} {i}\n") for i in range(3)),
                )
            api.call("sources/pause", {"sourceId": source["id"]})
            api.call("sources/resume", {"sourceId": source["id"]})

        pusher = asyncio.create_task(asyncio.to_thread(push_while_subscribed))
        live = await _until(events, 4 + 9 + 2)
        await pusher

        cursors = [e["cursor"] for e in live]
        assert cursors == list(range(5, 16)), "gap, duplicate or disorder"
        assert [e["type"] for e in live] == ["file.upsert"] * 9 + [
            "source.paused",
            "source.resumed",
        ]
        for event in live[:9]:
            assert event["payload"]["hash"] == sha(event["payload"]["content"])
        # The feed seen live equals the feed read back afterwards.
        rest = api.deltas(source["id"], cursor=2)
        assert [(e["cursor"], e["type"], e["relativePath"]) for e in rest] == [
            (e["cursor"], e["type"], e["path"]) for e in replayed + live
        ]

        # Nothing was held back or will be sent twice: the next event is the next cursor.
        api.push(source["id"], upsert("after.md", "after\n"))
        following = await _next(events)
        assert following["cursor"] == 16 and following["path"] == "after.md"
        await events.aclose()


async def test_concurrent_writers_reach_a_subscriber_without_gaps(
    ws_client: GqlFactory, api: Api, live_server: LiveServer
) -> None:
    source = api.source()
    writers = [Api(live_server.url, live_server.settings, api.workspace) for _ in range(3)]

    def writer(client: Api, n: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(4):
                client.push(source["id"], upsert(f"w{n}/{i}.md", f"writer {n} item {i}\n"))

        return run

    try:
        async with ws_client(auth_headers(api)) as ws:
            events = _subscribe(ws.session, source["id"], after=0)
            tasks = [asyncio.to_thread(writer(c, n)) for n, c in enumerate(writers)]
            received, *_ = await asyncio.gather(_until(events, 12), *tasks)
            assert [e["cursor"] for e in received] == list(range(1, 13))
            assert len({e["path"] for e in received}) == 12
            await events.aclose()
    finally:
        for client in writers:
            client.http.close()


async def test_follows_writes_made_through_another_server_process(
    ws_client: GqlFactory, api: Api, start_server: Callable[..., LiveServer]
) -> None:
    """Several servers share one database; a subscriber sees every server's writes."""
    second = start_server()
    source = api.source()
    with Api(second.url, second.settings, api.workspace) as elsewhere:
        async with ws_client(auth_headers(api)) as ws:
            events = _subscribe(ws.session, source["id"], after=0)
            await asyncio.to_thread(elsewhere.push, source["id"], upsert("far.md", "far\n"))
            event = await _next(events)
            assert (event["cursor"], event["path"]) == (1, "far.md")
            assert event["payload"]["content"] == "far\n"
            await events.aclose()


async def test_subscription_to_another_workspaces_source(
    ws_client: GqlFactory, api: Api, other_api: Api
) -> None:
    theirs = other_api.source()
    other_api.push(theirs["id"], upsert("secret.md", "secret\n"))
    async with ws_client(auth_headers(api)) as ws:
        with pytest.raises(TransportQueryError) as info:
            await _next(_subscribe(ws.session, theirs["id"], after=0))
    errors = info.value.errors or []
    for error in errors:
        check_error_shape(error)
    assert [e["extensions"] for e in errors] == [
        {"code": "NOT_FOUND", "reason": "SOURCE_NOT_FOUND"}
    ]
    assert "secret" not in str(info.value)


async def test_subscription_with_a_negative_cursor(ws_client: GqlFactory, api: Api) -> None:
    source = api.source()
    async with ws_client(auth_headers(api)) as ws:
        with pytest.raises(TransportQueryError) as info:
            await _next(_subscribe(ws.session, source["id"], after=-1))
    errors = info.value.errors or []
    assert [e["extensions"] for e in errors] == [
        {"code": "BAD_USER_INPUT", "reason": "INVALID_CURSOR"}
    ]


async def test_subscription_with_an_unstorable_source_id(ws_client: GqlFactory, api: Api) -> None:
    async with ws_client(auth_headers(api)) as ws:
        with pytest.raises(TransportQueryError) as info:
            await _next(_subscribe(ws.session, "abc\x00def", after=0))
    errors = info.value.errors or []
    assert [e["extensions"] for e in errors] == [
        {"code": "BAD_USER_INPUT", "reason": "INVALID_INPUT"}
    ]


async def test_queries_on_one_websocket_see_fresh_data(ws_client: GqlFactory, api: Api) -> None:
    """One connection runs many operations; none may answer from another's cache."""
    source = api.source()
    api.push(source["id"], upsert("a.md", "one\n"))
    query = """
    query($id: ID!) {
      source(id: $id) {
        fileCount
        connector { lastHeartbeatAt }
        files { nodes { path content latestVersion { seq content } } }
      }
    }
    """
    request = GraphQLRequest(query, variable_values={"id": source["id"]})
    async with ws_client(auth_headers(api)) as ws:
        before = (await ws.session.execute(request))["source"]
        api.push(source["id"], upsert("a.md", "two\n", base=sha("one\n")), upsert("b.md", "b\n"))
        api.call("connectors/heartbeat", {"connectorId": source["connectorId"]})
        after = (await ws.session.execute(request))["source"]
    assert before["fileCount"] == 1 and after["fileCount"] == 2
    assert after["files"]["nodes"][0]["latestVersion"] == {"seq": 2, "content": "two\n"}
    assert after["files"]["nodes"][0]["content"] == "two\n"
    assert after["connector"]["lastHeartbeatAt"] > before["connector"]["lastHeartbeatAt"]
