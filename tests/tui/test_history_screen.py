"""History: versions previewed whole or as diffs, list keys, and restoring (which asks first)."""

from typing import Any

from textual.widgets import ContentSwitcher

from tests.factories import Api, sha, upsert
from tests.tui.helpers import Toasts, text_of, until
from tui.screens.confirm import ConfirmScreen
from tui.screens.history import FIRST_VERSION_NOTE, HistoryScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.diff_view import DiffView
from tui.widgets.note_view import NoteView
from tui.widgets.version_list import VersionList


async def _history(pilot: Any, app: Any, path: str, count: int = 2) -> VersionList:
    await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
    sources = app.screen
    assert isinstance(sources, SourcesScreen)
    history = HistoryScreen(sources.sources[0], path)
    await app.push_screen(history)
    versions = history.query_one(VersionList)
    await until(pilot, lambda: versions.row_count == count and versions.has_focus, "versions shown")
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
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        await _history(pilot, app, "a.md")
        await pilot.press("down", "R")
        await until(pilot, lambda: toasts.find("bidirectional sources only"), "explained")
        assert not isinstance(app.screen, ConfirmScreen)
    assert api.file(sid, "a.md")["content"] == "two\n"
    assert len(api.history(sid, "a.md")) == 2


V1 = "# Plan\n\n- milk\n"
V2 = "# Plan\n\n- oat milk\n- bread\n"
V3 = "# Plan\n\n- bread\n"


async def test_end_home_pages_and_j_k_move_the_cursor_and_q_goes_back(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", V1))
    api.push(sid, upsert("a.md", V2, base=sha(V1)))
    api.push(sid, upsert("a.md", V3, base=sha(V2)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        versions = await _history(pilot, app, "a.md", 3)
        await pilot.press("end")
        await until(pilot, lambda: versions.cursor_row == 2, "End: the oldest version")
        await pilot.press("home")
        await until(pilot, lambda: versions.cursor_row == 0, "Home: the newest version")
        await pilot.press("pagedown")
        await until(pilot, lambda: versions.cursor_row == 2, "PageDown: to the last row")
        await pilot.press("pageup")
        await until(pilot, lambda: versions.cursor_row == 0, "PageUp: to the first row")
        await pilot.press("j", "j", "k")
        await until(pilot, lambda: versions.cursor_row == 1, "j, j, k: one down")
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "q: back")


async def test_the_cursor_shows_a_version_whole_and_d_its_diff_with_the_parent(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", V1))
    api.push(sid, upsert("a.md", V2, base=sha(V1)))
    api.push(sid, upsert("a.md", V3, base=sha(V2)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _history(pilot, app, "a.md", 3)
        history = app.screen
        whole = history.query_one("#version", NoteView)
        switcher = history.query_one("#history-view", ContentSwitcher)
        diff = history.query_one("#diff", DiffView)
        await until(pilot, lambda: whole.text == V3 and whole.complete, "newest shown whole")

        await pilot.press("down")
        await until(pilot, lambda: whole.text == V2 and whole.complete, "version 2 whole")
        assert switcher.current == "version-box"
        assert any("oat milk" in line.text for line in whole.lines)

        await pilot.press("d")
        await until(pilot, lambda: switcher.current == "diff-box", "diff shown")
        await until(pilot, lambda: "+- oat milk" in text_of(diff), "diff of 2 against 1")
        assert "-- milk" in text_of(diff) and "+- bread" in text_of(diff)

        await pilot.press("up")  # the diff follows the cursor: 3 against 2
        await until(pilot, lambda: "-- oat milk" in text_of(diff), "diff of 3 against 2")

        await pilot.press("end")  # the first version has nothing before it
        await until(pilot, lambda: whole.text == FIRST_VERSION_NOTE, "first version explained")
        await pilot.press("d")
        await until(pilot, lambda: whole.text == V1 and whole.complete, "version 1 whole")


async def test_a_long_diff_is_drawn_and_end_reaches_its_last_line(api: Api, make_app: Any) -> None:
    old = "".join(f"line {n}\n" for n in range(2000))
    new = "".join(f"line {n} changed\n" for n in range(2000))
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", old))
    api.push(sid, upsert("a.md", new, base=sha(old)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _history(pilot, app, "a.md", 2)
        diff = app.screen.query_one("#diff", DiffView)
        await pilot.press("d")
        await until(pilot, lambda: diff.diff is not None, "diff shown")
        assert diff.virtual_size.height == 1 + len(diff.diff.lines) > 4000
        await pilot.press("tab")
        await until(pilot, lambda: diff.has_focus, "diff focused")
        await pilot.press("end")
        await until(pilot, lambda: diff.scroll_y == diff.max_scroll_y > 0, "at the last line")
        assert text_of_last_line(diff) == "+line 1999 changed"


def text_of_last_line(diff: DiffView) -> str:
    return diff.render_line(diff.scrollable_content_region.height - 1).text.rstrip()


async def test_a_moved_file_says_where_it_was_moved_from(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("notes/a.md", "one\n"))
    api.push(sid, upsert("archive/a.md", "one\n", base=sha("one\n"), renameFrom="notes/a.md"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        versions = await _history(pilot, app, "archive/a.md")
        newest, first = (str(versions.get_row_at(i)[4]) for i in (0, 1))
        assert "moved from notes/a.md" in newest
        assert "moved" not in first
        screen = app.export_screenshot()
        assert "moved from notes/a.md" in screen.replace("&#160;", " ")
