"""Live updates: the inbox follows the sourceEvents subscription."""

from typing import Any

from textual.widgets import DataTable, Static

from tests.factories import Api
from tests.tui.conftest import three_region_conflict
from tests.tui.helpers import text_of, until
from tui.screens.inbox import InboxScreen
from tui.screens.sources import SourcesScreen


async def test_new_conflict_appears_in_inbox_without_refresh(api: Api, make_app: Any) -> None:
    sid = api.source()["id"]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SourcesScreen), "sources screen")
        await until(pilot, lambda: sid in app.followed, "following the source")
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InboxScreen), "inbox")
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        table = inbox.query_one("#conflicts", DataTable)
        empty = inbox.query_one("#inbox-empty", Static)
        await until(pilot, lambda: "No open conflicts" in text_of(empty), "empty inbox")

        conflict = three_region_conflict(api, sid)  # no key pressed from here on

        await until(pilot, lambda: table.row_count == 1, "conflict row from the live feed")
        assert [c.id for c in inbox.conflicts] == [conflict["id"]]
        assert str(table.get_row_at(0)[1]) == "notes/plan.md"
