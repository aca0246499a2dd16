"""The connect screen keeps trying by itself, and takes a new server address."""

import asyncio
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.conftest import LiveServer
from tests.factories import Api
from tests.tui.helpers import Toasts, restart, text_of, until
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.config import ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE, ConfigSource
from tui.screens.connect import ConnectScreen
from tui.screens.sources import SourcesScreen


def _message(app: LocalSyncApp) -> str:
    found = app.screen.query("#connect-message")
    if not isinstance(app.screen, ConnectScreen) or not found:
        return ""
    return text_of(found.first(Static))


async def _sources_listed(pilot: Any, app: LocalSyncApp, count: int) -> SourcesScreen:
    await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
    sources = app.screen
    assert isinstance(sources, SourcesScreen)
    await until(pilot, lambda: len(sources.sources) == count, "sources listed")
    return sources


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE):
        monkeypatch.delenv(name, raising=False)


async def test_a_server_that_starts_later_is_reached_without_a_key(
    api: Api, live_server: LiveServer
) -> None:
    api.source()
    later = LiveServer(live_server.settings)  # its port is free until it starts
    client = LocalSyncClient(later.url, api.token, api.workspace)
    app = LocalSyncApp(client, connect_delays=(0.1, 0.4))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "Cannot reach the server" in _message(app), "down")
            screen = app.screen
            await until(pilot, lambda: screen.tries >= 2, "trying again by itself")  # type: ignore[attr-defined]
            await asyncio.to_thread(later.start)
            await _sources_listed(pilot, app, 1)  # no key pressed
    finally:
        later.stop()


@pytest.mark.usefixtures("no_env")
async def test_a_server_typed_on_the_connect_screen_is_used_and_saved(
    api: Api, live_server: LiveServer, tmp_path: Path, closed_port: int
) -> None:
    api.source()
    path = tmp_path / "tui.toml"
    dead = f"http://127.0.0.1:{closed_port}"
    path.write_text(
        f'# my settings\nserver = "{dead}"\ntoken = "{api.token}"\nworkspace = "{api.workspace}"\n',
        encoding="utf-8",
    )
    source = ConfigSource(path=path)
    app = LocalSyncApp(
        LocalSyncClient(dead, api.token, api.workspace), config=source, connect_delays=(5, 5)
    )
    toasts = Toasts()
    async with app.run_test(size=(80, 24), message_hook=toasts) as pilot:
        await until(pilot, lambda: "Cannot reach the server" in _message(app), "down")
        field = app.screen.query_one("#connect-server", Input)
        assert field.value == dead
        await pilot.press("s", *live_server.url, "enter")
        await _sources_listed(pilot, app, 1)
        assert app.client.server == live_server.url
        await until(pilot, lambda: toasts.find("Saved the server"), "saved, it says")
    saved = path.read_text(encoding="utf-8")
    assert saved.startswith("# my settings\n")  # the user's lines are kept
    stored = tomllib.loads(saved)
    assert stored == {"server": live_server.url, "token": api.token, "workspace": api.workspace}
    assert source.load().server == live_server.url  # the next start uses it


async def test_the_live_feed_coming_back_makes_it_try_at_once(
    api: Api, start_server: Callable[..., LiveServer]
) -> None:
    """The next try is an hour away; a live feed that reconnects makes it try now."""
    api.source()
    server = start_server()
    client = LocalSyncClient(server.url, api.token, api.workspace)
    app = LocalSyncApp(client, retry_delays=(0.1, 0.4), connect_delays=(3600, 3600))
    back: LiveServer | None = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await _sources_listed(pilot, app, 1)
            await until(pilot, lambda: app.followed and not app.live_trouble, "following")
            server.stop()
            await until(pilot, lambda: app.live_trouble, "feed down")
            await pilot.press("r")  # the reload finds no server
            await until(pilot, lambda: "Cannot reach the server" in _message(app), "down")
            back = await asyncio.to_thread(restart, server)
            await _sources_listed(pilot, app, 1)
    finally:
        if back is not None:
            back.stop()
