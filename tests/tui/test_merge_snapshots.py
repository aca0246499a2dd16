"""Snapshots of the merge screen: auto-merged marks, word highlights, both themes, two sizes.

The server, workspace and clock are pinned (``server_label``, a fixed workspace
name, a fixed UTC clock and conflict time), so every run draws the same text.
Regenerate with ``pytest tests/tui/test_merge_snapshots.py --snapshot-update``.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from textual.pilot import Pilot

from tests.factories import Api, sha, upsert
from tests.tui.helpers import settle, until
from tests.tui.merge_helpers import _drafts_in_tmp  # noqa: F401
from tests.tui.test_snapshots import pin_conflict_time
from tui.app import LocalSyncApp
from tui.client import LocalSyncClient
from tui.screens.merge import MergeScreen
from tui.screens.sources import SourcesScreen
from tui.widgets.merge_view import MergeView
from tui.widgets.result_view import ResultView

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
PATH = "notes/weekly.md"
BASE = (
    "# Weekly notes\n\n## Alice 1:1 section 1\n\n"
    "Talked about the latency budget: 80 ms during the design review.\n\n"
    "## Bob 1:1\n\nBob will review the design during the week.\n\n## Actions\n\n- ship the draft\n"
)
LOCAL = BASE.replace("section 1", "(moved to Tuesday) section 1").replace(
    "budget: 80 ms during", "budget: 120 ms at p99 during"
)
RAVEN = (
    BASE.replace("budget: 80 ms during", "budget: 95 ms during")
    .replace("during the week", "on Friday")
    .replace("- ship the draft\n", "- ship the draft\n- book the room\n")
)


@pytest.fixture
def workspace() -> str:
    return "ws-demo"


@pytest.fixture(autouse=True)
def _one_backend(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("snapshots are taken on SQLite only")


def _conflict(api: Api, engine: Engine) -> str:
    sid = api.source()["id"]
    api.push(sid, upsert(PATH, BASE))
    assert api.push(sid, upsert(PATH, LOCAL, base=sha(BASE)))["results"][0]["status"] == "applied"
    edit = api.update(sid, PATH, RAVEN, base=sha(BASE))
    assert edit["status"] == "conflict", edit
    pin_conflict_time(engine, edit["conflictId"], NOW - timedelta(hours=2))
    return str(edit["conflictId"])


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_merge_screen(
    snap_compare: Any,
    client: LocalSyncClient,
    api: Api,
    db_engine: Engine,
    theme: str,
    size: tuple[int, int],
) -> None:
    conflict_id = _conflict(api, db_engine)
    app = LocalSyncApp(client, live=False, clock=lambda: NOW)

    async def run_before(pilot: Pilot[None]) -> None:
        app.theme = theme
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        merge = MergeScreen(conflict_id)
        merge.server_label = "sync.example.org"
        app.push_screen(merge)
        await until(pilot, lambda: merge.doc is not None, "loaded")
        view = merge.query_one(MergeView)
        await until(pilot, lambda: view.wrapped is not None, "laid out")
        await until(pilot, lambda: merge.query_one(ResultView).stretches, "result marked")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
