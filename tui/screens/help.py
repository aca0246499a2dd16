"""The keys of the screen underneath, in a modal."""

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.theme import themed


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        key_style = themed("bold $text-accent", self.app.theme_variables)
        table.add_column(style=key_style, justify="right")
        table.add_column()
        for key, description in self.keys:
            table.add_row(key, description)
        with Vertical(id="help-box"):
            yield Static(f"Keys: {self.title_text}", id="help-title")
            yield Static(table)
            yield Static("escape or ? to close · ctrl+p for commands", id="help-hint")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
