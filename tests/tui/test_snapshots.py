"""Snapshots of every screen at a fixed terminal size.

Ids, ports and the server's clock never reach the screen in these tests: times
the screens show (history's time and age, the inbox's and merge header's age)
are pinned in the database to fixed instants after the data is created, the
app is given a fixed UTC clock, the merge header names a fixed server
(``helpers.SERVER_LABEL``) and each test's workspace is named after the test,
so every run renders the same text on every machine.

Regenerate with ``make snapshots`` (``pytest tests/tui --snapshot-update``).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from backend.models import Conflict, File, Version
from tests.factories import Api, sha, upsert
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import open_files, open_merge, settle, text_of, until
from tests.tui.merge_helpers import _drafts_in_tmp  # noqa: F401
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.screens.confirm import ConfirmScreen
from tui.screens.connect import ConnectScreen
from tui.screens.edit_region import EditRegionScreen
from tui.screens.help import HelpScreen
from tui.screens.history import HistoryScreen
from tui.screens.inbox import InboxScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.diff_view import DiffView
from tui.widgets.file_tree import FileTree
from tui.widgets.note_view import NoteView
from tui.widgets.version_list import VersionList

SIZE = (120, 40)


NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
"""The app's clock in every snapshot: times show in UTC, ages relative to this."""


def fixed_clock() -> datetime:
    return NOW


def pin_version_times(engine: Engine, source_id: str, path: str, times: list[datetime]) -> None:
    """Give a file's versions, oldest first, the recorded times ``times``."""
    with Session(engine) as session:
        statement = (
            select(Version)
            .join(File, col(File.id) == col(Version.file_id))
            .where(File.source_id == source_id, File.relative_path == path)
            .order_by(col(Version.seq))
        )
        versions = list(session.exec(statement))
        assert len(versions) == len(times)
        for version, when in zip(versions, times, strict=True):
            version.created_at = when
        session.commit()


def pin_conflict_time(engine: Engine, conflict_id: str, when: datetime) -> None:
    with Session(engine) as session:
        conflict = session.get_one(Conflict, conflict_id)
        conflict.created_at = when
        session.commit()


@pytest.fixture
def workspace(request: pytest.FixtureRequest) -> str:
    """The same name on every run (the merge header shows it), and one per test (the
    sources and inbox screens list everything in their workspace)."""
    name = str(request.node.name)
    return "ws-" + name.removeprefix("test_").replace("_", "-")


def merge_app(client: LocalSyncClient, engine: Engine, conflict_id: str) -> LocalSyncApp:
    """An app on the fixed clock, the conflict opened a fixed while before it."""
    pin_conflict_time(engine, conflict_id, NOW - timedelta(hours=3, minutes=10))
    return LocalSyncApp(client, live=False, clock=fixed_clock)


@pytest.fixture(autouse=True)
def _one_backend(database_url: str) -> None:
    """Screens look the same on every database; keep one snapshot file per test."""
    if not database_url.startswith("sqlite"):
        pytest.skip("snapshots are taken on SQLite only")


def _connect_app(api: Api) -> LocalSyncApp:
    """An app whose server refuses connections, and whose next try is an hour away.

    Port 1 is privileged and unused: the connection is refused at once. With the
    hour-long wait, no try (and no "Trying…") can happen while the snapshot is taken.
    """
    client = LocalSyncClient("http://127.0.0.1:1", api.token, "ws-demo")
    return LocalSyncApp(client, live=False, connect_delays=(3600, 3600))


async def _on_connect_screen(pilot: Pilot[None]) -> None:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ConnectScreen), "connect screen")
    hint = app.screen.query_one("#connect-hint", Static)
    await until(pilot, lambda: "60 min" in text_of(hint), "waiting for the next try")
    await settle(pilot)


def test_connect_error(snap_compare: Any, api: Api) -> None:
    app = _connect_app(api)
    assert snap_compare(app, terminal_size=SIZE, run_before=_on_connect_screen)


def test_connect_error_80x24(snap_compare: Any, api: Api) -> None:
    app = _connect_app(api)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_on_connect_screen)


