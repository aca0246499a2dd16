"""Live feeds sleep until a commit wakes them (``backend.live_signal``), and lose nothing.

The servers here run with a safety poll of an hour, so an event that arrives
was delivered by a wake-up, not by a timer.
"""

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from tests.conftest import LiveServer
from tests.factories import Api, upsert
from tests.graphql.conftest import auth_headers, open_ws
from tests.graphql.test_subscriptions import _next, _subscribe, _until

NO_POLL = {"live_safety_poll_seconds": 3600.0}
WAIT = 15.0


class Statements:
    """Counts the SQL statements one server's engine runs."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        with self._lock:
            self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@contextmanager
def statements(server: LiveServer) -> Iterator[Statements]:
    counter = Statements(server.app.state.runtime.engine)
    try:
        yield counter
    finally:
        counter.close()


async def test_idle_subscriptions_run_no_query_and_a_commit_wakes_them(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    """Forty idle subscriptions cost no statement; one push elsewhere wakes the source's
    twenty, which read the new event once between them."""
    quiet = start_server(**NO_POLL)
    writer = start_server()
    source, other = api.source(), api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    api.push(other["id"], upsert("a.md", "a\n"))
    with Api(writer.url, writer.settings, api.workspace) as elsewhere, statements(quiet) as sql:
        async with open_ws(quiet, auth_headers(api)) as ws:
            feeds = [_subscribe(ws.session, source["id"], after=0) for _ in range(20)]
            feeds += [_subscribe(ws.session, other["id"], after=0) for _ in range(20)]
            # Each feed has read its source once and sent what it found: all are idle.
            firsts = await asyncio.gather(*(_next(feed) for feed in feeds))
            assert {e["cursor"] for e in firsts} == {1}
            before = sql.count
            for _ in range(20):  # the server keeps serving; its feeds stay asleep
                assert httpx.get(quiet.url + "/healthz").status_code == 200
            assert sql.count == before, "an idle subscription queried the database"

            await asyncio.to_thread(elsewhere.push, source["id"], upsert("b.md", "b\n"))
            for feed in feeds[:20]:
                woken = await _next(feed)
                assert (woken["cursor"], woken["path"]) == (2, "b.md")
            # The twenty feeds woken together shared one read; the twenty on the
            # other source were not woken.
            reads = sql.count - before
            assert 0 < reads < 2 * _statements_per_read(quiet, api, source["id"])
            for feed in feeds:
                await feed.aclose()


def _statements_per_read(server: LiveServer, api: Api, source_id: str) -> int:
    """Statements one read of the feed costs on ``server`` (a REST deltas call)."""
    with statements(server) as sql, Api(server.url, server.settings, api.workspace) as client:
        client.deltas(source_id, cursor=1)
        return max(1, sql.count)


async def test_subscriber_sees_events_in_order_woken_in_process(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    """One server: its own commits wake its subscribers (SQLite: the commit hook)."""
    server = start_server(**NO_POLL)
    with Api(server.url, server.settings, api.workspace) as client:
        source = client.source()
        async with open_ws(server, auth_headers(client)) as ws:
            events: AsyncGenerator[dict[str, Any], None] = _subscribe(
                ws.session, source["id"], after=0
            )

            def pushes() -> None:
                for i in range(5):
                    client.push(
                        source["id"], *(upsert(f"{i}/{j}.md", f"{i} {j}\n") for j in range(3))
                    )

            pusher = asyncio.create_task(asyncio.to_thread(pushes))
            received = await _until(events, 15)
            await pusher
            assert [e["cursor"] for e in received] == list(range(1, 16))
            await events.aclose()


async def test_a_lost_wake_up_is_caught_by_the_safety_poll(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    """An event committed by a writer that announced nothing still reaches the subscriber."""
    server = start_server(live_safety_poll_seconds=0.2)
    source = api.source()
    async with open_ws(server, auth_headers(api)) as ws:
        events = _subscribe(ws.session, source["id"], after=0)
        api.push(source["id"], upsert("a.md", "a\n"))
        assert (await _next(events))["cursor"] == 1
        _append_event_silently(server.settings.resolved_database_url(), source["id"], 2)
        silent = await _next(events)
        assert (silent["cursor"], silent["type"]) == (2, "source.paused")
        await events.aclose()


def _append_event_silently(url: str, source_id: str, cursor: int) -> None:
    """Append an event the way a writer that lost its wake-up would: no announce at all."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO events (source_id, cursor, type, relative_path, payload, "
                    "created_at) VALUES (:s, :c, 'source.paused', NULL, '{}', :t)"
                ),
                {"s": source_id, "c": cursor, "t": datetime.now(UTC).replace(tzinfo=None)},
            )
            conn.execute(
                text("UPDATE sources SET last_cursor = :c WHERE id = :s"),
                {"s": source_id, "c": cursor},
            )
    finally:
        engine.dispose()


@pytest.mark.postgres
async def test_a_killed_listener_reconnects_and_every_event_arrives(
    start_server: Callable[..., LiveServer], api: Api, database_url: str
) -> None:
    """The listener's connection is terminated; what it missed is read on reconnect."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL LISTEN/NOTIFY")
    server = start_server(**NO_POLL)
    listener = server.app.state.listener
    source = api.source()
    async with open_ws(server, auth_headers(api)) as ws:
        events = _subscribe(ws.session, source["id"], after=0)
        api.push(source["id"], upsert("a.md", "a\n"))
        assert (await _next(events))["cursor"] == 1
        connects = listener.connects
        engine = create_engine(database_url)
        try:
            with engine.begin() as conn:
                killed: int = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'localsync-listener' "
                        "AND datname = current_database()"
                    )
                ).scalar_one()
        finally:
            engine.dispose()
        assert killed >= 1
        # Pushed while the listener is down (it waits before reconnecting).
        api.push(source["id"], upsert("b.md", "b\n"), upsert("c.md", "c\n"))
        received = await _until(events, 3)
        assert [e["cursor"] for e in received] == [2, 3]
        for _ in range(int(WAIT / 0.05)):  # (a notice may beat the termination)
            if listener.connects > connects:
                break
            await asyncio.sleep(0.05)
        assert listener.connects > connects
        await events.aclose()


async def test_feeds_sharing_reads_miss_nothing_under_concurrent_writers(
    start_server: Callable[..., LiveServer], api: Api
) -> None:
    """Five feeds of one source, woken by three writers' commits as they land: each
    sees every event in order, though no timer would catch one a shared read missed."""
    server = start_server(**NO_POLL)
    source = api.source()
    writers = [Api(server.url, server.settings, api.workspace) for _ in range(3)]

    def write(n: int) -> None:
        for i in range(4):
            writers[n].push(source["id"], upsert(f"w{n}/{i}.md", f"{n} {i}\n"))

    try:
        async with open_ws(server, auth_headers(api)) as ws:
            feeds = [_subscribe(ws.session, source["id"], after=0) for _ in range(5)]
            api.push(source["id"], upsert("first.md", "first\n"))
            await asyncio.gather(*(_next(feed) for feed in feeds))
            pushes = [asyncio.to_thread(write, n) for n in range(3)]
            received = await asyncio.gather(*(_until(feed, 13) for feed in feeds), *pushes)
            for events in received[:5]:
                assert [e["cursor"] for e in events] == list(range(2, 14))
            for feed in feeds:
                await feed.aclose()
    finally:
        for writer in writers:
            writer.http.close()
