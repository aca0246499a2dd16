"""The home screen: every source of the workspace, its connector and its health."""

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui.client import ClientError, SourceInfo
from tui.messages import LiveEvent
from tui.screens.base import BaseScreen
from tui.widgets.bottom_bar import BottomBar
from tui.widgets.theme import themed

_OK, _BAD = "$text-success", "$text-error"
_MODES = {
    "BIDIRECTIONAL": "bidirectional",
    "LOCAL_TO_CLOUD": "local → cloud",
    "IMPORT_ONLY": "import only",
}


def _connector(source: SourceInfo, theme: Mapping[str, str]) -> Text:
    if source.connector_name is None:
        return Text("—", style="dim")
    if source.connector_online:
        return Text.assemble(source.connector_name, " ", ("● online", themed(_OK, theme)))
    return Text.assemble(source.connector_name, " ", ("○ offline", themed(_BAD, theme)))


def _status(source: SourceInfo, theme: Mapping[str, str]) -> Text:
    if source.status == "PAUSED":
        return Text("paused", style=themed("$text-warning", theme))
    return Text("active", style=themed(_OK, theme))


_COLUMNS = (
    ("name", 28),
    ("mode", 16),
    ("status", 8),
    ("connector", 26),
    ("files", 7),
    ("open conflicts", 14),
)
_NARROW_COLUMNS = (
    ("name", 18),
    ("mode", 13),
    ("status", 6),
    ("connector", 15),
    ("files", 5),
    ("conflicts", 9),
)
"""For terminals under ``_WIDE`` columns: every column still fits in 80."""
_WIDE = 112


class SourcesScreen(BaseScreen[None]):
    help_title = "sources"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open the source's files", show=False),
        Binding("j", "move('down')", "Next source", show=False),
        Binding("k", "move('up')", "Previous source", show=False),
        Binding("c", "app.inbox", "Conflicts"),
        Binding("p", "toggle_pause", "Pause/resume"),
        Binding("t", "retention", "Retention", show=False),
        Binding("r", "reload", "Reload"),
        Binding("q", "app.quit", "Quit"),
    ]
    footer_keys = ("app.inbox", "toggle_pause", "reload", "app.quit")

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[SourceInfo] = []

    def compose(self) -> ComposeResult:
        yield Static("Local Sync · sources", classes="screen-title")
        yield DataTable[str | Text](id="sources", cursor_type="row", zebra_stripes=True)
        yield Static(id="sources-empty", classes="empty")
        yield BottomBar()

    def on_mount(self) -> None:
        self._columns()
        self.app.theme_changed_signal.subscribe(self, lambda _: self.show(self.sources))
        self.reload()

    def _columns(self) -> None:
        """Fixed widths, so the table does not jump as live counts change; narrower
        ones when the terminal is, so no column is cut off at 80 columns."""
        table = self.query_one("#sources", DataTable)
        columns = _COLUMNS if self.app.size.width >= _WIDE else _NARROW_COLUMNS
        if [str(c.label) for c in table.columns.values()] == [label for label, _ in columns]:
            return
        table.clear(columns=True)
        for label, width in columns:
            table.add_column(label, width=width)
        if self.sources:
            self.show(self.sources)

    def on_resize(self) -> None:
        self._columns()

    def reload(self) -> None:
        self._load()

    @work(exclusive=True, group="load")
    async def _load(self) -> None:
        sources = await self.fetch(self.client.sources(), "#sources")
        if sources is None:
            return
        self.show(sources)
        self.localsync.follow(sources)

    def show(self, sources: list[SourceInfo]) -> None:
        self.sources = sources
        table = self.query_one("#sources", DataTable)
        row = table.cursor_row
        table.clear()
        theme = self.app.theme_variables
        for source in sources:
            conflicts = Text(
                str(source.open_conflicts),
                style=themed(f"bold {_BAD}", theme) if source.open_conflicts else "",
            )
            table.add_row(
                source.name,
                _MODES.get(source.mode, source.mode),
                _status(source, theme),
                _connector(source, theme),
                str(source.file_count),
                conflicts,
                key=source.id,
            )
        if sources:
            table.move_cursor(row=min(max(row, 0), len(sources) - 1))
        empty = "" if sources else "No sources yet: run `localsync sync` in a folder to add one."
        self.query_one("#sources-empty", Static).update(empty)

    @property
    def selected(self) -> SourceInfo | None:
        table = self.query_one("#sources", DataTable)
        if not self.sources or table.cursor_row < 0:
            return None
        return self.sources[min(table.cursor_row, len(self.sources) - 1)]

    @on(DataTable.RowSelected, "#sources")
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        from tui.screens.files import FilesScreen

        source = self.selected
        if source is not None:
            self.app.push_screen(FilesScreen(source), lambda _: self.reload())

    def action_move(self, direction: str) -> None:
        table = self.query_one("#sources", DataTable)
        table.action_cursor_down() if direction == "down" else table.action_cursor_up()

    def action_retention(self) -> None:
        from tui.screens.retention import RetentionScreen

        source = self.selected
        if source is not None:
            self.app.push_screen(RetentionScreen(source))

    def action_toggle_pause(self) -> None:
        source = self.selected
        if source is not None:
            self._toggle(source)

    @work(exclusive=True, group="pause")
    async def _toggle(self, source: SourceInfo) -> None:
        try:
            if source.status == "PAUSED":
                await self.client.resume_source(source.id)
                self.notify(f"{source.name} resumed")
            else:
                await self.client.pause_source(source.id)
                self.notify(f"{source.name} paused")
        except ClientError as error:
            self.report(error)
        self.reload()

    @on(LiveEvent)
    def _live(self, message: LiveEvent) -> None:
        self.reload()
