"""The live feed survives its server going away and its token expiring.

For restarts the app talks to a server of its own (``start_server``, sharing
the test database), which the test stops and then starts again on the same
port. For expiry it follows with a token of a few seconds, which the server
ends with close 4401; the app reads its configuration again and goes on with
the token found there, from the last event it saw.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from tests.conftest import LiveServer
from tests.factories import Api, upsert
from tests.graphql.test_auth import _token
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import Toasts, restart, text_of, until
from tui.app import LocalSyncApp
from tui.client import LinkState, LocalSyncClient, SourceEvent, Unauthenticated
from tui.config import ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE, ConfigSource
from tui.screens.connect import ConnectScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.bottom_bar import LiveStatus


async def test_live_feed_reconnects_after_the_server_restarts(
    api: Api, start_server: Callable[..., LiveServer]
) -> None:
    sid = api.source()["id"]
    server = start_server()
    client = LocalSyncClient(server.url, api.token, api.workspace)
    app = LocalSyncApp(client, retry_delays=(0.1, 0.4))
    back: LiveServer | None = None
    toasts = Toasts()
    try:
        async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
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
            await until(pilot, lambda: toasts.find("are back"), "told they are back")
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


# ---- the token expires while following -------------------------------------------


SHORT = 6
"""Seconds a short token lasts in the client tests: it must outlive connecting, which a
loaded machine can stretch to seconds, and expire while the test follows the feed."""


def _short_token(api: Api, seconds: int) -> str:
    """A token for the test's workspace that expires ``seconds`` from now."""
    return _token(api.settings, api.workspace, exp=int(time.time()) + seconds)


def _kinds(items: list[Any]) -> list[object]:
    return [
        ("up" if i.connected else "down") if isinstance(i, LinkState) else i.cursor for i in items
    ]


async def test_client_feed_resumes_with_a_fresh_token_after_its_token_expires(
    api: Api, live_server: LiveServer
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "a\n"))
    client = LocalSyncClient(live_server.url, _short_token(api, SHORT), api.workspace)
    asked: list[str] = []

    def fresh_token() -> str:
        asked.append(api.token)
        return api.token

    seen: list[Any] = []
    feed = client.live_events(sid, 0, first_delay=0.1, max_delay=0.2, fresh_token=fresh_token)
    try:
        async for item in feed:
            seen.append(item)
            kinds = _kinds(seen)
            if kinds == ["up", 1, "down"]:
                api.push(sid, upsert("b.md", "b\n"))  # while the feed is cut off
            elif kinds == ["up", 1, "down", "up", 2]:
                api.push(sid, upsert("c.md", "c\n"))  # followed live with the new token
            elif isinstance(item, SourceEvent) and item.cursor == 3:
                break
    finally:
        await feed.aclose()
    assert _kinds(seen) == ["up", 1, "down", "up", 2, 3], "lost, repeated or out of order"
    down = seen[2]
    assert isinstance(down.error, Unauthenticated) and down.retry_in == 0
    assert "token expired" in down.error.message
    assert asked == [api.token]


async def test_client_feed_without_a_fresh_token_stops_with_the_reason(
    api: Api, live_server: LiveServer
) -> None:
    sid = api.source()["id"]
    short = _short_token(api, SHORT)
    client = LocalSyncClient(live_server.url, short, api.workspace)
    asked: list[str] = []

    def same_token() -> str:
        asked.append(short)
        return short

    seen: list[Any] = []
    with pytest.raises(Unauthenticated) as info:
        async for item in client.live_events(sid, 0, first_delay=0.1, fresh_token=same_token):
            seen.append(item)
    assert "token expired" in info.value.message
    assert _kinds(seen) == ["up"] and asked == [short]  # asked once, never retried hot


def _message(app: LocalSyncApp) -> str:
    found = app.screen.query("#connect-message")
    if not isinstance(app.screen, ConnectScreen) or not found:
        return ""
    return text_of(found.first(Static))


def _config(path: Path, token: str, workspace: str) -> None:
    path.write_text(f'token = "{token}"\nworkspace = "{workspace}"\n', encoding="utf-8")


def _app_on(server: LiveServer, path: Path) -> LocalSyncApp:
    """The app as ``localsync tui --server URL`` builds it, token and workspace from ``path``."""
    source = ConfigSource(server=server.url, path=path)
    config = source.load()
    assert config.token and config.workspace
    client = LocalSyncClient(config.server, config.token, config.workspace)
    return LocalSyncApp(client, retry_delays=(0.1, 0.4), config=source)


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_env")
async def test_live_updates_go_on_with_the_token_the_config_holds_now(
    api: Api, live_server: LiveServer, tmp_path: Path
) -> None:
    sid = api.source()["id"]
    path = tmp_path / "tui.toml"
    _config(path, _short_token(api, 5), api.workspace)
    app = _app_on(live_server, path)  # started with the short token
    # What `localsync token` and an edit of the file would do. Written before the app
    # runs, not once it follows: following is over when the short token expires, and
    # a loaded machine may only look after that; the token in the file lasts.
    _config(path, api.token, api.workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)

        await until(pilot, lambda: app.client.token == api.token, "token read again at expiry")
        three_region_conflict(api, sid)  # after the first token expired
        await until(
            pilot,
            lambda: sources.sources and sources.sources[0].open_conflicts == 1,
            "conflict seen through the renewed feed",
        )
        assert isinstance(app.screen, SourcesScreen)
        assert sid in app.followed and not app.live_trouble


@pytest.mark.usefixtures("no_env")
async def test_expired_token_without_a_new_one_goes_to_the_connect_screen(
    api: Api, live_server: LiveServer, tmp_path: Path
) -> None:
    sid = api.source()["id"]
    path = tmp_path / "tui.toml"
    _config(path, _short_token(api, 5), api.workspace)
    app = _app_on(live_server, path)
    async with app.run_test(size=(120, 40)) as pilot:
        # The feed follows until the token expires: a state that ends, so it is not
        # waited for; the connect screen that comes after it lasts.
        await until(pilot, lambda: "refused the token" in _message(app), "connect screen")
        assert "expired" in _message(app)  # the feed's close or a retry's refusal

        _config(path, api.token, api.workspace)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "back to sources")
        await until(pilot, lambda: sid in app.followed, "following again with the new token")
        assert app.client.token == api.token
