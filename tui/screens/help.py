"""Every key of the app, in a scrollable modal: this screen's first, then the rest by screen.

Only the app's own keys are listed, in the words the app uses ("Open", not a
widget's "Select"). The keys Textual's widgets bring (paging, copying, moving a
cursor in a text field) work as in any terminal app and are left out; the
command palette (ctrl+p) searches everything.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.widgets.theme import themed


@dataclass(frozen=True)
class KeyGroup:
    """The keys of one screen (or of every screen), one row per action."""

    title: str
    rows: tuple[tuple[str, str], ...]


def key_rows(app: App[Any], bindings: Iterable[BindingType]) -> tuple[tuple[str, str], ...]:
    """One ``(keys, description)`` row per described action, its keys joined: ``↓ l``."""
    keys: dict[str, list[str]] = {}
    described: dict[str, str] = {}
    for binding in Binding.make_bindings(bindings):
        if not binding.description or binding.system:
            continue
        shown = app.get_key_display(binding)
        listed = keys.setdefault(binding.action, [])
        if shown not in listed:
            listed.append(shown)
        described.setdefault(binding.action, binding.description)
    return tuple((" ".join(keys[action]), described[action]) for action in keys)


def screen_group(app: App[Any], screen: type[Screen[Any]] | Screen[Any]) -> KeyGroup:
    """The keys a screen binds itself, titled by its ``help_title``."""
    title = str(getattr(screen, "help_title", getattr(screen, "__name__", "")))
    title = title[:1].upper() + title[1:]
    return KeyGroup(title, key_rows(app, getattr(screen, "BINDINGS", [])))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("j", "scroll('down')", "Scroll down", show=False),
        Binding("k", "scroll('up')", "Scroll up", show=False),
    ]

    def __init__(self, groups: Sequence[KeyGroup]) -> None:
        super().__init__()
        self.groups = list(groups)

    def compose(self) -> ComposeResult:
        key_style = themed("bold $text-accent", self.app.theme_variables)
        head_style = themed("bold $text-primary", self.app.theme_variables)
        with Vertical(id="help-box"):
            yield Static("Keys", id="help-title")
            with VerticalScroll(id="help-keys"):
                for group in self.groups:
                    yield Static(Text(group.title, style=head_style), classes="help-group")
                    table = Table.grid(padding=(0, 2))
                    table.add_column(style=key_style, justify="right", min_width=6)
                    table.add_column()
                    for keys, description in group.rows:
                        table.add_row(keys, description)
                    yield Static(table, classes="help-rows")
            yield Static(
                "escape or ? closes · j k scroll · ctrl+p searches commands", id="help-hint"
            )

    def on_mount(self) -> None:
        self.query_one("#help-keys", VerticalScroll).focus()

    def action_scroll(self, direction: str) -> None:
        keys = self.query_one("#help-keys", VerticalScroll)
        if direction == "down":
            keys.scroll_down(animate=False)
        else:
            keys.scroll_up(animate=False)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
