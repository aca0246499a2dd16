"""Snapshots of screens whose content is deterministic (no ids, times or ports shown).

Regenerate with ``make snapshots`` (``pytest tests/tui --snapshot-update``).
"""

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.factories import Api, upsert
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import settle, until
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.screens.connect import ConnectScreen
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen

SIZE = (120, 40)


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
