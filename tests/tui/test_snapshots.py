"""Snapshots of screens whose content is deterministic (no ids, times or ports shown).

Ages (the inbox's age column, history's age column) are relative to the app's
clock: those tests pass a clock fixed at five minutes after the newest shown
time, so every age reads "5m" whenever the test runs.

Regenerate with ``make snapshots`` (``pytest tests/tui --snapshot-update``).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Markdown, TextArea

from tests.factories import Api, sha, upsert
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import settle, text_of, until
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.screens.connect import ConnectScreen
from tui.screens.files import FilesScreen
from tui.screens.history import HistoryScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.diff_view import DiffView
from tui.widgets.file_tree import FileTree
from tui.widgets.version_list import VersionList

SIZE = (120, 40)


class FixedClock:
    """A clock for ``LocalSyncApp(clock=...)``, set once the shown times are known."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        assert self.now is not None, "set the clock before showing ages"
        return self.now

    def five_minutes_after(self, times: Iterable[datetime]) -> None:
        # The times lie within seconds of each other: all read "5m".
        self.now = max(times) + timedelta(minutes=5, seconds=30)


@pytest.fixture(autouse=True)
def _one_backend(database_url: str) -> None:
    """Screens look the same on every database; keep one snapshot file per test."""
    if not database_url.startswith("sqlite"):
        pytest.skip("snapshots are taken on SQLite only")


def test_connect_error(snap_compare: Any, api: Api) -> None:
    # Port 1 is privileged and unused: the connection is refused at once.
    app = LocalSyncApp(LocalSyncClient("http://127.0.0.1:1", api.token, "ws-demo"), live=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), "connect screen")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_sources_with_help(snap_compare: Any, client: LocalSyncClient, api: Api) -> None:
    app = LocalSyncApp(client, live=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_sources(snap_compare: Any, client: LocalSyncClient, api: Api) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("readme.md", "# Readme\n"))
    three_region_conflict(api, sid)
    app = LocalSyncApp(client, live=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        await until(pilot, lambda: screen.sources, "sources loaded")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_merge_after_one_choice(snap_compare: Any, client: LocalSyncClient, api: Api) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = LocalSyncApp(client, live=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        merge = MergeScreen(conflict["id"])
        app.push_screen(merge)
        await until(pilot, lambda: merge.conflict is not None, "conflict loaded")
        await pilot.press("1")
        await until(pilot, lambda: merge.result_text.startswith("# Plan\n\nalpha LOCAL"), "preview")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_merge_light_theme(snap_compare: Any, client: LocalSyncClient, api: Api) -> None:
    """Word highlights, region marks and markers read in a light theme too."""
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = LocalSyncApp(client, live=False)

    async def run_before(pilot: Pilot[None]) -> None:
        app.theme = "textual-light"
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        merge = MergeScreen(conflict["id"])
        app.push_screen(merge)
        await until(pilot, lambda: merge.conflict is not None, "conflict loaded")
        await pilot.press("2", "down")
        await until(pilot, lambda: "alpha RAVEN" in merge.result_text, "preview")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


PLAN_V1 = "# Plan\n\n- buy milk\n- call Bob\n"
PLAN_V2 = "# Plan\n\n- buy oat milk\n- call Bob\n- book train\n"
PLAN_V3 = "# Plan\n\n- buy oat milk\n- book train\n"


def test_files_with_chosen_file(snap_compare: Any, client: LocalSyncClient, api: Api) -> None:
    sid = api.source()["id"]
    api.push(
        sid,
        upsert("notes/plan.md", PLAN_V1),
        upsert("notes/ideas.md", "# Ideas\n\nA *quiet* garden.\n"),
        upsert("readme.md", "# Readme\n\nhello\n"),
    )
    app = LocalSyncApp(client, live=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        await until(pilot, lambda: sources.sources, "sources loaded")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FilesScreen), "files screen")
        files = app.screen
        assert isinstance(files, FilesScreen)
        tree = files.query_one(FileTree)
        await until(pilot, lambda: len(files.files) == 3 and tree.has_focus, "files loaded")
        await pilot.pause()
        # The tree reads: notes/, ideas.md, plan.md, readme.md.
        await pilot.press("down", "down")

        def on_plan() -> bool:
            node = tree.cursor_node
            return node is not None and node.data is not None and node.data.path == "notes/plan.md"

        await until(pilot, on_plan, "cursor on plan.md")
        await pilot.press("enter")
        rendered = files.query_one("#rendered", Markdown)
        await until(
            pilot,
            lambda: (
                files.query_one("#plain", TextArea).text == PLAN_V1
                and len(rendered.children) == 2  # heading and list
            ),
            "plan shown",
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_history_with_diff(snap_compare: Any, client: LocalSyncClient, api: Api) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes/plan.md", PLAN_V1))
    api.push(sid, upsert("notes/plan.md", PLAN_V2, base=sha(PLAN_V1)))
    api.push(sid, upsert("notes/plan.md", PLAN_V3, base=sha(PLAN_V2)))
    clock = FixedClock()
    app = LocalSyncApp(client, live=False, clock=clock)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        await until(pilot, lambda: sources.sources, "sources loaded")
        clock.five_minutes_after(v.recorded_at for v in await client.versions(sid, "notes/plan.md"))
        history = HistoryScreen(sources.sources[0], "notes/plan.md")
        await app.push_screen(history)
        versions = history.query_one(VersionList)
        await until(pilot, lambda: len(versions.versions) == 3, "versions loaded")
        # Newest first: mark versions 3 and 2, showing the diff from 2 to 3.
        await until(pilot, lambda: versions.has_focus and versions.row_count == 3, "rows shown")
        await pilot.press("space")
        await until(pilot, lambda: versions.marked == [0], "newest marked")
        await pilot.press("down")
        await until(pilot, lambda: versions.cursor_row == 1, "cursor on version 2")
        await pilot.press("space")
        diff = history.query_one(DiffView)
        await until(pilot, lambda: "→" in text_of(diff), "diff shown")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
