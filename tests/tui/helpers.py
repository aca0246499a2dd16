"""Waiting on the app without sleeping on the clock: poll the UI between frames."""

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from rich.text import Text
from textual.content import Content
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from tests.conftest import LiveServer
from tui.screens.files import FilesScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.diff_view import DiffView
from tui.widgets.file_tree import FileTree
from tui.widgets.merge_view import MergeView

UNTIL_TIMEOUT = 30.0
"""Seconds ``until`` waits for a state: generous, as the machine may be loaded; a test
that passes never waits this long, so it costs nothing then."""

SERVER_LABEL = "sync.example.org"
"""How the merge screens ``open_merge`` opens name their server: the test server's port
changes every run, and a header that shows it would differ in every snapshot."""


async def until(pilot: Pilot[None], predicate: Callable[[], object], what: str) -> None:
    """Let the app run until ``predicate()`` holds, failing with ``what`` if it never does.

    Wait only for states that last once reached (a screen shown, rows loaded, a
    record that only grows), never for one that may come and go between two
    polls (an indicator, a toast): on a loaded machine a poll can miss it.
    """
    deadline = time.monotonic() + UNTIL_TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await pilot.pause(0.02)


class Toasts:
    """Every notification an app posts, kept after the toast expires.

    Pass it as ``run_test(message_hook=toasts)``. ``app._notifications`` drops a
    toast once its timeout passes, so a test polling it on a loaded machine can
    look too late; this record only grows.
    """

    def __init__(self) -> None:
        self.shown: list[Notification] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.shown.append(message.notification)

    def find(self, words: str) -> Notification | None:
        """The first notification whose message holds ``words``."""
        return next((n for n in self.shown if words in n.message), None)


def text_of(widget: Widget) -> str:
    """The plain text a widget shows: a Static's content, a DiffView's rows, else its render."""
    content = widget.content if isinstance(widget, Static | DiffView) else widget.render()
    if isinstance(content, str):
        return content
    if isinstance(content, Content | Text):
        return content.plain
    return str(content)


async def settle(pilot: Pilot[None]) -> None:
    """Let pending refreshes, layouts and animations finish before a snapshot.

    On a loaded machine one frame is not always enough for a table to size its
    columns after its rows arrive; a few idle frames are.
    """
    app = pilot.app
    await until(pilot, lambda: not any(w.loading for w in app.screen.query("*")), "loads done")
    await pilot.wait_for_scheduled_animations()
    for _ in range(5):
        await pilot.pause(0.05)
    await until(pilot, lambda: not any(w.loading for w in app.screen.query("*")), "loads done")
    await pilot.wait_for_scheduled_animations()


async def open_merge(
    pilot: Pilot[Any], conflict_id: str, on_dismiss: Callable[[bool | None], None] | None = None
) -> MergeScreen:
    """Open the merge screen of ``conflict_id`` over the sources screen, its regions drawn."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
    merge = MergeScreen(conflict_id)
    merge.server_label = SERVER_LABEL
    app.push_screen(merge, on_dismiss)
    await until(pilot, lambda: merge.doc is not None, "conflict loaded")
    await until(pilot, lambda: merge.query_one(MergeView).wrapped is not None, "drawn")
    await pilot.pause()
    return merge


async def open_files(pilot: Pilot[Any], count: int) -> FilesScreen:
    """Open the only source's files screen, its ``count`` files listed, the tree focused."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
    sources = app.screen
    assert isinstance(sources, SourcesScreen)
    await until(pilot, lambda: sources.sources, "sources loaded")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, FilesScreen), "files screen")
    files = app.screen
    assert isinstance(files, FilesScreen)
    tree = files.query_one(FileTree)
    await until(pilot, lambda: len(files.files) == count and tree.has_focus, "files loaded")
    return files


def restart(old: LiveServer) -> LiveServer:
    """A new server on the stopped one's port and settings (blocks until it serves)."""
    server = LiveServer(old.settings)
    server.port = old.port
    config = uvicorn.Config(
        server.app, host="127.0.0.1", port=old.port, log_level="warning", lifespan="on"
    )
    server.server = uvicorn.Server(config)
    server.thread = threading.Thread(target=server.server.run, daemon=True)
    return server.start()
