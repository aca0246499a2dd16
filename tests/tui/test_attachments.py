"""Attachments in the terminal app: described by type and size, never shown as text."""

from typing import Any

from textual.widgets import ContentSwitcher

from tests.attachment_data import attachment, digest, png
from tests.factories import Api
from tests.tui.helpers import Toasts, until
from tui.screens.history import HistoryScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.note_view import NoteView
from tui.widgets.version_list import VersionList


async def test_history_of_a_binary_file_shows_type_and_size(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    first, second = png(shade=1), png(width=8, shade=2)
    api.push(sid, attachment("img/photo.png", first))
    api.push(sid, attachment("img/photo.png", second, base=digest(first)))
    app = make_app()
    toasts = Toasts()
    async with app.run_test(size=(120, 40), message_hook=toasts) as pilot:
        await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        history = HistoryScreen(sources.sources[0], "img/photo.png")
        await app.push_screen(history)
        versions = history.query_one(VersionList)
        await until(pilot, lambda: versions.row_count == 2, "versions shown")
        sizes = [str(versions.get_row_at(i)[5]) for i in range(2)]
        assert sizes == [f"{len(second)} B binary", f"{len(first)} B binary"]
        whole = history.query_one("#version", NoteView)
        expected = f"binary, {len(second):,} bytes, image/png"
        await until(pilot, lambda: whole.text == expected, "newest described, not shown")
        await pilot.press("down")
        older = f"binary, {len(first):,} bytes, image/png"
        await until(pilot, lambda: whole.text == older, "older version described")
        await pilot.press("d")  # diff mode: an attachment is still described, never diffed
        switcher = history.query_one("#history-view", ContentSwitcher)
        await until(pilot, lambda: switcher.current == "version-box", "no diff of bytes")
        assert whole.text == older
        assert not toasts.find("BINARY_NOT_DIFFABLE")
