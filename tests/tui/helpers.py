"""Waiting on the app without sleeping on the clock: poll the UI between frames."""

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Static


async def until(pilot: Pilot[None], predicate: Callable[[], object], what: str) -> None:
    """Let the app run until ``predicate()`` holds, failing with ``what`` if it never does."""
    for _ in range(500):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


def text_of(widget: Static) -> str:
    """The plain text a Static shows, whatever it was given."""
    content = widget.content
    plain = getattr(content, "plain", None)
    return plain if isinstance(plain, str) else str(content)
