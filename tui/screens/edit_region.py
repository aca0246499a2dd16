"""Edit one merge region by hand; dismissed with the text, or ``None`` if cancelled."""

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea


class EditRegionScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "done", "Use this text", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, index: int, text: str) -> None:
        super().__init__()
        self.index = index
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-box"):
            yield Static(f"Region {self.index}: edit, then ctrl+s (escape cancels)")
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
