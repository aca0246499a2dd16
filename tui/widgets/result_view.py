"""The merge result: a focusable text view that draws only the rows on screen.

The result is recomputed on every choice, so a new text is wrapped with a plain
greedy word wrap, remembered per line (a choice changes a few lines, not the
file), and each frame draws just the visible rows (Textual's line API).

A gutter numbers the lines and tags each with where it came from, as the side
panes do: ``┃`` for a region (marker lines in the error colour until decided),
``L``/``R``/``=``/``W`` for changes merged automatically. ``follow`` scrolls a
region into view; with focus, the arrow and page keys scroll.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import ClassVar

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.client import Span, SpanOrigin
from tui.widgets.merge_result import split_lines

MARKERS = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")
_WORDS = re.compile(r"\S+\s*|\s+")
_TAGS: dict[SpanOrigin, str] = {
    "UNCHANGED": " ",
    "LOCAL": "L",
    "RAVEN": "R",
    "BOTH": "=",
    "WORDS": "W",
    "CONFLICT": "┃",
}


def wrap(line: str, width: int) -> list[str]:
    """``line`` as rows of at most ``width`` cells, broken between words where possible."""
    if width <= 0 or cell_len(line) <= width:
        return [line]
    rows: list[str] = []
    row = ""
    for word in _WORDS.findall(line):
        if cell_len(row + word.rstrip()) <= width:
            row += word
            continue
        if row:
            rows.append(row.rstrip())
        pieces = chop_cells(word, width) if cell_len(word.rstrip()) > width else [word]
        rows.extend(pieces[:-1])
        row = pieces[-1]
    rows.append(row.rstrip())
    return rows


@dataclass(frozen=True)
class Stretch:
    """Lines ``[start, start + count)`` of the result and where they came from."""

    start: int
    count: int
    origin: SpanOrigin
    region: int = 0


def stretches(spans: list[Span], regions: dict[int, tuple[int, int]]) -> list[Stretch]:
    """Where each span lands in a result, given where the server put each region.

    A region's size depends on its decision (and markers while undecided); every
    other span is as long in the result as the server said it merges to.
    """
    out: list[Stretch] = []
    line = 0
    for span in spans:
        if span.origin == "CONFLICT" and span.region is not None:
            start, count = regions.get(span.region, (line, span.merged_count))
            out.append(Stretch(start, count, "CONFLICT", span.region))
            line = start + count
        else:
            out.append(Stretch(line, span.merged_count, span.origin))
            line += span.merged_count
    return out


class ResultView(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "result-view--marker",
        "result-view--note",
        "result-view--gutter",
        "result-view--current",
        "result-view--decided",
        "result-view--auto",
        "result-view--tag-local",
        "result-view--tag-raven",
        "result-view--tag-both",
        "result-view--tag-region",
    }
    DEFAULT_CSS = """
    ResultView > .result-view--marker { color: $text-error; text-style: bold; }
    ResultView > .result-view--note { color: $text-warning; text-style: bold; }
    ResultView > .result-view--gutter { color: $text-muted; }
    ResultView > .result-view--current { background: $accent-muted; }
    ResultView > .result-view--decided { background: $success-muted 40%; }
    ResultView > .result-view--auto { background: $primary-muted 50%; }
    ResultView > .result-view--tag-local { color: $text-primary; text-style: bold; }
    ResultView > .result-view--tag-raven { color: $text-secondary; text-style: bold; }
    ResultView > .result-view--tag-both { color: $text-accent; text-style: bold; }
    ResultView > .result-view--tag-region { color: $text-error; text-style: bold; }
    ResultView { overflow-y: scroll; }
    ResultView:focus { border: round $accent; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""
        """What the view shows, as the server computed it."""
        self.note = ""
        """Shown instead of the text, e.g. when the result is that the file is deleted."""
        self.stretches: list[Stretch] = []
        self.current = 0
        self.decided: set[int] = set()
        self._lines: list[str] = []
        self._line_rows: list[int] = [0]
        """First visual row of each result line (one more entry at the end)."""
        self._starts: list[int] = []
        self._width = 0
        self._wrapped: dict[str, list[str]] = {}
        self._styles: dict[str, Style] = {}

    def show(self, text: str, note: str = "", stretches: list[Stretch] | None = None) -> None:
        self.text, self.note = text, note
        self.stretches = stretches or []
        self._starts = [s.start for s in self.stretches]
        self._rewrap()

    def mark(self, current: int, decided: set[int]) -> None:
        self.current, self.decided = current, decided
        self.refresh()

    def on_resize(self) -> None:
        if self._text_width != self._width:
            self._rewrap()
            self.follow(self.current)

    @property
    def _gutter(self) -> int:
        return len(str(max(len(self._lines), 1))) + 3

    @property
    def _text_width(self) -> int:
        return max(self.scrollable_content_region.width - self._gutter, 1)

    def _rewrap(self) -> None:
        """Row starts of every line; only lines wider than the view are wrapped (and cached)."""
        shown = self.note or self.text
        self._lines = [line.rstrip("\r\n") for line in split_lines(shown)]
        width = self._text_width
        if width != self._width or len(self._wrapped) > 2 * len(self._lines) + 1000:
            self._wrapped = {}  # rows of another width, or of texts long gone
        self._width = width
        cache = self._wrapped
        if self.scrollable_content_region.width < 2:
            heights = [1] * len(self._lines)  # not laid out yet: wrapped once it has a size
        else:
            heights = [
                1 if len(line) <= width and line.isascii() else len(self._wrap(line, cache))
                for line in self._lines
            ]
        self._line_rows = [0, *accumulate(heights)]
        self.virtual_size = Size(self.scrollable_content_region.width, self._line_rows[-1])
        self.refresh()

    def _wrap(self, line: str, cache: dict[str, list[str]]) -> list[str]:
        pieces = cache.get(line)
        if pieces is None:
            pieces = cache[line] = wrap(line, self._width)
        return pieces

    def _row(self, index: int) -> tuple[int, str, bool]:
        """The line drawn on visual row ``index``, the piece of it, and whether it is its first."""
        number = bisect_right(self._line_rows, index) - 1
        line = self._lines[number]
        sub = index - self._line_rows[number]
        if sub == 0 and ((len(line) <= self._width and line.isascii()) or self._width < 2):
            return number, line, True
        pieces = self._wrap(line, self._wrapped)
        return number, pieces[sub] if sub < len(pieces) else "", sub == 0

    def on_unmount(self) -> None:
        self._wrapped = {}

    def region_line(self, index: int) -> int | None:
        """The result line region ``index`` starts on (0-based)."""
        for stretch in self.stretches:
            if stretch.region == index:
                return stretch.start
        return None

    def follow(self, index: int) -> None:
        """Scroll region ``index`` to a third of the way down the view."""
        line = self.region_line(index)
        if line is None or line >= len(self._line_rows) - 1:
            return
        # After the next refresh: the new text's height must be known before scrolling,
        # or the target is clamped to the old one.
        self.call_after_refresh(self._scroll_to_row, self._line_rows[line])

    def _scroll_to_row(self, row: int) -> None:
        top = max(row - self.scrollable_content_region.height // 3, 0)
        self.scroll_to(y=top, animate=False, immediate=True)

    def _stretch(self, line: int) -> Stretch | None:
        at = bisect_right(self._starts, line) - 1
        if at < 0:
            return None
        stretch = self.stretches[at]
        return stretch if line < stretch.start + max(stretch.count, 1) else None

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= self._line_rows[-1]:
            return Strip.blank(width, self.rich_style)
        number, text, first = self._row(index)
        style = self.rich_style
        if self.note:
            return Strip(
                [Segment(text, style + self._component("result-view--note"))]
            ).adjust_cell_length(width, style)
        stretch = self._stretch(number)
        line_style, tag, tag_style = self._marks(stretch)
        line_style = style + line_style
        if text.startswith(MARKERS) and stretch is not None and stretch.origin == "CONFLICT":
            text_style = line_style + self._component("result-view--marker")
        else:
            text_style = line_style
        gutter = f"{number + 1:>{self._gutter - 3}} " if first else " " * (self._gutter - 2)
        segments = [
            Segment(gutter, line_style + self._component("result-view--gutter")),
            Segment(tag, line_style + tag_style),
            Segment(" ", line_style),
            Segment(text, text_style),
        ]
        return Strip(segments).adjust_cell_length(width, line_style)

    def _marks(self, stretch: Stretch | None) -> tuple[Style, str, Style]:
        if stretch is None or stretch.origin == "UNCHANGED":
            return Style(), " ", Style()
        tag = _TAGS[stretch.origin]
        if stretch.origin == "CONFLICT":
            if stretch.region == self.current:
                line = self._component("result-view--current")
            elif stretch.region in self.decided:
                line = self._component("result-view--decided")
            else:
                line = Style()
            return line, tag, self._component("result-view--tag-region")
        name = {"LOCAL": "tag-local", "RAVEN": "tag-raven"}.get(stretch.origin, "tag-both")
        return (
            self._component("result-view--auto"),
            tag,
            self._component(f"result-view--{name}"),
        )

    def _component(self, name: str) -> Style:
        """Component styles are looked up once per theme: every row of every frame uses them."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def notify_style_update(self) -> None:
        self._styles = {}
        super().notify_style_update()
