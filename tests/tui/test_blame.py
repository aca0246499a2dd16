"""Blame: b on a version shows who introduced each line, grouped, with the server's cap note."""

from typing import Any

from tests.factories import Api, sha, upsert
from tests.tui.helpers import text_of, until
from tui.screens.blame import BlameScreen
from tui.screens.history import HistoryScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.blame_view import BlameView
from tui.widgets.version_list import VersionList

V1 = "# Plan\nmilk\n"
V2 = "# Plan\nmilk\nbread\n"
V3 = "# Plan\nmilk\nbread\neggs\n"


def _drawn(view: BlameView, y: int) -> str:
    return "".join(segment.text for segment in view.render_line(y)).rstrip()


async def _history(pilot: Any, app: Any, path: str, count: int) -> HistoryScreen:
    await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
    sources = app.screen
    assert isinstance(sources, SourcesScreen)
    history = HistoryScreen(sources.sources[0], path)
    await app.push_screen(history)
    versions = history.query_one(VersionList)
    await until(pilot, lambda: versions.row_count == count and versions.has_focus, "versions")
    return history


async def test_blame_names_each_lines_author_and_groups_runs(api: Api, make_app: Any) -> None:
    laptop = api.connector("laptop")
    sid = api.source(connector=laptop)["id"]
    api.push(sid, upsert("a.md", V1), connectorId=laptop["id"])
    assert api.update(sid, "a.md", V2, base=sha(V1))["status"] == "ok"
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        history = await _history(pilot, app, "a.md", 2)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, BlameScreen), "blame screen")
        blame = app.screen
        assert isinstance(blame, BlameScreen)
        view = blame.query_one(BlameView)
        await until(pilot, lambda: len(view.lines) == 3 and view.has_focus, "lines blamed")
        assert [line.author for line in view.lines] == ["laptop", "laptop", "Raven"]
        first, second, third = (_drawn(view, y) for y in range(3))
        assert first.startswith("laptop") and "v1" in first and first.endswith("# Plan")
        assert second.strip().startswith("│") and second.endswith("milk")  # same run: no gutter
        assert third.startswith("Raven") and "v2" in third and third.endswith("bread")
        assert not blame.query_one("#blame-note").display  # walked to version 1: no note
        await pilot.press("q")
        await until(pilot, lambda: app.screen is history, "back in history")


async def test_blame_says_where_a_capped_walk_stops(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", V1))
    api.push(sid, upsert("a.md", V2, base=sha(V1)))
    api.push(sid, upsert("a.md", V3, base=sha(V2)))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        history = await _history(pilot, app, "a.md", 3)
        newest = history.query_one(VersionList).versions[0]
        blame = BlameScreen(history.source, "a.md", newest, max_versions=2)
        await app.push_screen(blame)
        view = blame.query_one(BlameView)
        await until(pilot, lambda: len(view.lines) == 4, "lines blamed")
        note = blame.query_one("#blame-note")
        await until(pilot, lambda: note.display, "note shown")
        assert "blame stops at version 2" in text_of(note)
        assert [(line.seq, line.or_older) for line in view.lines] == [
            (2, True),
            (2, True),
            (2, True),
            (3, False),
        ]
        assert "≤v2" in _drawn(view, 0)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is history, "back in history")
