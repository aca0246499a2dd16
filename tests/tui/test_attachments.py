"""Attachments in the terminal app: described by type and size, never shown as text."""

from typing import Any

from textual.widgets import ContentSwitcher

from tests.attachment_data import attachment, digest, png
from tests.factories import Api
from tests.tui.helpers import Toasts, text_of, until
from tui.screens.binary_conflict import BinaryConflictScreen
from tui.screens.history import HistoryScreen
from tui.screens.merge import MergeScreen
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


async def test_binary_conflict_offers_sides_and_keep_both(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    base, remote, local = png(shade=1), png(shade=2), png(shade=3)
    api.push(sid, attachment("photo.png", base))
    api.push(sid, attachment("photo.png", remote, base=digest(base)))
    conflict = api.push(sid, attachment("photo.png", local, base=digest(base)))["results"][0]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
        await app.push_screen(MergeScreen(conflict["conflictId"]))
        await until(pilot, lambda: isinstance(app.screen, BinaryConflictScreen), "sides offered")
        copy = f"photo (conflict {digest(local)[:8]}).png"
        assert copy in text_of(app.screen.query_one("#binary-sides"))
        await pilot.press("B")
        await until(pilot, lambda: not api.conflicts(sid), "resolved by keeping both")
    ask = {"sourceId": sid, "acceptEncodings": ["base64"]}
    kept = api.call("sources/file", ask | {"relativePath": copy})
    assert kept["hash"] == digest(local)
    assert api.call("sources/file", ask | {"relativePath": "photo.png"})["hash"] == digest(remote)
