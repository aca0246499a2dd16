"""Live feeds obey auth: admission at ``connection_init``, a close at token expiry, caps.

Close codes are read from a plain WebSocket client (``websockets``), as any
graphql-transport-ws client would see them; subscriptions run through ``gql``
as our own clients do. Every wait is for a message or a close, never a clock.
"""

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from sqlalchemy import create_engine, make_url, text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from backend.auth import mint_token
from backend.graphql.live import OPERATIONS_BESIDE_SUBSCRIPTIONS
from tests.conftest import LiveServer
from tests.factories import Api, upsert
from tests.graphql.conftest import LEAK, Gq, open_http, open_ws, ws_url
from tests.graphql.test_auth import _bad_credentials, _token

PROTOCOL = Subprotocol("graphql-transport-ws")
SUB = "subscription($s: String!, $a: Int!) { sourceEvents(sourceId: $s, after: $a) { cursor } }"
WAIT = 30.0
"""Bounds a hung test only: every wait ends on a message or a close."""
SHORT_LIFETIME = 15
"""Seconds an expiring token lives; the close at its ``exp`` is waited for, not timed."""

REFUSALS = {
    "missing token": 4401,
    "not a bearer": 4401,
    "garbage token": 4401,
    "forged": 4401,
    "expired": 4401,
    "not granted": 4403,
}


def _init(payload: dict[str, Any]) -> str:
    return json.dumps({"type": "connection_init", "payload": payload})


def _subscribe(op_id: str, source_id: str, after: int = 0) -> str:
    variables = {"s": source_id, "a": after}
    return json.dumps(
        {"id": op_id, "type": "subscribe", "payload": {"query": SUB, "variables": variables}}
    )


async def _until_closed(
    ws: ClientConnection, wait: float = WAIT
) -> tuple[int, str, list[dict[str, Any]]]:
    """Read until the server closes; the close code, its reason and every message before."""
    seen: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed) as info:
        while True:
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), wait)))
    close = info.value.rcvd
    assert close is not None, "the connection dropped without a close frame"
    return close.code, close.reason, seen


async def _refusal(server: LiveServer, payload: dict[str, Any]) -> tuple[int, str, list[Any]]:
    async with connect(ws_url(server), subprotocols=[PROTOCOL]) as ws:
        await ws.send(_init(payload))
        await ws.send(_subscribe("1", "any"))  # must never run
        return await _until_closed(ws)


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_connection_init_with_bad_credentials_closes_the_socket(
    live_server: LiveServer, api: Api, case: str
) -> None:
    headers, _ = _bad_credentials(api)[case]
    code, reason, seen = await _refusal(live_server, headers)
    assert code == REFUSALS[case]
    assert seen == [], "acknowledged or answered before closing"
    assert reason and not LEAK.search(reason)


async def test_connection_init_without_workspace_closes_4403(
    live_server: LiveServer, api: Api
) -> None:
    code, reason, seen = await _refusal(live_server, {"Authorization": f"Bearer {api.token}"})
    assert (code, seen) == (4403, [])
    assert "x-workspace-id" in reason


async def test_refusal_reason_fits_a_close_frame(live_server: LiveServer, api: Api) -> None:
    """A long workspace id in the reason must not break the close (123 bytes at most)."""
    workspace = "é" * 150
    payload = {"Authorization": f"Bearer {api.token}", "x-workspace-id": workspace}
    code, reason, _ = await _refusal(live_server, payload)
    assert code == 4403
    assert len(reason.encode("utf-8")) <= 123


async def test_the_legacy_graphql_ws_protocol_is_not_served(live_server: LiveServer) -> None:
    """Only graphql-transport-ws is spoken, so no protocol skips the admission above."""
    async with connect(ws_url(live_server), subprotocols=[Subprotocol("graphql-ws")]) as ws:
        assert ws.subprotocol is None
        code, _, seen = await _until_closed(ws)  # before any message is read
    assert (code, seen) == (4406, [])


