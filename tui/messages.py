"""App-wide messages: the live feed fans out to every open screen."""

from textual.message import Message

from tui.client import SourceEvent


class LiveEvent(Message):
    """One event from a source's ``sourceEvents`` subscription."""

    def __init__(self, event: SourceEvent) -> None:
        super().__init__()
        self.event = event
