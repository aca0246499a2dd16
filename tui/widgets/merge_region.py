"""One side (local, raven or base) of a conflict, with its regions numbered.

The side panes share one chunk list, so region N sits at the same place in
each. Every chunk is its own widget, so a pane can scroll region N into view
and a click on a region selects it. The region under the cursor is marked by
CSS (``-current``), decided ones dimmed (``-decided``).

Inside a region, the words a side changed are highlighted from the server's
``wordChanges``: against the base when the region has base lines, otherwise
against the other side. The server pairs lines by a line diff, so each line is
looked up by its own line number on this side; a line without a partner (one
this side inserted) is highlighted whole. Text this side has that the compared
version lacks is highlighted as inserted; the compared version's text missing
here is shown struck through, in place. Every style is a theme variable, so the
highlights follow the dark and light themes.
"""

from dataclasses import dataclass
from typing import Literal

from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tui.client import Chunk, Region, Version, WordSegment

Side = Literal["local", "remote", "base"]

_VERSION: dict[Side, Version] = {"local": "LOCAL", "remote": "REMOTE", "base": "BASE"}
LABEL_STYLE: dict[Side, str] = {
    "local": "bold $text-primary",
    "remote": "bold $text-secondary",
    "base": "bold $text-warning",
}
INSERTED = "bold $text-success on $success-muted"
"""Words on this side only: what it added (or has where the other side differs)."""
REMOVED = "strike $text-error on $error-muted"
"""Words of the compared version that this side lacks, shown where they were."""
EMPTY = "italic $text-muted"


def region_text(region: Region, side: Side) -> str:
    if side == "local":
        return region.local
    if side == "remote":
        return region.remote
    return region.base


def _comparison(region: Region, side: Side) -> tuple[dict[int, tuple[WordSegment, ...]], str]:
    """The word changes shown on ``side``, by its line numbers, and which kind is its own text.

    Against the base, ``side`` is the ``new`` version; between the sides, local
    is the ``old`` version and remote the ``new`` one.
    """
    if region.base:
        return region.words("BASE", _VERSION[side], "new"), "insert"
    if side == "local":
        return region.words("LOCAL", "REMOTE", "old"), "delete"
    return region.words("LOCAL", "REMOTE", "new"), "insert"


def render_region(region: Region, side: Side) -> Content:
    """The region's lines on ``side``, its changed words highlighted (not on the base)."""
    lines = region_text(region, side).splitlines()
    if not lines:
        return Content.styled("(empty)", EMPTY)
    if side == "base":
        return Content("\n".join(lines))
    changes, own = _comparison(region, side)
    out: list[Content] = []
    for offset, line in enumerate(lines):
        segments = changes.get(offset)
        if segments is None:  # no partner line: all of it is this side's own
            out.append(Content.styled(line, INSERTED))
            continue
        parts: list[tuple[str, str]] = []
        for segment in segments:
            if segment.kind == "equal":
                parts.append((segment.text, ""))
            elif segment.kind == own:
                parts.append((segment.text, INSERTED))
            else:
                parts.append((segment.text, REMOVED))
        out.append(Content.assemble(*parts))
    return Content("\n").join(out)


class StableBlock(Static):
    """Text both sides agree on."""

    def __init__(self, text: str) -> None:
        super().__init__(Content("\n".join(text.splitlines())), classes="stable")


class RegionBlock(Static):
    """One numbered region of one side; a click selects it."""

    def __init__(self, region: Region, side: Side) -> None:
        super().__init__(classes=f"region region-{region.index}")
        self.conflict_region = region
        self.side: Side = side
        self.body = render_region(region, side)
        self.shown: tuple[bool, bool] | None = None

    def show(self, current: bool, decided: bool) -> None:
        if (current, decided) == self.shown:
            return  # a choice touches two regions; redrawing all would cost O(file) each time
        self.shown = (current, decided)
        mark = "✓" if decided else "?"
        label = Content.styled(f"[{self.conflict_region.index}{mark}]", LABEL_STYLE[self.side])
        self.update(Content("\n").join([label, self.body]))
        self.set_class(current, "-current")
        self.set_class(decided, "-decided")

    def on_click(self) -> None:
        self.post_message(MergePane.RegionClicked(self.conflict_region.index))


class MergePane(Vertical):
    """A read-only rendering of one side; ``show`` redraws it."""

    @dataclass
    class RegionClicked(Message):
        index: int

    def __init__(self, side: Side, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.side: Side = side
        self.chunks: list[Chunk] | None = None
        self.blocks: dict[int, RegionBlock] = {}

    def show(self, chunks: list[Chunk], current: int, decided: set[int]) -> None:
        if chunks is not self.chunks:
            self.chunks = chunks
            self.blocks = {}
            widgets: list[Static] = []
            for chunk in chunks:
                if chunk.stable:
                    widgets.append(StableBlock(chunk.stable))
                if chunk.region is not None:
                    block = RegionBlock(chunk.region, self.side)
                    self.blocks[chunk.region.index] = block
                    widgets.append(block)
            self.remove_children()
            self.mount_all(widgets)
        for index, block in self.blocks.items():
            block.show(index == current, index in decided)
        self.call_after_refresh(self.follow, current)

    def follow(self, index: int) -> None:
        """Scroll region ``index`` into the middle of the pane."""
        block = self.blocks.get(index)
        scroller = self.parent
        if block is not None and block.is_mounted and isinstance(scroller, Widget):
            scroller.scroll_to_center(block, animate=False, immediate=True)

    @property
    def current_block(self) -> RegionBlock | None:
        return next((b for b in self.blocks.values() if b.has_class("-current")), None)
