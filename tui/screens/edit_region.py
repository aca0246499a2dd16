"""Edit one merge region by hand; dismissed with the text, or ``None`` if cancelled.

The modal covers the merge panes, so it shows the region's local and raven
lines (with their changed words highlighted) above the editor: the person
writing the result can see both sides they are combining.
"""

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

from tui.client import Region
from tui.widgets.merge_region import LABEL_STYLE, Side, render_region

_SIDES: tuple[tuple[Side, str], ...] = (("local", "local"), ("remote", "raven"))


class EditRegionScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "done", "Use this text", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, region: Region, text: str) -> None:
        super().__init__()
        self.conflict_region = region
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-box"):
            yield Static(f"Region {self.conflict_region.index}: edit, then ctrl+s (escape cancels)")
            with Horizontal(id="edit-sides"):
                for side, label in _SIDES:
                    with VerticalScroll(classes="edit-side"):
                        yield Static(Content.styled(label, LABEL_STYLE[side]))
                        yield Static(render_region(self.conflict_region, side))
            yield TextArea(self.text, id="edit-text", soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        area = self.query_one("#edit-text", TextArea)
        area.cursor_blink = False
        area.focus()

    def action_done(self) -> None:
        self.dismiss(self.query_one("#edit-text", TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
