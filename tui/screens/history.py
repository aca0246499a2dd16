"""A file's versions, the one under the cursor shown whole or as its diff; R restores one.

As in tig, the version under the cursor is shown once the cursor rests there
(``PREVIEW_DELAY``): whole, or, after d, as the diff against its parent. Two
versions marked with space show the diff between them. Every preview is one
exclusive load: a newer choice cancels an older one still on its way.
"""

from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Static

from tui.client import FileDiff, SourceInfo, VersionInfo
from tui.screens.base import BaseScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.files import PREVIEW_DELAY
from tui.screens.history_actions import HistoryActions
from tui.widgets.bottom_bar import BottomBar
from tui.widgets.diff_view import DiffView
from tui.widgets.marked_version_list import MarkedVersionList
from tui.widgets.note_view import NoteView
from tui.widgets.version_list import VersionList

DELETION_NOTE = "This version is the file's deletion: it has no content."
FIRST_VERSION_NOTE = "This is the first version with content: there is nothing before it."

Mode = Literal["whole", "diff"]


class HistoryScreen(HistoryActions, BaseScreen[None]):
    help_title = "history"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("d", "toggle_diff", "Diff with parent / whole"),
        Binding("R", "restore", "Restore version"),
        Binding("r", "reload", "Reload"),
        *HistoryActions.BINDINGS,
    ]
    footer_keys = (
        "back",
        "restore",
        "toggle_diff",
        "blame",
        "undo_resolution",
        "toggle_pin",
        "reload",
    )
    """The footer's order: restoring and comparing first, the list's own keys after."""

    def __init__(self, source: SourceInfo, path: str) -> None:
        super().__init__()
        self.source = source
        self.path = path
        self.mode: Mode = "whole"
        """How the version under the cursor is shown; d switches."""
        self.wanted: tuple[object, ...] | None = None
        """What is shown or loading in the lower pane: the same choice again loads nothing."""
        self._preview: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"{self.source.name} · history of {self.path}", classes="screen-title")
        yield MarkedVersionList(id="versions", clock=self.localsync.clock)
        with ContentSwitcher(initial="version-box", id="history-view"):
            with Vertical(id="version-box"):
                yield NoteView(id="version")
            with Vertical(id="diff-box"):
                yield DiffView(id="diff")
        yield BottomBar()

    def on_mount(self) -> None:
        self.query_one("#diff", DiffView).show(None)
        self.query_one("#versions", VersionList).focus()
        self.reload()

    def reload(self) -> None:
        self.wanted = None
        self._load()

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="versions")
    async def _load(self) -> None:
        versions = await self.fetch(self.client.versions(self.source.id, self.path), "#versions")
        if versions is None:
            return
        self.query_one("#versions", VersionList).show(versions)

    # -- what the lower pane shows

    @on(DataTable.RowHighlighted, "#versions")
    def _highlighted(self) -> None:
        self._cancel_preview()
        timer: Timer | None = None

        def due() -> None:
            # A stopped timer may have queued this call already: only the latest counts.
            if self._preview is timer:
                self._show_current()

        timer = self._preview = self.set_timer(PREVIEW_DELAY, due)

    def _cancel_preview(self) -> None:
        if self._preview is not None:
            self._preview.stop()
            self._preview = None

    def _show_current(self) -> None:
        self._preview = None
        versions = self.query_one("#versions", VersionList)
        version = versions.current
        if version is None:
            return
        wanted = (self.mode, version.seq, version.hash)
        if wanted == self.wanted:
            return
        self.wanted = wanted
        parent = versions.parent_of(version)
        if version.hash is None:
            self._note(DELETION_NOTE, version)
        elif (pruned := self.pruned_note(version)) is not None:
            self._note(pruned, version)
        elif self.mode == "whole" or version.binary:
            self._show_whole(version)  # an attachment is described, never diffed
        elif parent is None or parent.hash is None:
            self._note(FIRST_VERSION_NOTE, version)
        else:
            self._diff(parent.hash, version.hash)

    def action_toggle_diff(self) -> None:
        self.mode = "diff" if self.mode == "whole" else "whole"
        self._cancel_preview()
        self._show_current()

    @on(VersionList.PairChosen)
    def _pair(self, message: VersionList.PairChosen) -> None:
        self._cancel_preview()
        older, newer = message.older, message.newer
        if older.hash is None or newer.hash is None:
            self.notify("A deleted version has no content to compare.", severity="warning")
            return
        if older.binary or newer.binary:
            self.notify(
                "An attachment's versions are bytes: compare their sizes and hashes.",
                severity="warning",
            )
            return
        self.wanted = ("pair", older.seq, newer.seq)
        self._diff(older.hash, newer.hash)

    def _note(self, text: str, version: VersionInfo) -> None:
        self.workers.cancel_group(self, "preview")
        self.query_one("#version", NoteView).show(text, f"note {version.seq} {text}")
        self.query_one("#history-view", ContentSwitcher).current = "version-box"

    @work(exclusive=True, group="preview")
    async def _show_whole(self, version: VersionInfo) -> None:
        content = await self.fetch(
            self.client.version_content(self.source.id, self.path, version), "#history-view"
        )
        if content is None:
            self.wanted = None  # failed (or a deletion after all): the same choice retries
            return
        self.query_one("#version", NoteView).show(content, f"version {version.seq}")
        self.query_one("#history-view", ContentSwitcher).current = "version-box"

    @work(exclusive=True, group="preview")
    async def _diff(self, older: str, newer: str) -> None:
        diff: FileDiff | None = await self.fetch(
            self.client.diff(self.source.id, self.path, older, newer), "#history-view"
        )
        if diff is None:
            self.wanted = None
            return
        self.query_one("#diff", DiffView).show(diff)
        self.query_one("#history-view", ContentSwitcher).current = "diff-box"

    # -- restoring

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
