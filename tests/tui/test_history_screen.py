"""Restoring a version writes to every synced folder, so it asks first; r only reloads."""

from typing import Any

from tests.factories import Api, sha, upsert
from tests.tui.helpers import until
from tui.screens.confirm import ConfirmScreen
from tui.screens.history import HistoryScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.version_list import VersionList


async def _history(pilot: Any, app: Any, path: str) -> VersionList:
    await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
    sources = app.screen
    assert isinstance(sources, SourcesScreen)
    history = HistoryScreen(sources.sources[0], path)
    await app.push_screen(history)
    versions = history.query_one(VersionList)
    await until(pilot, lambda: versions.row_count == 2 and versions.has_focus, "versions shown")
    return versions


async def test_restore_asks_and_r_only_reloads(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "one\n"))
    api.push(sid, upsert("a.md", "two\n", base=sha("one\n")))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        versions = await _history(pilot, app, "a.md")
        await pilot.press("down", "r")  # reload: writes nothing
        await until(pilot, lambda: versions.row_count == 2, "reloaded")
        await pilot.press("down", "R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "declined")
        assert api.file(sid, "a.md")["content"] == "two\n"
        await until(pilot, lambda: versions.cursor_row == 1, "cursor on version 1")
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("y")
        await until(pilot, lambda: versions.row_count == 3, "restored as a new version")
    assert api.file(sid, "a.md")["content"] == "one\n"


async def test_restore_on_an_import_only_source_is_explained(api: Api, make_app: Any) -> None:
    sid = api.source(mode="import_only")["id"]
    api.push(sid, upsert("a.md", "one\n"))
    api.push(sid, upsert("a.md", "two\n", base=sha("one\n")))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _history(pilot, app, "a.md")
        await pilot.press("down", "R")
        await until(
            pilot,
            lambda: any("bidirectional sources only" in n.message for n in app._notifications),
            "explained",
        )
        assert not isinstance(app.screen, ConfirmScreen)
    assert api.file(sid, "a.md")["content"] == "two\n"
    assert len(api.history(sid, "a.md")) == 2
