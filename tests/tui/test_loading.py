"""Slow loads show a loading indicator on the widgets they fill; quick ones do not."""

import asyncio
import gc
from typing import Any

from gql import GraphQLRequest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tests.factories import Api, upsert
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import until
from tui.client import LocalSyncClient
from tui.screens.base import LOADING_DELAY, BaseScreen
from tui.screens.files import FilesScreen
from tui.screens.inbox import InboxScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.file_tree import FileTree


class SlowClient(LocalSyncClient):
    """The real client against the real server, its answers held while the test says so."""

    hold: asyncio.Event | None = None
    """While set, answers wait until the test sets the event: a load as slow as it needs."""

    async def _execute(self, document: GraphQLRequest, **variables: Any) -> dict[str, Any]:
        if self.hold is not None:
            await self.hold.wait()
        return await super()._execute(document, **variables)

    def slow_down(self) -> None:
        """Hold every answer from now on, until ``let_through``."""
        self.hold = asyncio.Event()

    def let_through(self) -> None:
        """Send the held answers on, and the later ones at once."""
        held, self.hold = self.hold, None
        if held is not None:
            held.set()


def shown(widget: Widget) -> list[bool]:
    """Records that ``widget`` is loading now or starts to later, however briefly.

    An indicator may be up for a moment only (a load cancelled by a newer one
    takes its indicator down), so polling for it can miss it on a loaded
    machine; this record only grows, so waiting for it is waiting for a state
    that stays.
    """
    seen: list[bool] = [True] if widget.loading else []
    widget.watch(widget, "loading", lambda on: seen.append(True) if on else None, init=False)
    return seen


async def test_slow_loads_show_progress(api: Api, client: LocalSyncClient, make_app: Any) -> None:
    """Each load is held until its indicator has shown: however loaded the machine,
    the load outlasts the indicator's delay."""
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    slow = SlowClient(client.server, client.token, client.workspace)
    slow.slow_down()
    app = make_app(slow)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        table = sources.query_one("#sources")
        table_shown = shown(table)
        await until(pilot, lambda: table_shown, "indicator on the sources")
        slow.let_through()
        await until(pilot, lambda: sources.sources and not table.loading, "sources loaded")

        slow.slow_down()
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), "inbox")
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        conflicts = inbox.query_one("#conflicts")
        conflicts_shown = shown(conflicts)
        await until(pilot, lambda: conflicts_shown, "indicator on the inbox")
        slow.let_through()
        await until(pilot, lambda: inbox.conflicts and not conflicts.loading, "inbox loaded")

        slow.slow_down()
        merge = MergeScreen(conflict["id"])
        await app.push_screen(merge)
        sides, result = merge.query_one("#sides"), merge.query_one("#result-box")
        sides_shown, result_shown = shown(sides), shown(result)
        await until(pilot, lambda: sides_shown and result_shown, "indicators on the merge")
        slow.let_through()
        await until(pilot, lambda: merge.conflict is not None and not sides.loading, "loaded")
        await until(pilot, lambda: merge.result_text and not result.loading, "preview loaded")

        # Whether a quick load flashes no indicator depends on the clock, which
        # tests do not assert; the choice itself still lands.
        await pilot.press("1")
        await until(pilot, lambda: merge.result_text.startswith("# Plan\n\nalpha LOCAL"), "pick")


async def test_keys_still_work_after_a_slow_load(
    api: Api, client: LocalSyncClient, make_app: Any
) -> None:
    """After a load slow enough to show the indicator, the tree still takes keys."""
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "A\n"), upsert("b.md", "B\n"))
    slow = SlowClient(client.server, client.token, client.workspace)
    app = make_app(slow)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "sources", None), "sources loaded")
        # The file list is held until the indicator has been seen: however
        # loaded the machine, the load outlasts the indicator's delay.
        slow.slow_down()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FilesScreen), "files screen")
        tree = app.screen.query_one(FileTree)
        tree_shown = shown(tree)
        await until(pilot, lambda: tree_shown, "indicator shown")
        slow.let_through()
        await until(pilot, lambda: len(tree.files) == 2 and not tree.loading, "files loaded")
        await pilot.pause()
        assert tree.has_focus
        await pilot.press("down")
        await until(
            pilot,
            lambda: (
                tree.cursor_node is not None
                and tree.cursor_node.data is not None
                and tree.cursor_node.data.path == "b.md"
            ),
            "cursor moved by key",
        )


class _Hold(Message):
    """Run a load inside the screen's own message handler."""


class _HoldScreen(BaseScreen[None]):
    """A load that keeps the screen's message queue busy until after the indicator is due.

    The indicator's timer then queues its call behind the load, so that call
    only runs once the load has ended: exactly the moment a slow network hits
    when a response arrives as the delay runs out.
    """

    done = False

    def compose(self) -> ComposeResult:
        yield Static("content", id="target")

    async def on__hold(self, _: _Hold) -> None:
        with self.busy("#target"):
            await asyncio.sleep(LOADING_DELAY * 2)
        self.done = True


async def test_an_indicator_due_as_the_load_ends_does_not_stay() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        screen = _HoldScreen()
        await app.push_screen(screen)
        screen.post_message(_Hold())
        await until(pilot, lambda: screen.done, "load finished")
        for _ in range(5):
            await pilot.pause(0.02)
        assert not screen.query_one("#target").loading


class _FillScreen(BaseScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("content", id="target")


async def test_a_load_whose_widgets_went_away_shows_nothing_and_raises_nothing() -> None:
    """A screen closing (or the app stopping) while its load is in flight is not an error."""
    app: App[None] = App()
    async with app.run_test() as pilot:
        screen = _FillScreen()
        await app.push_screen(screen)
        answer = asyncio.Event()

        async def call() -> str:
            await answer.wait()
            return "data"

        load = asyncio.ensure_future(screen.fetch(call(), "#target"))
        await screen.query_one("#target").remove()
        answer.set()
        assert await load is None
        # The same load with its widget in place returns the data.
        await screen.mount(Static("again", id="target"))
        assert await screen.fetch(asyncio.sleep(0, "data"), "#target") == "data"
        await pilot.pause()


async def test_the_app_spares_the_collector_what_it_starts_with(make_app: Any) -> None:
    """Full collections walked every object (0.2-0.4 s stalls): the app freezes once, at
    start, and gives the objects back when it ends, for the process that goes on."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
