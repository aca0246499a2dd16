"""One source's files as a folder tree, and the content of the file under the cursor.

As in lazygit and tig, the file under the cursor is shown once the cursor rests
there (``PREVIEW_DELAY``); a newer choice cancels the load of an older one, so
scrolling past fifty files loads one. Only the view on screen is drawn: the
rendered view is rebuilt when it is shown, never while plain text is.
"""

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Input, Static, TextArea

from tui.client import FileContent, FileInfo, SourceInfo
from tui.messages import LiveEvent
from tui.screens.base import BaseScreen
from tui.widgets.bottom_bar import BottomBar
from tui.widgets.file_tree import FileTree
from tui.widgets.filter_box import FilterBox
from tui.widgets.note_view import NoteView
from tui.widgets.state_badge import state_badge

DELETED_NOTE = (
    "This file was deleted.\n\nIts history keeps every version it had: press h to see them."
)
"""Shown in place of the content of a deleted file, whose content is null."""

PREVIEW_DELAY = 0.15
"""Seconds the cursor must rest on a file before it is loaded: scrolling past loads nothing."""


class FilesScreen(BaseScreen[None]):
    help_title = "files"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("m", "toggle_view", "Rendered/plain"),
        Binding("h", "history", "History"),
        Binding("c", "conflict", "Open conflict"),
        Binding("slash", "filter", "Filter", priority=True),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, source: SourceInfo) -> None:
        super().__init__()
        self.source = source
        self.files: list[FileInfo] = []
        self.chosen: FileInfo | None = None
        self.content: FileContent | None = None
        self.wanted: str | None = None
        """The path shown or being loaded: choosing it again loads nothing."""
        self._preview: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"{self.source.name} · files", classes="screen-title")
        with Horizontal():
            with Vertical(id="file-side"):
                yield FilterBox(placeholder="filter paths (/)", id="filter")
                yield FileTree(id="tree")
            with Vertical(id="file-main"):
                yield Static("Choose a file.", id="file-title")
                with ContentSwitcher(initial="rendered-box", id="file-view"):
                    with Vertical(id="rendered-box"):
                        yield NoteView(id="rendered")
                    yield TextArea(id="plain", read_only=True, soft_wrap=True)
        yield BottomBar()

    def on_mount(self) -> None:
        self.query_one("#plain", TextArea).cursor_blink = False
        self.query_one("#filter", Input).cursor_blink = False
        self.query_one("#tree", FileTree).focus()
        self.app.theme_changed_signal.subscribe(self, lambda _: self._show_title())
        self.reload()

    def reload(self) -> None:
        """Fetch the file list and the open file again (same text keeps the reading place)."""
        self._load()
        if self.chosen is not None:
            self._open(self.chosen, again=True)

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="files")
    async def _load(self) -> None:
        files = await self.fetch(self.client.files(self.source.id), "#tree")
        if files is None:
            return
        self.files = files
        self._redraw_tree()
        chosen = self.chosen
        if chosen is not None:
            # Only the open file's state and conflict: reload and _live decide on its content.
            self.chosen = next((f for f in files if f.path == chosen.path), chosen)

    def _redraw_tree(self) -> None:
        needle = self.query_one("#filter", Input).value
        self.query_one("#tree", FileTree).show(self.files, needle)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._redraw_tree()

    @on(Input.Submitted, "#filter")
    @on(FilterBox.Left)
    def _filter_done(self) -> None:
        self.set_focus(self.query_one("#tree", FileTree))

    def action_filter(self) -> None:
        """Focus the filter before the next key is routed; in the filter, / is typed.

        A terminal hands over ``/bob`` in one read, and the app routes each key
        to the widget focused when it arrives. As an ordinary binding, / would
        run only after the letters had gone to the tree (where ``i`` opens the
        inbox); as a priority binding it runs first, so it must type itself
        when the filter already has the focus (paths have slashes).
        """
        box = self.query_one("#filter", Input)
        if box.has_focus:
            box.insert_text_at_cursor("/")
        else:
            self.set_focus(box)

    @on(FileTree.FileHighlighted)
    def _highlighted(self, message: FileTree.FileHighlighted) -> None:
        if self._preview is not None:
            self._preview.stop()
        file = message.file
        timer: Timer | None = None

        def due() -> None:
            # A stopped timer may have queued this call already: only the latest counts.
            if self._preview is timer:
                self._open(file)

        timer = self._preview = self.set_timer(PREVIEW_DELAY, due)

    @on(FileTree.FileChosen)
    def _chosen(self, message: FileTree.FileChosen) -> None:
        if self._preview is not None:
            self._preview.stop()
            self._preview = None
        self._open(message.file)

    def _open(self, file: FileInfo, *, again: bool = False) -> None:
        """Load ``file`` unless it is shown or loading already (or ``again``: reload it)."""
        self.chosen = file
        if file.path == self.wanted and not again:
            return
        self.wanted = file.path
        self._load_content(file.path)

    @work(exclusive=True, group="content")
    async def _load_content(self, path: str) -> None:
        content = await self.fetch(self.client.file(self.source.id, path), "#file-view")
        if content is None:
            if self.wanted == path:
                self.wanted = None  # failed: choosing it again retries
            return
        self.show_content(content)

    def show_content(self, content: FileContent) -> None:
        """Show ``content``; the text already shown is left alone, keeping the reader's place.

        Another file starts at the top. The rendered view is only fed while on
        screen (``action_toggle_view`` feeds it when it comes back); the plain
        text is always loaded, which costs a few tens of milliseconds at 5,000
        lines, so it is ready to read, select and copy at once.
        """
        shown = self.content
        self.content = content
        self._show_title()
        if shown is not None and (shown.path, shown.content) == (content.path, content.content):
            return
        if self.query_one("#file-view", ContentSwitcher).current == "rendered-box":
            self._show_rendered()  # first: it renders in a thread while the plain text loads
        plain = self.query_one("#plain", TextArea)
        plain.load_text(self._text())
        if shown is None or shown.path != content.path:
            plain.scroll_to(0, 0, animate=False, immediate=True)

    def _text(self) -> str:
        content = self.content
        if content is None:
            return ""
        return content.content if content.content is not None else DELETED_NOTE

    def _show_rendered(self) -> None:
        if self.content is not None:
            self.query_one("#rendered", NoteView).show(self._text(), self.content.path)

    def _show_title(self) -> None:
        content = self.content
        if content is None:
            return
        badge = state_badge(content.state, self.app.theme_variables)
        title = Text.assemble((content.path, "bold"), "  ", badge)
        if content.hash:
            title.append(f"  {content.hash[:10]}", style="dim")
        self.query_one("#file-title", Static).update(title)

    def action_toggle_view(self) -> None:
        switcher = self.query_one("#file-view", ContentSwitcher)
        plain = switcher.current == "plain"
        switcher.current = "rendered-box" if plain else "plain"
        if plain:
            self._show_rendered()

    def action_history(self) -> None:
        from tui.screens.history import HistoryScreen

        if self.chosen is None:
            self.notify("Choose a file first.", severity="warning")
            return
        self.app.push_screen(HistoryScreen(self.source, self.chosen.path), lambda _: self.reload())

    def action_conflict(self) -> None:
        from tui.screens.merge import MergeScreen

        if self.chosen is None or self.chosen.open_conflict_id is None:
            self.notify("This file has no open conflict.", severity="warning")
            return
        self.app.push_screen(MergeScreen(self.chosen.open_conflict_id), lambda _: self.reload())

    @on(LiveEvent)
    def _live(self, message: LiveEvent) -> None:
        """Any change of the source refreshes the tree; only one of its path, the open file.

        Reloading the open file for another file's change would throw its reader
        back to the top for nothing.
        """
        event = message.event
        if event.source_id != self.source.id:
            return
        self._load()
        if self.chosen is not None and event.path == self.chosen.path:
            self._open(self.chosen, again=True)
