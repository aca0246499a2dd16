"""The path filter of the files screen, which claims Escape while it has the focus."""

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FilterBox(Input):
    """An ``Input`` where Escape empties the filter instead of leaving the screen.

    Escape means "back" on the screen, but a user typing a filter who presses it
    means "drop this filter"; the screen then decides where the focus goes.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Clear filter"),
    ]

    class Left(Message):
        """The user left the box with Escape, after it was emptied."""

    def action_leave(self) -> None:
        self.clear()
        self.post_message(self.Left())
