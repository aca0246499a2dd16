"""Every open conflict of the workspace, oldest first; it follows the live feed."""

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui.client import ConflictSummary, SideWriters
from tui.clock import age
from tui.messages import LiveEvent
from tui.screens.base import BaseScreen
from tui.widgets.bottom_bar import BottomBar
from tui.words import conflict_reason, plural


class InboxScreen(BaseScreen[None]):
    help_title = "conflict inbox"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open the conflict to merge it", show=False),
        Binding("j", "move('down')", "Next conflict", show=False),
        Binding("k", "move('up')", "Previous conflict", show=False),
        Binding("escape,q", "back", "Back"),
        Binding("r", "reload", "Reload"),
    ]
    footer_keys = ("back", "reload")

    def __init__(self) -> None:
        super().__init__()
        self.conflicts: list[ConflictSummary] = []
        self.sides: dict[str, SideWriters] = {}
        """Who wrote each side, by conflict id."""

    def compose(self) -> ComposeResult:
        yield Static("Conflict inbox", id="inbox-title", classes="screen-title")
        yield DataTable[str | Text](id="conflicts", cursor_type="row", zebra_stripes=True)
        yield Static(id="inbox-empty", classes="empty")
        yield BottomBar()

    def on_mount(self) -> None:
        self.query_one("#conflicts", DataTable).add_columns(
            "source", "path", "age", "what happened"
        )
        self.reload()

    def reload(self) -> None:
        self._load()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_move(self, direction: str) -> None:
        table = self.query_one("#conflicts", DataTable)
        table.action_cursor_down() if direction == "down" else table.action_cursor_up()

    @work(exclusive=True, group="inbox")
    async def _load(self) -> None:
        conflicts = await self.fetch(self.client.open_conflicts(), "#conflicts")
        if conflicts is None:
            return
        sides = await self.fetch(self.client.side_writers(conflicts), "#conflicts")
        self.show(conflicts, sides or {})

    def show(
        self, conflicts: list[ConflictSummary], sides: dict[str, SideWriters] | None = None
    ) -> None:
        self.conflicts = conflicts
        self.sides = sides or {}
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        now = self.localsync.clock()
        for c in conflicts:
            reason = conflict_reason(c, self.sides.get(c.id))
            table.add_row(c.source_name, Text(c.path, style="bold"), age(c.created_at, now), reason)
        title = f"Conflict inbox · {plural(len(conflicts), 'open conflict')}"
        self.query_one("#inbox-title", Static).update(title)
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
