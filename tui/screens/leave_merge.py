"""Asked when a person leaves a merge that has choices not yet saved.

Escape and ``q`` are easy to press once too often (escape also closes the
region editor), so leaving never throws work away silently. Dismissed with
``"save"``, ``"draft"`` or ``"discard"``, or ``None`` to go on merging.
"""

from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

Leave = Literal["save", "draft", "discard"]


class LeaveMergeScreen(ModalScreen[Leave | None]):
    DEFAULT_CSS = """
    LeaveMergeScreen { align: center middle; }
    #leave-box {
        width: 72; max-width: 100%; height: auto;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    #leave-title { text-style: bold; }
    #leave-question { margin: 1 0; }
    #leave-buttons { height: auto; align-horizontal: right; }
    #leave-buttons > Button { margin-left: 1; min-width: 10; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('save')", "Save"),
        Binding("d", "answer('draft')", "Keep as draft"),
        Binding("x", "answer('discard')", "Discard"),
        Binding("escape", "stay", "Keep merging"),
    ]

    def __init__(self, choices: int) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        made = "1 choice" if self.choices == 1 else f"{self.choices} choices"
        with Vertical(id="leave-box"):
            yield Static("Leave this merge?", id="leave-title")
            yield Static(
                f"You made {made} that are not saved to the server. A draft stays on "
                "this computer until the conflict is resolved or changes.",
                id="leave-question",
            )
            with Horizontal(id="leave-buttons"):
                # The answer that loses nothing has the focus: a stray enter keeps a draft.
                yield Button("Keep as draft (d)", id="draft", variant="primary")
                yield Button("Save (s)", id="save", variant="success")
                yield Button("Discard (x)", id="discard", variant="error")
                yield Button("Stay (esc)", id="stay")

    def on_mount(self) -> None:
        self.query_one("#draft", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        answer = event.button.id
        if answer in ("save", "draft", "discard"):
            self.dismiss(answer)  # type: ignore[arg-type]
        else:
            self.dismiss(None)

    def action_answer(self, answer: Leave) -> None:
        self.dismiss(answer)

    def action_stay(self) -> None:
        self.dismiss(None)
