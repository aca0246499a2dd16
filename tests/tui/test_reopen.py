"""Undoing a resolution from history (u): asks, reopens, offers the merge; refusals read plainly."""

from typing import Any

from tests.factories import Api, sha
from tests.tui.helpers import Toasts, until
from tui.screens.confirm import ConfirmScreen
from tui.screens.history import HistoryScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.marked_version_list import RESOLUTION_MARK, MarkedVersionList


async def _history(pilot: Any, app: Any, path: str, count: int) -> MarkedVersionList:
    await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
    sources = app.screen
    assert isinstance(sources, SourcesScreen)
    history = HistoryScreen(sources.sources[0], path)
    await app.push_screen(history)
    versions = history.query_one(MarkedVersionList)
    await until(
        pilot,
        lambda: versions.row_count == count and versions.marks is not None and versions.has_focus,
        "versions and their marks shown",
    )
    return versions


async def test_undo_reopens_the_conflict_and_opens_the_merge(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    clash = api.open_conflict(sid)
    api.resolve(clash["id"], "keep_local")
    app = make_app()
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        versions = await _history(pilot, app, clash["path"], 4)
        assert RESOLUTION_MARK in versions.origin_text(versions.versions[0]).plain
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked first")
        await pilot.press("y")
        await until(pilot, lambda: toasts.find("the conflict is open"), "told it worked")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "merge offered")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen), "merge screen")
        assert app.screen.conflict_id == clash["id"]
    assert [c["id"] for c in api.conflicts(sid)] == [clash["id"]]
    assert api.file(sid, clash["path"])["hash"] == sha(clash["remote"])


async def test_undo_after_a_newer_edit_is_refused_plainly(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    clash = api.open_conflict(sid)
    api.resolve(clash["id"], "keep_local")
    api.update(sid, clash["path"], "newer\n", base=sha(clash["local"]))
    app = make_app()
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        versions = await _history(pilot, app, clash["path"], 5)
        await pilot.press("u")  # the newest version is the edit, not a resolution
        await until(pilot, lambda: toasts.find("is not a conflict resolution"), "explained")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("down")
        await until(pilot, lambda: versions.cursor_row == 1, "on the resolution")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked first")
        await pilot.press("y")
        await until(pilot, lambda: toasts.find("changed after this conflict was resolved"), "told")
        assert not isinstance(app.screen, ConfirmScreen | MergeScreen)
    assert api.conflicts(sid) == []
    assert api.file(sid, clash["path"])["hash"] == sha("newer\n")