async def test_socket_without_connection_init_is_closed(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(ws_init_timeout_seconds=0.5)
    async with connect(ws_url(server), subprotocols=[PROTOCOL]) as ws:
        code, _, seen = await _until_closed(ws)
    assert (code, seen) == (4408, [])


# ---- expiry ---------------------------------------------------------------------


async def test_open_subscription_closes_4401_when_its_token_expires(
    live_server: LiveServer, api: Api
) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    # Long enough that a slow machine still sets both connections up before it
    # passes (a token expired at connection_init is refused, not closed later).
    short = _token(api.settings, api.workspace, exp=int(time.time()) + SHORT_LIFETIME)
    async with (
        connect(ws_url(live_server), subprotocols=[PROTOCOL]) as expiring,
        connect(ws_url(live_server), subprotocols=[PROTOCOL]) as lasting,
    ):
        for ws, token in ((expiring, short), (lasting, api.token)):
            await ws.send(
                _init({"Authorization": f"Bearer {token}", "x-workspace-id": api.workspace})
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(_subscribe("1", source["id"]))
            first = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert first["payload"]["data"]["sourceEvents"]["cursor"] == 1

        code, reason, seen = await _until_closed(expiring, SHORT_LIFETIME + WAIT)
        assert (code, reason) == (4401, "token expired")
        assert seen == [], "nothing after the first event was written"

        # The other connection's feed carries on.
        api.push(source["id"], upsert("b.md", "b\n"))
        after = json.loads(await asyncio.wait_for(lasting.recv(), WAIT))
        assert after["payload"]["data"]["sourceEvents"]["cursor"] == 2


# ---- caps -----------------------------------------------------------------------


async def _first(events: AsyncGenerator[dict[str, Any], None]) -> int:
    result = await asyncio.wait_for(events.__anext__(), WAIT)
    cursor: int = result["sourceEvents"]["cursor"]
    return cursor


def _open(gq: Gq, source_id: str, after: int = 0) -> AsyncGenerator[dict[str, Any], None]:
    request = GraphQLRequest(SUB, variable_values={"s": source_id, "a": after})
    events: AsyncGenerator[dict[str, Any], None] = gq.session.subscribe(request)
    return events


async def _refused(events: AsyncGenerator[dict[str, Any], None]) -> dict[str, Any]:
    with pytest.raises(TransportQueryError) as info:
        await _first(events)
    errors = info.value.errors or []
    assert len(errors) == 1, errors
    extensions: dict[str, Any] = errors[0]["extensions"]
    return extensions


async def _once_a_slot_is_back(gq: Gq, source_id: str) -> AsyncGenerator[dict[str, Any], None]:
    """Open a subscription as soon as the server has given a slot back.

    A slot comes back when the server has read the end of another subscription,
    which it does on its own time: refusals are retried; the deadline only turns a
    slot that never comes back into a failure.
    """
    deadline = time.monotonic() + WAIT
    while True:
        events = _open(gq, source_id)
        try:
            assert await _first(events) == 1
            return events
        except TransportQueryError as exc:
            assert (exc.errors or [{}])[0].get("extensions") == TOO_MANY
        assert time.monotonic() < deadline, "a slot given up never came back"
        await asyncio.sleep(0.01)


TOO_MANY = {"code": "TOO_MANY_REQUESTS", "reason": "TOO_MANY_SUBSCRIPTIONS"}


async def test_subscriptions_per_connection_are_capped_and_slots_come_back(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    server = start_server(max_subscriptions_per_connection=2)
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    payload = {"Authorization": f"Bearer {api.token}", "x-workspace-id": api.workspace}
    async with open_ws(server, payload) as gq:
        one, two = _open(gq, source["id"]), _open(gq, source["id"])
        assert [await _first(one), await _first(two)] == [1, 1]
        assert await _refused(_open(gq, source["id"])) == TOO_MANY

        # The open ones keep working.
        api.push(source["id"], upsert("b.md", "b\n"))
        assert [await _first(one), await _first(two)] == [2, 2]

        # Ending one frees its slot at once for the next.
        await one.aclose()
        three = _open(gq, source["id"], after=1)
        assert await _first(three) == 2
        assert await _refused(_open(gq, source["id"])) == TOO_MANY
        await two.aclose()
        await three.aclose()


async def test_subscriptions_per_token_are_capped_across_connections(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    server = start_server(max_subscriptions_per_token=2)
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    payload = {"Authorization": f"Bearer {api.token}", "x-workspace-id": api.workspace}
    other_token = mint_token(api.settings, [api.workspace], user="someone-else")
    other = {"Authorization": f"Bearer {other_token}", "x-workspace-id": api.workspace}
    async with open_ws(server, payload) as first, open_ws(server, payload) as second:
        one, two = _open(first, source["id"]), _open(second, source["id"])
        assert [await _first(one), await _first(two)] == [1, 1]
        assert await _refused(_open(second, source["id"])) == TOO_MANY
        assert await _refused(_open(first, source["id"])) == TOO_MANY

        async with open_ws(server, other) as elsewhere:  # another token has its own count
            assert await _first(_open(elsewhere, source["id"])) == 1

        await one.aclose()
        three = _open(second, source["id"])
        assert await _first(three) == 1
        await two.aclose()
        await three.aclose()


async def test_one_token_written_differently_is_counted_once(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    """The scheme's case and spaces around the token do not make a new counter."""
    server = start_server(max_subscriptions_per_token=2)
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    spellings = [f"bearer {api.token}", f"Bearer  {api.token}", f"Bearer {api.token} "]
    payloads = [{"Authorization": a, "x-workspace-id": api.workspace} for a in spellings]
    async with (
        open_ws(server, payloads[0]) as first,
        open_ws(server, payloads[1]) as second,
        open_ws(server, payloads[2]) as third,
    ):
        one, two = _open(first, source["id"]), _open(second, source["id"])
        assert [await _first(one), await _first(two)] == [1, 1]
        assert await _refused(_open(third, source["id"])) == TOO_MANY
        await one.aclose()  # the server frees the slot when it reads the "complete"
        three = await _once_a_slot_is_back(third, source["id"])
        await two.aclose()
        await three.aclose()


async def test_a_closed_connection_gives_its_slots_back(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    server = start_server(max_subscriptions_per_token=1)
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    payload = {"Authorization": f"Bearer {api.token}", "x-workspace-id": api.workspace}
    async with open_ws(server, payload) as gq:
        async with connect(ws_url(server), subprotocols=[PROTOCOL]) as gone:
            await gone.send(_init(payload))
            assert json.loads(await gone.recv())["type"] == "connection_ack"
            await gone.send(_subscribe("1", source["id"]))
            assert json.loads(await asyncio.wait_for(gone.recv(), WAIT))["type"] == "next"
            assert await _refused(_open(gq, source["id"])) == TOO_MANY
        # Closed with its subscription still running. The server notices the close
        # on its own time.
        await _once_a_slot_is_back(gq, source["id"])


@contextmanager
def _write_lock(database_url: str) -> Iterator[None]:
    """Hold the connectors table (SQLite: the database) so writers wait for us."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(url.database), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as pg:
            pg.execute(text("LOCK TABLE connectors IN EXCLUSIVE MODE"))
            yield
            pg.rollback()
    finally:
        engine.dispose()


async def test_operations_in_flight_on_one_connection_are_bounded(
    start_server: Callable[..., LiveServer], api: Api, database_url: str
) -> None:
    """Past the subscriptions and a few queries, one more operation gets a coded error."""
    server = start_server(max_subscriptions_per_connection=1)
    limit = 1 + OPERATIONS_BESIDE_SUBSCRIPTIONS
    register = (
        'mutation($n: String!) { registerConnector(name: $n, platform: "p", version: "1") { id } }'
    )
    payload = {"Authorization": f"Bearer {api.token}", "x-workspace-id": api.workspace}

    def mutation(op_id: int) -> str:
        body = {"query": register, "variables": {"n": f"flood-{op_id}"}}
        return json.dumps({"id": str(op_id), "type": "subscribe", "payload": body})

    async with connect(ws_url(server), subprotocols=[PROTOCOL]) as ws:
        await ws.send(_init(payload))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        with _write_lock(database_url):
            for op_id in range(limit):  # each waits for the lock: all in flight
                await ws.send(mutation(op_id))
            await ws.send(mutation(limit))
            refused = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        assert refused["type"] == "error" and refused["id"] == str(limit)
        extensions = refused["payload"][0]["extensions"]
        assert extensions == {"code": "TOO_MANY_REQUESTS", "reason": "TOO_MANY_OPERATIONS"}
        completed: set[str] = set()
        while len(completed) < limit:
            message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert message["type"] in {"next", "complete"}, message
            if message["type"] == "complete":
                completed.add(message["id"])
    async with open_http(server, payload) as gq:
        connectors = (await gq.run("{ connectors { name } }"))["connectors"]
    assert {c["name"] for c in connectors} == {f"flood-{i}" for i in range(limit)}