def test_help_80x24(snap_compare: Any, client: LocalSyncClient, api: Api) -> None:
    api.source()
    app = LocalSyncApp(client, live=False)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        await until(pilot, lambda: screen.sources, "sources loaded")
        await settle(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help open")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


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


def test_merge_after_one_choice(
    snap_compare: Any, client: LocalSyncClient, api: Api, db_engine: Engine
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = merge_app(client, db_engine, conflict["id"])

    async def run_before(pilot: Pilot[None]) -> None:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("1")
        await until(pilot, lambda: merge.result_text.startswith("# Plan\n\nalpha LOCAL"), "preview")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_merge_light_theme(
    snap_compare: Any, client: LocalSyncClient, api: Api, db_engine: Engine
) -> None:
    """Word highlights, region marks and markers read in a light theme too."""
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = merge_app(client, db_engine, conflict["id"])

    async def run_before(pilot: Pilot[None]) -> None:
        app.theme = "textual-light"
        merge = await open_merge(pilot, conflict["id"])
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
        files = await open_files(pilot, 3)
        tree = files.query_one(FileTree)
        await pilot.pause()
        # The tree reads: notes/, ideas.md, plan.md, readme.md.
        await pilot.press("down", "down")

        def on_plan() -> bool:
            node = tree.cursor_node
            return node is not None and node.data is not None and node.data.path == "notes/plan.md"

        await until(pilot, on_plan, "cursor on plan.md")
        await pilot.press("enter")
        rendered = files.query_one("#rendered", NoteView)
        await until(
            pilot,
            lambda: (
                files.query_one("#plain", TextArea).text == PLAN_V1
                and rendered.text == PLAN_V1
                and rendered.complete
            ),
            "plan shown",
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_history_with_diff(
    snap_compare: Any, client: LocalSyncClient, api: Api, db_engine: Engine
) -> None:
    source = api.source()
    sid = source["id"]
    api.push(sid, upsert("notes/plan.md", PLAN_V1))
    api.push(sid, upsert("notes/plan.md", PLAN_V2, base=sha(PLAN_V1)))
    api.push(sid, upsert("notes/plan.md", PLAN_V3, base=sha(PLAN_V2)))
    ago = [timedelta(days=2, hours=3), timedelta(hours=1, minutes=2), timedelta(minutes=5)]
    pin_version_times(db_engine, sid, "notes/plan.md", [NOW - a for a in ago])
    app = LocalSyncApp(client, live=False, clock=fixed_clock)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        sources = app.screen
        assert isinstance(sources, SourcesScreen)
        await until(pilot, lambda: sources.sources, "sources loaded")
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


def test_inbox(snap_compare: Any, client: LocalSyncClient, api: Api, db_engine: Engine) -> None:
    sid = api.source()["id"]
    older = three_region_conflict(api, sid, "notes/plan.md")
    newer = api.open_conflict(sid, "journal/today.md")
    pin_conflict_time(db_engine, older["id"], NOW - timedelta(hours=3, minutes=10))
    pin_conflict_time(db_engine, newer["id"], NOW - timedelta(minutes=7))
    app = LocalSyncApp(client, live=False, clock=fixed_clock)

    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        inbox = InboxScreen()
        await app.push_screen(inbox)
        await until(pilot, lambda: len(inbox.conflicts) == 2, "conflicts listed")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_edit_region(
    snap_compare: Any, client: LocalSyncClient, api: Api, db_engine: Engine
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = merge_app(client, db_engine, conflict["id"])

    async def run_before(pilot: Pilot[None]) -> None:
        await open_merge(pilot, conflict["id"])
        await pilot.press("down", "e")
        await until(pilot, lambda: isinstance(app.screen, EditRegionScreen), "editor open")
        area = app.screen.query_one(TextArea)
        await until(pilot, lambda: area.text == "beta LOCAL\n", "region 2 in the editor")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_save_with_markers_question(
    snap_compare: Any, client: LocalSyncClient, api: Api, db_engine: Engine
) -> None:
    sid = api.source()["id"]
    conflict = three_region_conflict(api, sid)
    app = merge_app(client, db_engine, conflict["id"])

    async def run_before(pilot: Pilot[None]) -> None:
        merge = await open_merge(pilot, conflict["id"])
        await pilot.press("1")
        await until(pilot, lambda: merge.result_text.startswith("# Plan\n\nalpha LOCAL"), "preview")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
