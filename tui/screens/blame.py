"""One version of a file, each line beside the version that introduced it (b in history)."""

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tui.client import BlameInfo, SourceInfo, VersionInfo
from tui.screens.base import BaseScreen
from tui.widgets.blame_view import BlameView
from tui.widgets.bottom_bar import BottomBar

EMPTY_NOTE = "This version is empty: there are no lines to blame."


class BlameScreen(BaseScreen[None]):
    """Loads in a worker and draws with the line API: a long file never holds the keys up."""

    help_title = "blame"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    BlameScreen #blame-note {
        height: auto;
        padding: 0 1;
        color: $text-warning;
    }
    BlameScreen #blame-note.-hidden {
        display: none;
    }
    """

    def __init__(
        self,
        source: SourceInfo,
        path: str,
        version: VersionInfo,
        *,
        max_versions: int | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.path = path
        self.version = version
        self.max_versions = max_versions
        """How far back to walk; ``None``: as far as the server allows."""
        self.blame: BlameInfo | None = None

    def compose(self) -> ComposeResult:
        title = f"{self.source.name} · blame of {self.path} at version {self.version.seq}"
        yield Static(title, classes="screen-title")
        yield Static(id="blame-note", classes="-hidden")
        yield BlameView(id="blame", clock=self.localsync.clock)
        yield BottomBar()

    def on_mount(self) -> None:
        self.query_one("#blame", BlameView).focus()
        self.reload()

    def reload(self) -> None:
        self._load()

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="blame")
    async def _load(self) -> None:
        blame = await self.fetch(
            self.client.blame(
                self.source.id, self.path, self.version, max_versions=self.max_versions
            ),
            "#blame",
        )
        if blame is None:
            return
        self.blame = blame
        self.query_one("#blame", BlameView).show(blame.lines)
        note = blame.note or (EMPTY_NOTE if not blame.lines else "")
        widget = self.query_one("#blame-note", Static)
        widget.update(note)
        widget.set_class(not note, "-hidden")
