"""Every merge key and the sources screen's pause key, checked through the REST API."""

from typing import Any

from tests.factories import Api
from tests.tui.conftest import PATH, RAVEN, three_region_conflict
from tests.tui.helpers import until
from tui.screens.inbox import InboxScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen

BOTH_KEYS = (
    "# Plan\n\nalpha RAVEN\nalpha LOCAL\n\nmiddle text\n\nbeta two\n\n"
    "more middle\n\ngamma LOCAL\ngamma RAVEN\n"
)
"""Region 1 both (raven first), region 2 base, region 3 both (local first)."""


async def _merge_from_inbox(pilot: Any, app: Any) -> tuple[InboxScreen, MergeScreen]:
    await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
    await pilot.press("i")
    await until(pilot, lambda: isinstance(app.screen, InboxScreen), "inbox")
    inbox = app.screen
    await until(pilot, lambda: len(inbox.conflicts) == 1, "conflict listed")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, MergeScreen), "merge screen")
    merge = app.screen
    await until(pilot, lambda: merge.conflict is not None and merge.result_text, "loaded")
    return inbox, merge


async def test_both_base_and_moving_keys_then_back_to_an_empty_inbox(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        inbox, merge = await _merge_from_inbox(pilot, app)
        await pilot.press("B", "0")  # region 1 both (raven first), region 2 base
        assert merge.current == 3
        await pilot.press("h")
        assert merge.current == 2
        await pilot.press("l", "b")  # region 3 both (local first)
        await until(pilot, lambda: merge.result_text == BOTH_KEYS, "server result")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is inbox, "back in the inbox")
        await until(pilot, lambda: inbox.conflicts == [], "conflict gone")
    assert api.file(sid, PATH)["content"] == BOTH_KEYS
    assert api.conflicts(sid) == []


async def test_keep_raven_for_the_whole_file(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        inbox, merge = await _merge_from_inbox(pilot, app)
        await pilot.press("R")
        await until(pilot, lambda: merge.result_text == RAVEN, "raven shown")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is inbox, "back in the inbox")
    assert api.file(sid, PATH)["content"] == RAVEN
    [resolved] = api.conflicts(sid, status=None)
    assert resolved["resolution"] == "keep_raven"


async def test_pause_and_resume_from_the_sources_screen(api: Api, make_app: Any) -> None:
    api.source()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        await pilot.press("p")
        await until(pilot, lambda: sources.sources[0].status == "PAUSED", "shown paused")
        assert api.sources()[0]["status"] == "paused"
        await pilot.press("p")
        await until(pilot, lambda: sources.sources[0].status == "ACTIVE", "shown active")
        assert api.sources()[0]["status"] == "active"
