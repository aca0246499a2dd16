"""A file's versions; two marked versions show their diff; R restores one (after asking)."""

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.client import SourceInfo, VersionInfo
from tui.screens.base import BaseScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.bottom_bar import BottomBar
from tui.widgets.diff_view import DiffView
from tui.widgets.version_list import VersionList


class HistoryScreen(BaseScreen[None]):
    help_title = "history"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("R", "restore", "Restore version"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, source: SourceInfo, path: str) -> None:
        super().__init__()
        self.source = source
        self.path = path

    def compose(self) -> ComposeResult:
        yield Static(f"{self.source.name} · history of {self.path}", classes="screen-title")
        yield VersionList(id="versions", clock=self.localsync.clock)
        with VerticalScroll(id="diff-box"):
            yield DiffView(id="diff")
        yield BottomBar()

    def on_mount(self) -> None:
        self.query_one("#diff", DiffView).show(None)
        self.query_one("#versions", VersionList).focus()
        self.reload()

    def reload(self) -> None:
        self._load()

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="versions")
    async def _load(self) -> None:
        versions = await self.fetch(self.client.versions(self.source.id, self.path), "#versions")
        if versions is None:
            return
        self.query_one("#versions", VersionList).show(versions)

    @on(VersionList.PairChosen)
    def _pair(self, message: VersionList.PairChosen) -> None:
        self._diff(message.older, message.newer)

    @work(exclusive=True, group="diff")
    async def _diff(self, older: VersionInfo, newer: VersionInfo) -> None:
        if older.hash is None or newer.hash is None:
            self.notify("A deleted version has no content to compare.", severity="warning")
            return
        diff = await self.fetch(
            self.client.diff(self.source.id, self.path, older.hash, newer.hash), "#diff-box"
        )
        if diff is None:
            return
        self.query_one("#diff", DiffView).show(diff)

    def action_restore(self) -> None:
        version = self.query_one("#versions", VersionList).current
        if version is None or version.hash is None:
            self.notify("Choose a version with content to restore.", severity="warning")
            return
        if not self.source.bidirectional:
            mode = self.source.mode.lower().replace("_", " ")
            self.notify(
                f"“{self.source.name}” is {mode}: the server only accepts changes from "
                "the folder, so versions can be restored on bidirectional sources only.",
                title="Cannot restore",
                severity="warning",
                timeout=8,
            )
            return
        question = (
            f"Make version {version.seq} the current content of {self.path}? It is added "
            "as a new version (nothing is lost) and syncs to every connected folder."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._restore(version)

        self.app.push_screen(
            ConfirmScreen(f"Restore version {version.seq}?", question, "Restore", "Cancel"),
            answered,
        )

    @work(exclusive=True, group="restore")
    async def _restore(self, version: VersionInfo) -> None:
        assert version.hash is not None
        outcome = await self.fetch(
            self.client.restore_version(self.source.id, self.path, version.hash), "#versions"
        )
        if outcome is None:
            return
        if outcome.status == "UNCHANGED":
            self.notify(f"Version {version.seq} is already the current content.")
        else:
            self.notify(f"Restored version {version.seq} as a new version.")
        self.reload()
