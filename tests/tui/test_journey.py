"""A user's path through the app against a real server, checked through REST."""

from typing import Any

from textual.widgets import ContentSwitcher, DataTable, Static, TextArea

from tests.factories import Api, delete, sha, upsert
from tests.tui.conftest import BASE, LOCAL, PATH, RAVEN, three_region_conflict
from tests.tui.helpers import text_of, until
from tui.screens.confirm import ConfirmScreen
from tui.screens.files import FilesScreen
from tui.screens.history import HistoryScreen
from tui.screens.inbox import InboxScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.diff_view import DiffView
from tui.widgets.file_tree import FileTree
from tui.widgets.version_list import VersionList

EXPECTED = "# Plan\n\nalpha LOCAL\n\nmiddle text\n\nbeta RAVEN\n\nmore middle\n\ngamma MINE\n"


async def test_browse_read_history_diff_and_merge(api: Api, make_app: Any) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("readme.md", "# Readme\n\nhello\n"))
    conflict = three_region_conflict(api, sid)
    app = make_app()

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        sources = app.screen
        await until(pilot, lambda: sources.sources, "sources loaded")
        table = sources.query_one("#sources", DataTable)
        assert table.row_count == 1
        assert [str(c) for c in table.get_row_at(0)][:2] == ["Notes", "bidirectional"]

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FilesScreen), "files screen")
        files = app.screen
        assert isinstance(files, FilesScreen)
        tree = files.query_one(FileTree)
        await until(pilot, lambda: len(files.files) == 2 and tree.has_focus, "files loaded")
        await pilot.pause()

        # The tree reads: notes/, plan.md, readme.md.
        await pilot.press("down", "enter")
        plain = files.query_one("#plain", TextArea)
        await until(pilot, lambda: plain.text == LOCAL, "file content shown")
        assert "notes/plan.md" in text_of(files.query_one("#file-title", Static))
        assert "conflict" in text_of(files.query_one("#file-title", Static))
        switcher = files.query_one("#file-view", ContentSwitcher)
        assert switcher.current == "rendered-box"
        await pilot.press("m")
        assert switcher.current == "plain"

        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen), "history screen")
        versions = app.screen.query_one("#versions", VersionList)
        await until(pilot, lambda: len(versions.versions) == 3, "versions loaded")
        assert [v.hash for v in versions.versions] == [sha(RAVEN), sha(LOCAL), sha(BASE)]
        assert [v.origin for v in versions.versions] == ["RAVEN", "CONNECTOR", "CONNECTOR"]
        await pilot.press("space", "down", "down", "space")
        diff = app.screen.query_one("#diff", DiffView)
        await until(pilot, lambda: "+alpha RAVEN" in text_of(diff), "diff shown")
        shown = text_of(diff)
        assert "-alpha one" in shown and "+gamma RAVEN" in shown and "+3 -3" in shown

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is files, "back to files")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, MergeScreen), "merge screen")
        merge = app.screen
        assert isinstance(merge, MergeScreen)
        await until(pilot, lambda: merge.conflict is not None, "conflict loaded")
        assert merge.region_count == 3 and merge.unresolved == 3

        await pilot.press("1")  # region 1: local, then the cursor moves on
        await pilot.press("2")  # region 2: raven
        assert merge.current == 3 and merge.unresolved == 1
        await pilot.press("ctrl+s")  # one region left: asks before keeping markers
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is merge, "still merging")
        await pilot.press("e")
        await until(pilot, lambda: app.screen is not merge, "region editor")
        editor = app.screen.query_one("#edit-text", TextArea)
        assert editor.text == "gamma LOCAL\n"
        editor.text = "gamma MINE\n"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is merge, "editor closed")
        await until(pilot, lambda: merge.result_text == EXPECTED, "server-computed result")
        assert merge.unresolved == 0

        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is files, "saved and back to files")

    assert api.file(sid, PATH)["content"] == EXPECTED
    [resolved] = [c for c in api.conflicts(sid, status=None) if c["id"] == conflict["id"]]
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == "manual_merge"
    assert resolved["resolvedHash"] == sha(EXPECTED)
    assert api.conflicts(sid) == []


async def test_inbox_says_what_happened_and_where_each_side_came_from(
    api: Api, make_app: Any
) -> None:
    desk = api.connector("desk")
    sid = api.source(connector=api.connector("laptop"))["id"]
    base, theirs, mine = "# A\nbase\n", "# A\ndesk line\n", "# A\nlaptop line\n"
    laptop_id = api.sources()[0]["connectorId"]
    api.push(sid, upsert("a.md", base), connectorId=laptop_id)
    api.push(sid, upsert("a.md", theirs, base=sha(base)), connectorId=desk["id"])  # 2nd folder
    api.push(sid, upsert("a.md", mine, base=sha(base)), connectorId=laptop_id)
    api.push(sid, upsert("b.md", base), connectorId=laptop_id)
    api.update(sid, "b.md", "# A\nraven line\n", base=sha(base))
    api.push(sid, delete("b.md", sha(base)), connectorId=laptop_id)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), "inbox")
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        await until(pilot, lambda: len(inbox.sides) == 2, "sides named")
        table = inbox.query_one("#conflicts", DataTable)
        said = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[3]) for i in range(2)}
        assert said == {
            "a.md": "edited in laptop and in desk",
            "b.md": "deleted in laptop, edited in Raven",
        }
        title = text_of(inbox.query_one("#inbox-title", Static))
        assert title == "Conflict inbox · 2 open conflicts"
