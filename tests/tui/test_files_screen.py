"""The files screen against a real server: deleted files, live updates, the filter's Escape."""

from typing import Any

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from tests.factories import Api, delete, sha, upsert
from tests.tui.helpers import open_files, text_of, until
from tui.client import FileContent, LocalSyncClient
from tui.screens.files import DELETED_NOTE, FilesScreen
from tui.screens.history import HistoryScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.file_tree import FileTree
from tui.widgets.version_list import VersionList

LONG = "".join(f"line {n} of a long read\n\n" for n in range(200))


class CountingClient(LocalSyncClient):
    """The real client, noting which files' content the app fetched."""

    def __init__(self, client: LocalSyncClient) -> None:
        super().__init__(client.server, client.token, client.workspace)
        self.opened: list[str] = []

    async def file(self, source_id: str, path: str) -> FileContent:
        self.opened.append(path)
        return await super().file(source_id, path)


def shown(tree: FileTree) -> list[str]:
    """The tree's visible lines as labels: ``notes/`` for a folder, ``plan.md ●`` for a file."""
    lines = []
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None:
            lines.append(_plain(node.label))
    return lines


async def cursor_to(pilot: Pilot[Any], tree: FileTree, label: str) -> None:
    """Walk the tree's cursor down with the arrow key onto the line starting with ``label``."""
    for _ in range(tree.last_line + 1):
        node = tree.cursor_node
        if node is not None and _plain(node.label).startswith(label):
            return
        await pilot.press("down")
    raise AssertionError(f"{label} is not in the tree: {shown(tree)}")


def idle(files: FilesScreen) -> bool:
    """No load of the screen's is still pending or running."""
    return not any(w.node is files and not w.is_finished for w in files.app.workers)


async def test_deleted_file_shows_badge_note_and_history(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "# A\n"), upsert("b.md", "# B\n"))
    api.push(sid, delete("b.md", base=sha("# B\n")))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 2)
        tree = files.query_one(FileTree)
        assert shown(tree) == ["a.md ●", "b.md ✗ deleted"]
        assert [f.state for f in files.files] == ["OK", "DELETED"]

        await cursor_to(pilot, tree, "b.md")
        await pilot.press("enter")
        plain = files.query_one("#plain", TextArea)
        await until(pilot, lambda: plain.text == DELETED_NOTE, "deleted note shown")
        title = text_of(files.query_one("#file-title", Static))
        assert "b.md" in title and "deleted" in title

        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen), "history screen")
        versions = app.screen.query_one("#versions", VersionList)
        await until(pilot, lambda: len(versions.versions) == 2, "versions loaded")
        assert [v.deleted for v in versions.versions] == [True, False]
        assert versions.versions[1].hash == sha("# B\n")


async def test_unrelated_change_keeps_reading_place(
    api: Api, make_app: Any, client: LocalSyncClient
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("notes/long.md", LONG), upsert("readme.md", "# Readme\n"))
    counting = CountingClient(client)
    app = make_app(counting)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: sid in app.followed, "following the source")
        files = await open_files(pilot, 2)
        tree = files.query_one(FileTree)
        await cursor_to(pilot, tree, "long.md")
        await pilot.press("enter", "m")
        plain = files.query_one("#plain", TextArea)
        await until(pilot, lambda: plain.text == LONG, "long file shown")
        await until(pilot, lambda: plain.display, "plain view")
        await pilot.press("tab")
        await until(pilot, lambda: plain.has_focus, "plain view focused")
        await pilot.press("pagedown", "pagedown", "pagedown")
        await until(pilot, lambda: plain.scroll_y > 0, "scrolled down")
        await pilot.wait_for_scheduled_animations()
        place = plain.scroll_offset
        assert counting.opened == ["notes/long.md"]

        api.push(sid, upsert("notes/new.md", "# New\n"))  # no key pressed from here on

        await until(pilot, lambda: "new.md ●" in shown(tree), "new file in the tree")
        await until(pilot, lambda: idle(files), "loads done")
        assert counting.opened == ["notes/long.md"]
        assert plain.scroll_offset == place
        assert plain.text == LONG and plain.has_focus

        await pilot.press("r")  # fetched again, but the same text: the place stays too
        await until(pilot, lambda: len(counting.opened) == 2 and idle(files), "reloaded")
        assert plain.scroll_offset == place


async def test_change_to_the_open_file_shows_it(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "first\n"), upsert("b.md", "other\n"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: sid in app.followed, "following the source")
        files = await open_files(pilot, 2)
        await pilot.press("enter")
        plain = files.query_one("#plain", TextArea)
        await until(pilot, lambda: plain.text == "first\n", "a.md shown")

        api.push(sid, upsert("a.md", "second\n", base=sha("first\n")))

        await until(pilot, lambda: plain.text == "second\n", "the new content shown")


async def test_collapsed_folder_stays_collapsed_after_a_live_change(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("journal/day.md", "# Day\n"), upsert("notes/plan.md", "# Plan\n"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: sid in app.followed, "following the source")
        files = await open_files(pilot, 2)
        tree = files.query_one(FileTree)
        assert shown(tree) == ["journal/", "day.md ●", "notes/", "plan.md ●"]
        await cursor_to(pilot, tree, "notes/")
        await pilot.press("space")
        await until(pilot, lambda: shown(tree) == ["journal/", "day.md ●", "notes/"], "closed")

        api.push(sid, upsert("readme.md", "# Readme\n"))

        await until(pilot, lambda: len(files.files) == 3, "new file listed")
        assert shown(tree) == ["journal/", "day.md ●", "notes/", "readme.md ●"]
        cursor = tree.cursor_node
        assert cursor is not None and _plain(cursor.label) == "notes/"


async def test_escape_in_filter_clears_it_and_returns_to_tree(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("notes/plan.md", "# Plan\n"), upsert("readme.md", "# Readme\n"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 2)
        tree = files.query_one(FileTree)
        filter_input = files.query_one("#filter", Input)
        await pilot.press("slash")
        await until(pilot, lambda: filter_input.has_focus, "filter focused")
        await pilot.press(*"plan")
        await until(pilot, lambda: shown(tree) == ["notes/", "plan.md ●"], "tree filtered")

        await pilot.press("escape")

        await until(pilot, lambda: tree.has_focus, "tree focused again")
        await until(pilot, lambda: len(shown(tree)) == 3, "every file shown again")
        assert filter_input.value == ""
        assert app.screen is files


async def test_escape_from_tree_goes_back(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("readme.md", "# Readme\n"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 1)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "back to sources")
        assert files not in app.screen_stack


def _plain(label: str | Text) -> str:
    return label if isinstance(label, str) else label.plain
