"""What the user sees when the server cannot be used, or refuses a save."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.tui.conftest import LOCAL, PATH, RAVEN, three_region_conflict
from tests.tui.helpers import Toasts, open_merge, text_of, until
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.config import ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE, ConfigSource
from tui.screens.connect import ConnectScreen
from tui.screens.sources import SourcesScreen


def _message(app: Any) -> str:
    found = app.screen.query("#connect-message")
    if not isinstance(app.screen, ConnectScreen) or not found:
        return ""
    return text_of(found.first(Static))


async def test_server_down_shows_connect_screen_and_retry_keeps_it(
    api: Api, closed_port: int
) -> None:
    client = LocalSyncClient(f"http://127.0.0.1:{closed_port}", api.token, api.workspace)
    app = LocalSyncApp(client, connect_delays=(3600, 3600))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        assert "Cannot reach the server" in _message(app)
        assert f"127.0.0.1:{closed_port}" in _message(app)
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        hint = screen.query_one("#connect-hint", Static)
        await until(pilot, lambda: "Trying again in 60 min" in text_of(hint), "waiting")
        await pilot.press("r")
        await until(pilot, lambda: screen.tries == 1 and "60 min" in text_of(hint), "r tried")
        assert app.screen is screen


def _write_config(path: Path, server: str, token: str, workspace: str) -> None:
    path.write_text(
        f'server = "{server}"\ntoken = "{token}"\nworkspace = "{workspace}"\n', encoding="utf-8"
    )


def _app_from(source: ConfigSource) -> LocalSyncApp:
    """The app as ``localsync tui`` builds it: a client from the configuration it keeps."""
    config = source.load()
    assert config.token is not None and config.workspace is not None
    return LocalSyncApp(
        LocalSyncClient(config.server, config.token, config.workspace), config=source
    )


async def _sources_after_retry(pilot: Any, app: LocalSyncApp, count: int) -> SourcesScreen:
    """Wait for the connect screen to give way to a reloaded sources screen."""
    await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "back to sources")
    sources = app.screen
    assert isinstance(sources, SourcesScreen)
    await until(pilot, lambda: len(sources.sources) == count, "sources after retry")
    return sources


async def test_bad_token_fixed_in_the_config_file_recovers_on_retry(
    api: Api, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE):
        monkeypatch.delenv(name, raising=False)
    sid = api.source()["id"]
    path = tmp_path / "tui.toml"
    # The file names a dead server too: the command line's must still win on retry.
    _write_config(path, "http://127.0.0.1:1", "not-a-jwt", api.workspace)
    app = _app_from(ConfigSource(server=live_server.url, path=path))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        assert "refused the token" in _message(app)
        _write_config(path, "http://127.0.0.1:1", api.token, api.workspace)
        await pilot.press("r")
        await _sources_after_retry(pilot, app, 1)
        assert (app.client.server, app.client.token) == (live_server.url, api.token)
        await until(pilot, lambda: sid in app.followed, "live feed on the new client")


async def test_unreadable_config_file_is_explained_on_retry(
    api: Api, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "tui.toml"
    _write_config(path, live_server.url, "not-a-jwt", api.workspace)
    app = _app_from(ConfigSource(path=path))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        path.write_text('token = "half a string\n', encoding="utf-8")
        await pilot.press("r")
        hint = app.screen.query_one("#connect-hint", Static)
        await until(pilot, lambda: "cannot read" in text_of(hint), "config error shown")
        assert str(path) in text_of(hint)
        assert isinstance(app.screen, ConnectScreen)


async def test_token_and_workspace_typed_on_the_connect_screen(
    api: Api, live_server: LiveServer, make_app: Any
) -> None:
    api.source()
    app = make_app(LocalSyncClient(live_server.url, "not-a-jwt", "ws-someone-else"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        assert "refused the token" in _message(app)
        assert app.screen.query_one("#connect-token", Input).password  # masked
        await pilot.press("t", *api.token, "enter")
        await until(pilot, lambda: "Workspace not granted" in _message(app), "token accepted")
        await pilot.press("w", *api.workspace, "enter")
        await _sources_after_retry(pilot, app, 1)
        assert (app.client.token, app.client.workspace) == (api.token, api.workspace)


async def test_wrong_address_goes_to_the_connect_screen(
    api: Api, live_server: LiveServer, make_app: Any
) -> None:
    app = make_app(LocalSyncClient(live_server.url + "/nope", api.token, api.workspace))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        assert "No Local Sync server at this address" in _message(app)
        assert "HTTP 404" in _message(app)


async def test_bad_gateway_is_a_toast_with_its_status(
    api: Api, bad_gateway: str, make_app: Any
) -> None:
    app = make_app(LocalSyncClient(bad_gateway, api.token, api.workspace))
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        await until(pilot, lambda: toasts.find("HTTP 502 Bad Gateway"), "toast with the status")
        assert isinstance(app.screen, SourcesScreen)


async def test_workspace_not_granted(api: Api, live_server: LiveServer, make_app: Any) -> None:
    client = LocalSyncClient(live_server.url, api.token, "ws-someone-else")
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        assert "Workspace not granted" in _message(app)
        assert "ws-someone-else" in _message(app)


async def test_conflict_resolved_elsewhere_is_not_overwritten(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        api.resolve(conflict["id"], "keep_raven")  # someone else, meanwhile
        await pilot.press("L", "ctrl+s")
        await until(pilot, lambda: app.screen is not merge, "merge screen closed")
        await until(pilot, lambda: toasts.find("resolved this conflict already"), "told why")
    assert api.file(sid, PATH)["content"] == RAVEN


async def test_stale_revision_reloads_and_keeps_the_choices_that_still_apply(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        before = merge.conflict
        assert before is not None
        await pilot.press("1", "1", "2")
        assert merge.unresolved == 0
        # The connector edits its side again: same three regions, new revision.
        newer = LOCAL.replace("alpha LOCAL", "alpha LOCAL again")
        api.push(sid, upsert(PATH, newer, base=sha(LOCAL)))
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: merge.conflict is not None and merge.conflict.revision > before.revision,
            "reloaded at the new revision",
        )
        assert app.screen is merge
        # Regions 2 and 3 are unchanged and keep their choices; region 1's local
        # lines changed, so the choice made on the old lines must be made again.
        assert {i: d.choice for i, d in merge.state.decisions.items()} == {2: "LOCAL", 3: "RAVEN"}
        await until(pilot, lambda: toasts.find("changed on the server"), "told why")
        await pilot.press("up", "up", "1")
        await until(pilot, lambda: merge.unresolved == 0, "region 1 decided again")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is not merge, "saved on the second try")
    content = api.file(sid, PATH)["content"]
    assert content.startswith("# Plan\n\nalpha LOCAL again\n")
    assert content.endswith("beta LOCAL\n\nmore middle\n\ngamma RAVEN\n")


# ---- the server's limits, said plainly ---------------------------------------------


async def test_a_query_over_the_cost_budget_says_what_to_do(
    api: Api, start_server: Callable[..., LiveServer]
) -> None:
    api.source()
    server = start_server(graphql_max_cost=1)
    app = LocalSyncApp(LocalSyncClient(server.url, api.token, api.workspace), live=False)
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        await until(pilot, lambda: toasts.find("too much at once"), "refusal shown")
        toast = toasts.find("too much at once")
        assert toast is not None
        assert toast.title == "Too much at once"
        assert "Open a smaller part" in toast.message
        assert "LOCALSYNC_GRAPHQL_MAX_COST" in toast.message
        assert "query cost" not in toast.message  # the API's wording stays out
        assert isinstance(app.screen, SourcesScreen)  # not a connection problem


async def test_too_many_live_feeds_for_the_token_says_what_to_do(
    api: Api, start_server: Callable[..., LiveServer]
) -> None:
    api.source()
    api.source(name="Other")
    server = start_server(max_subscriptions_per_token=1)
    app = LocalSyncApp(LocalSyncClient(server.url, api.token, api.workspace))
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        await until(pilot, lambda: toasts.find("Live updates for"), "refusal shown")
        toast = toasts.find("Live updates for")
        assert toast is not None
        assert toast.title == "Too many at once"
        assert "allows no more at once for this token" in toast.message
        assert "Close other Local Sync windows" in toast.message
        assert isinstance(app.screen, SourcesScreen)
