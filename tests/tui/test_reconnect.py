"""The live feed survives its server going away: status while down, resume when back.

The app talks to a server of its own (``start_server``, sharing the test
database), which the test stops and then starts again on the same port.
"""

import threading
from collections.abc import Callable
from typing import Any

import uvicorn

from tests.conftest import LiveServer
from tests.factories import Api
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import text_of, until
from tui.app import LocalSyncApp
from tui.client import LinkState, LocalSyncClient, SourceEvent
from tui.screens.sources import SourcesScreen
from tui.widgets.bottom_bar import LiveStatus


def restart(old: LiveServer) -> LiveServer:
    """A new server on the stopped one's port and settings."""
    server = LiveServer(old.settings)
    server.port = old.port
    config = uvicorn.Config(
        server.app, host="127.0.0.1", port=old.port, log_level="warning", lifespan="on"
    )
    server.server = uvicorn.Server(config)
    server.thread = threading.Thread(target=server.server.run, daemon=True)
    return server.start()


async def test_live_feed_reconnects_after_the_server_restarts(
    api: Api, start_server: Callable[..., LiveServer]
) -> None:
    sid = api.source()["id"]
    server = start_server()
    client = LocalSyncClient(server.url, api.token, api.workspace)
    app = LocalSyncApp(client, retry_delays=(0.1, 0.4))
    back: LiveServer | None = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
            sources = app.screen
            assert isinstance(sources, SourcesScreen)
            await until(pilot, lambda: sid in app.followed, "following the source")
            status = sources.query_one(LiveStatus)
            assert not status.display

            server.stop()
            await until(pilot, lambda: app.live_trouble, "drop noticed")
            assert "disconnected (Notes), reconnecting" in app.live_trouble
            await until(pilot, lambda: status.display, "status shown")
            assert "reconnecting" in text_of(status)
            three_region_conflict(api, sid)  # committed while the app is cut off

            back = restart(server)
            await until(pilot, lambda: not app.live_trouble, "reconnected")
            assert not status.display
            assert any("are back" in n.message for n in app._notifications)
            # Events missed while down are replayed, so the screen catches up by itself.
            await until(
                pilot,
                lambda: sources.sources and sources.sources[0].open_conflicts == 1,
                "conflict seen after reconnecting",
            )
    finally:
        if back is not None:
            back.stop()


async def test_client_feed_reports_link_and_resumes_after_last_event(
    api: Api, start_server: Callable[..., LiveServer]
) -> None:
    sid = api.source()["id"]
    three_region_conflict(api, sid)
    server = start_server()
    client = LocalSyncClient(server.url, api.token, api.workspace)
    seen: list[Any] = []
    back: LiveServer | None = None
    feed = client.live_events(sid, 1, first_delay=0.1, max_delay=0.2)
    try:
        async for item in feed:
            seen.append(item)
            if isinstance(item, SourceEvent) and item.cursor == 3 and back is None:
                server.stop()
            elif isinstance(item, LinkState) and not item.connected and back is None:
                back = restart(server)
            elif isinstance(item, LinkState) and item.connected and back is not None:
                break
    finally:
        await feed.aclose()
        if back is not None:
            back.stop()
    kinds = [
        ("up" if i.connected else "down") if isinstance(i, LinkState) else i.cursor for i in seen
    ]
    assert kinds[:3] == ["up", 2, 3]
    assert kinds[3] == "down" and kinds[-1] == "up"
    assert set(kinds[3:]) <= {"down", "up"}  # nothing replayed twice after resuming
    drops = [i for i in seen if isinstance(i, LinkState) and not i.connected]
    assert all(d.error is not None and d.retry_in <= 0.2 for d in drops)
