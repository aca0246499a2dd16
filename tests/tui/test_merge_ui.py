"""The merge screen's panes: word highlights, following the region, mouse selection."""

from typing import Any

from textual.widgets import Static, TextArea

from tests.factories import Api, sha, upsert
from tests.tui.conftest import PATH as PATH3
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import text_of, until
from tests.tui.merge_helpers import _drafts_in_tmp, open_merge  # noqa: F401
from tui.screens.confirm import ConfirmScreen
from tui.screens.edit_region import EditRegionScreen
from tui.screens.files import FilesScreen
from tui.screens.merge import MergeScreen
from tui.widgets.file_tree import FileTree
from tui.widgets.merge_rows import Side, highlights
from tui.widgets.merge_view import MergeView

PATH = "notes/long.md"
FILLER = "".join(f"filler line {n}\n" for n in range(60))
BASE = f"top one\n{FILLER}bottom one\n"
LOCAL = f"top LOCAL\n{FILLER}bottom LOCAL\n"
RAVEN = f"top RAVEN\n{FILLER}bottom RAVEN\n"
WITH_MARKERS = (
    "# Plan\n\nalpha LOCAL\n\nmiddle text\n\n"
    "<<<<<<< local\nbeta LOCAL\n||||||| base\nbeta two\n=======\nbeta RAVEN\n>>>>>>> raven\n"
    "\nmore middle\n\n"
    "<<<<<<< local\ngamma LOCAL\n||||||| base\ngamma three\n=======\ngamma RAVEN\n"
    ">>>>>>> raven\n"
)
"""The three-region conflict with region 1 taken from local and 2, 3 left open."""


def _words(merge: MergeScreen, region: int, side: Side) -> list[str]:
    """The words highlighted on ``side`` in the first line of ``region``."""
    view = merge.query_one(MergeView)
    assert view.doc is not None
    row = view.doc.rows[view.doc.region_rows[region][0] + 1]
    line = row.line(side)
    assert line is not None
    text = view.doc.texts[side][line]
    return [text[a:b] for a, b in highlights(view.doc, row, side)]


async def test_changed_words_are_highlighted_per_side(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        # Base known: each side against the base, on its own text; the base marks
        # the words the sides replaced.
        assert _words(merge, 1, "local") == ["LOCAL"]
        assert _words(merge, 1, "remote") == ["RAVEN"]
        assert _words(merge, 1, "base") == ["one"]


async def test_panes_follow_the_current_region(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert(PATH, BASE))
    api.push(sid, upsert(PATH, LOCAL, base=sha(BASE)))
    edit = api.update(sid, PATH, RAVEN, base=sha(BASE))
    assert edit["status"] == "conflict", edit
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, edit["conflictId"])
        assert merge.region_count == 2
        view = merge.query_one(MergeView)
        await until(pilot, lambda: view.region_shown(1) and not view.region_shown(2), "region 1")
        await pilot.press("down")
        await until(
            pilot, lambda: view.region_shown(2) and not view.region_shown(1), "region 2 scrolled in"
        )
        await pilot.press("up")
        await until(pilot, lambda: view.region_shown(1), "back to region 1")


async def test_clicking_a_region_selects_it(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        assert merge.current == 1
        view = merge.query_one(MergeView)

        def row_of(region: int) -> int:
            assert view.doc is not None and view.wrapped is not None
            first = view.doc.region_rows[region][0]
            return view.wrapped.starts[first + 1] - view.scroll_offset.y

        assert await pilot.click("#sides", offset=(70, row_of(3)))
        await pilot.pause()
        assert merge.current == 3
        assert await pilot.click("#sides", offset=(3, row_of(2)))
        await pilot.pause()
        assert merge.current == 2
        await pilot.press("2")  # the keys act on the clicked region
        assert merge.state.decisions[2].choice == "RAVEN" and merge.current == 3


async def test_a_live_reload_keeps_the_file_tree_cursor(api: Api, make_app: Any) -> None:
    """A file pushed elsewhere rebuilds the tree; the cursor stays on the chosen file."""
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "A\n"), upsert("b.md", "B\n"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FilesScreen), "files screen")
        tree = app.screen.query_one(FileTree)
        await until(pilot, lambda: len(tree.files) == 2 and tree.has_focus, "files loaded")
        await pilot.pause()
        await pilot.press("down")
        await until(pilot, lambda: _cursor_path(tree) == "b.md", "cursor on b.md")
        api.push(sid, upsert("0-first.md", "new\n"))  # sorts above both
        await until(pilot, lambda: len(tree.files) == 3, "live reload")
        assert _cursor_path(tree) == "b.md"


def _cursor_path(tree: FileTree) -> str | None:
    node = tree.cursor_node
    return node.data.path if node is not None and node.data is not None else None


async def test_saving_with_unresolved_regions_asks_then_keeps_markers(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("1")  # region 1: local; regions 2 and 3 stay open
        await until(pilot, lambda: merge.result_text.startswith("# Plan\n\nalpha LOCAL"), "preview")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is merge, "back to merging")
        assert [c["id"] for c in api.conflicts(sid)] == [conflict["id"]]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is not merge, "saved")
    assert api.file(sid, PATH3)["content"] == WITH_MARKERS
    [resolved] = api.conflicts(sid, status=None)
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "manual_merge")


async def test_the_safe_answer_is_the_default(api: Api, make_app: Any) -> None:
    """A stray enter on the question keeps merging; nothing is saved."""
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is merge, "back to merging")
        assert merge.unresolved == 3
    assert [c["id"] for c in api.conflicts(sid)] == [conflict["id"]]


async def test_the_editor_starts_from_the_choice_and_shows_both_sides(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("b", "up")  # region 1: both, local first; back to it
        await until(pilot, lambda: merge.current == 1, "back on region 1")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditRegionScreen), "editor open")
        editor = app.screen
        area = editor.query_one("#edit-text", TextArea)
        assert area.text == "alpha LOCAL\nalpha RAVEN\n"
        shown = [text_of(s) for s in editor.query(".edit-side Static").results(Static)]
        assert shown[1::2] == ["alpha LOCAL", "alpha RAVEN"]  # each side's own text only
        assert shown[0].startswith("local") and shown[2].startswith("raven")
        area.text = "alpha BOTH\n"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is merge, "editor closed")
        await until(pilot, lambda: "alpha BOTH\n" in merge.result_text, "edited result")
        assert merge.state.decisions[1].choice == "EDITED"
        await pilot.press("e")  # reopening shows the edited text
        await until(pilot, lambda: isinstance(app.screen, EditRegionScreen), "editor again")
        assert app.screen.query_one("#edit-text", TextArea).text == "alpha BOTH\n"
