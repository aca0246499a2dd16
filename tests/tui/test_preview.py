"""The files screen previews the file under the cursor, as lazygit and tig do, at any size."""

import asyncio
from typing import Any

from textual import events
from textual.widgets import ContentSwitcher, Input, TextArea

from tests.factories import Api, upsert
from tests.tui.helpers import open_files, until
from tui.client import FileContent, LocalSyncClient
from tui.screens.inbox import InboxScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.file_tree import FileTree
from tui.widgets.note_view import NoteView, split_markdown


def note(sections: int, name: str = "Section") -> str:
    """A markdown note of about 14 lines a section: heading, prose, a list, code, a table."""
    parts = []
    for n in range(sections):
        parts.append(
            f"## {name} {n}\n\nSome *prose* with **bold** and `code`, number {n}.\n\n"
            f"- first point of {n}\n- second point\n\n"
            f"```python\ndef f{n}(x):\n    return x\n```\n\n| a | b |\n|---|---|\n| {n} | two |\n\n"
        )
    return "".join(parts)


class HeldClient(LocalSyncClient):
    """The real client; file loads wait at ``gate`` while it is closed, and are counted."""

    def __init__(self, client: LocalSyncClient) -> None:
        super().__init__(client.server, client.token, client.workspace)
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting: list[str] = []
        """Loads started and waiting at the closed gate now."""
        self.sent: list[str] = []
        """Loads that passed the gate and went to the server."""
        self.most_at_once = 0

    async def file(self, source_id: str, path: str) -> FileContent:
        self.waiting.append(path)
        self.most_at_once = max(self.most_at_once, len(self.waiting))
        try:
            await self.gate.wait()
        finally:
            self.waiting.remove(path)
        self.sent.append(path)
        return await super().file(source_id, path)


def cursor_path(tree: FileTree) -> str | None:
    node = tree.cursor_node
    return None if node is None or node.data is None else node.data.path


async def test_cursor_previews_and_a_fast_scroll_loads_only_the_last_file(
    api: Api, make_app: Any, client: LocalSyncClient
) -> None:
    sid = api.source()["id"]
    api.push(sid, *(upsert(f"n{i:02}.md", f"# Note {i}\n") for i in range(50)))
    held = HeldClient(client)
    app = make_app(held)
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 50)
        tree = files.query_one(FileTree)
        plain = files.query_one("#plain", TextArea)
        await until(pilot, lambda: plain.text == "# Note 0\n", "first file previewed")

        held.gate.clear()
        held.sent.clear()
        await pilot.press(*["j"] * 49)
        await until(pilot, lambda: cursor_path(tree) == "n49.md", "cursor on the last file")
        await until(pilot, lambda: held.waiting == ["n49.md"], "the last file's load waiting")
        held.gate.set()

        await until(pilot, lambda: plain.text == "# Note 49\n", "last file previewed")
        assert held.sent == ["n49.md"]  # every older load was cancelled before it left
        assert held.most_at_once == 1
        assert files.chosen is not None and files.chosen.path == "n49.md"


async def test_home_end_and_pages_move_the_tree_cursor_and_q_goes_back(
    api: Api, make_app: Any
) -> None:
    sid = api.source()["id"]
    api.push(sid, *(upsert(f"n{i:02}.md", f"# Note {i}\n") for i in range(60)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 60)
        tree = files.query_one(FileTree)
        await pilot.press("end")
        await until(pilot, lambda: cursor_path(tree) == "n59.md", "End: last file")
        await pilot.press("home")
        await until(pilot, lambda: cursor_path(tree) == "n00.md", "Home: first file")
        await pilot.press("pagedown")
        await until(pilot, lambda: tree.cursor_line > 10, "PageDown: a page further")
        line = tree.cursor_line
        await pilot.press("pageup")
        await until(pilot, lambda: tree.cursor_line < line, "PageUp: a page back")
        await pilot.press("j", "j", "k")
        await until(pilot, lambda: tree.cursor_line == 1, "j, j, k: one down")
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "q: back to sources")
        assert files not in app.screen_stack


async def test_keys_typed_at_once_after_slash_go_to_the_filter(api: Api, make_app: Any) -> None:
    """A terminal hands over ``/bob`` and Enter in one read: all of it is the filter's."""
    sid = api.source()["id"]
    api.push(sid, upsert("bob.md", "# Bob\n"), upsert("inbox-ideas.md", "# Ideas\n"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 2)
        tree = files.query_one(FileTree)
        filter_input = files.query_one("#filter", Input)
        for key, character in [("slash", "/"), *((c, c) for c in "bobi"), ("enter", "\r")]:
            app.post_message(events.Key(key, character))
        await until(pilot, lambda: filter_input.value == "bobi", "all four letters filtered")
        await until(pilot, lambda: tree.has_focus, "Enter returned to the tree")
        assert app.screen is files and not isinstance(app.screen, InboxScreen)

        # / again selects the filter (typing replaces it); in the filter, / is typed.
        await pilot.press("slash", "a", "slash", "b")
        await until(pilot, lambda: filter_input.value == "a/b", "slash typed in the filter")


async def test_another_file_starts_at_its_top(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", note(40, "Alpha")), upsert("b.md", note(40, "Beta")))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 2)
        tree = files.query_one(FileTree)
        rendered = files.query_one("#rendered", NoteView)
        await until(pilot, lambda: rendered.key == "a.md" and rendered.complete, "a.md drawn")
        rendered.focus()
        await pilot.press("pagedown", "pagedown", "end")
        await until(pilot, lambda: rendered.scroll_y > 100, "a.md read far down")

        tree.focus()
        await pilot.press("down")
        await until(pilot, lambda: rendered.key == "b.md" and rendered.complete, "b.md drawn")
        assert rendered.scroll_y == 0
        assert "Beta 0" in rendered.lines[0].text or "Beta 0" in rendered.lines[1].text


async def test_a_long_note_renders_whole_and_plain_mode_leaves_rendered_alone(
    api: Api, make_app: Any
) -> None:
    long = note(220)  # about 3,000 lines
    sid = api.source()["id"]
    api.push(sid, upsert("long.md", long), upsert("short.md", "# Short\n"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        files = await open_files(pilot, 2)
        rendered = files.query_one("#rendered", NoteView)
        await until(pilot, lambda: rendered.key == "long.md" and rendered.complete, "drawn")
        assert len(rendered.lines) > long.count("\n") / 2
        rendered.focus()
        await pilot.press("end")
        await until(pilot, lambda: rendered.scroll_y == rendered.max_scroll_y > 0, "at the end")

        await pilot.press("m")
        switcher = files.query_one("#file-view", ContentSwitcher)
        assert switcher.current == "plain"
        tree = files.query_one(FileTree)
        tree.focus()
        await pilot.press("down")
        plain = files.query_one("#plain", TextArea)
        await until(pilot, lambda: plain.text == "# Short\n", "short.md in plain text")
        assert rendered.key == "long.md"  # hidden: not rebuilt for short.md

        await pilot.press("m")
        await until(pilot, lambda: rendered.key == "short.md" and rendered.complete, "shown")
        assert rendered.scroll_y == 0


def test_markdown_is_cut_only_between_blocks() -> None:
    text = note(60) + "```\n" + "# not a heading\n" * 500 + "```\n\nlast words\n"
    pieces = split_markdown(text, first=10, rest=50)
    assert "".join(pieces) == text
    assert len(pieces) > 5
    for piece in pieces:
        assert piece.count("```") % 2 == 0  # no fence is cut open
        assert not piece.startswith(("- ", "|", "    "))
