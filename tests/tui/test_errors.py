"""What the user sees when the server cannot be used, or refuses a save."""

from typing import Any

from textual.widgets import Static

from tests.conftest import LiveServer
from tests.factories import Api, sha, upsert
from tests.tui.conftest import LOCAL, PATH, RAVEN, three_region_conflict
from tests.tui.helpers import text_of, until
from tui.client import LocalSyncClient
from tui.screens.connect import ConnectScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen


def _message(app: Any) -> str:
    found = app.screen.query("#connect-message")
    if not isinstance(app.screen, ConnectScreen) or not found:
        return ""
    return text_of(found.first(Static))


async def test_server_down_shows_connect_screen_and_retry_keeps_it(
    api: Api, make_app: Any, closed_port: int
) -> None:
    client = LocalSyncClient(f"http://127.0.0.1:{closed_port}", api.token, api.workspace)
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        assert "Cannot reach the server" in _message(app)
        assert f"127.0.0.1:{closed_port}" in _message(app)
        await pilot.press("r")
        hint = app.screen.query_one("#connect-hint", Static)
        await until(pilot, lambda: "Still failing" in text_of(hint), "retry failed")
        assert isinstance(app.screen, ConnectScreen)


async def test_bad_token_then_fixed_token_recovers(
    api: Api, live_server: LiveServer, make_app: Any
) -> None:
    api.source()
    client = LocalSyncClient(live_server.url, "not-a-jwt", api.workspace)
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        assert "refused the token" in _message(app)
        client.token = api.token  # as if the user fixed the config
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "back to sources")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        await until(pilot, lambda: len(sources.sources) == 1, "sources after retry")


async def test_workspace_not_granted(api: Api, live_server: LiveServer, make_app: Any) -> None:
    client = LocalSyncClient(live_server.url, api.token, "ws-someone-else")
    app = make_app(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: _message(app), "connect screen")
        assert "Workspace not granted" in _message(app)
        assert "ws-someone-else" in _message(app)


async def _open_merge(pilot: Any, app: Any, conflict_id: str) -> MergeScreen:
    await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
    screen = MergeScreen(conflict_id)
    app.push_screen(screen)
    await until(pilot, lambda: screen.conflict is not None, "conflict loaded")
    return screen


async def test_conflict_resolved_elsewhere_is_not_overwritten(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await _open_merge(pilot, app, conflict["id"])
        api.resolve(conflict["id"], "keep_raven")  # someone else, meanwhile
        await pilot.press("L", "ctrl+s")
        await until(pilot, lambda: app.screen is not merge, "merge screen closed")
        assert any("resolved this conflict already" in n.message for n in app._notifications)
    assert api.file(sid, PATH)["content"] == RAVEN


async def test_stale_revision_reloads_and_keeps_the_choices_that_still_apply(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await _open_merge(pilot, app, conflict["id"])
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
        assert any("changed on the server" in n.message for n in app._notifications)
        await pilot.press("up", "up", "1")
        await until(pilot, lambda: merge.unresolved == 0, "region 1 decided again")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is not merge, "saved on the second try")
    content = api.file(sid, PATH)["content"]
    assert content.startswith("# Plan\n\nalpha LOCAL again\n")
    assert content.endswith("beta LOCAL\n\nmore middle\n\ngamma RAVEN\n")
