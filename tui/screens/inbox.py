"""Every open conflict of the workspace, oldest first; it follows the live feed."""

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui.client import ConflictSummary
from tui.clock import age
from tui.messages import LiveEvent
from tui.screens.base import BaseScreen
from tui.widgets.bottom_bar import BottomBar


class InboxScreen(BaseScreen[None]):
    help_title = "conflict inbox"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Merge", show=False),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.conflicts: list[ConflictSummary] = []

    def compose(self) -> ComposeResult:
        yield Static("Conflict inbox", classes="screen-title")
        yield DataTable[str | Text](id="conflicts", cursor_type="row", zebra_stripes=True)
        yield Static(id="inbox-empty", classes="empty")
        yield BottomBar()

    def on_mount(self) -> None:
        self.query_one("#conflicts", DataTable).add_columns("source", "path", "age", "reason")
        self.reload()

    def reload(self) -> None:
        self._load()

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="inbox")
    async def _load(self) -> None:
        conflicts = await self.fetch(self.client.open_conflicts(), "#conflicts")
        if conflicts is None:
            return
        self.show(conflicts)

    def show(self, conflicts: list[ConflictSummary]) -> None:
        self.conflicts = conflicts
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        now = self.localsync.clock()
        for c in conflicts:
            reason = c.reason.replace("_", " ")
            table.add_row(c.source_name, Text(c.path, style="bold"), age(c.created_at, now), reason)
        empty = "" if conflicts else "No open conflicts."
        self.query_one("#inbox-empty", Static).update(empty)

    @on(DataTable.RowSelected, "#conflicts")
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        from tui.screens.merge import MergeScreen

        table = self.query_one("#conflicts", DataTable)
        if not self.conflicts or table.cursor_row < 0:
            return
        conflict = self.conflicts[min(table.cursor_row, len(self.conflicts) - 1)]
        self.app.push_screen(MergeScreen(conflict.id), lambda _: self.reload())

    @on(LiveEvent)
    def _live(self, message: LiveEvent) -> None:
        if message.event.type.startswith("conflict."):
            self.reload()
