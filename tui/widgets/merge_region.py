"""One side (local, raven or base) of a conflict, with its regions numbered.

The side panes share one chunk list, so region N sits at the same place in
each; the region under the cursor is drawn reversed, decided ones dimmed.
"""

from typing import Literal

from rich.text import Text
from textual.widgets import Static

from tui.client import Chunk, Region

Side = Literal["local", "remote", "base"]
_COLOUR: dict[Side, str] = {"local": "cyan", "remote": "magenta", "base": "yellow"}


def region_text(region: Region, side: Side) -> str:
    if side == "local":
        return region.local
    if side == "remote":
        return region.remote
    return region.base


def render_side(chunks: list[Chunk], side: Side, current: int, decided: set[int]) -> Text:
    text = Text()
    colour = _COLOUR[side]
    for chunk in chunks:
        if chunk.stable is not None:
            text.append(chunk.stable, style="dim")
        region = chunk.region
        if region is None:
            continue
        state = "✓" if region.index in decided else "?"
        style = f"bold black on {colour}" if region.index == current else f"{colour}"
        text.append(f"[{region.index}{state}]", style=f"bold {colour}")
        body = region_text(region, side) or "(empty)\n"
        text.append("\n" if not body.startswith("\n") else "")
        text.append(body, style=style)
        if not body.endswith("\n"):
            text.append("\n")
    return text


class MergePane(Static):
    """A read-only rendering of one side; ``show`` redraws it."""

    def __init__(self, side: Side, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.side: Side = side

    def show(self, chunks: list[Chunk], current: int, decided: set[int]) -> None:
        self.update(render_side(chunks, self.side, current, decided))
