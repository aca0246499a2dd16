"""The merge result: a read-only text view that draws only the rows on screen.

The result is recomputed on every choice, and a long file as one ``Static``
is re-wrapped as a whole each time (about a second for 5,000 lines), so every
keypress lagged with the file's length. Here a new text is wrapped once with a
plain greedy word wrap (cheap on ASCII, cell-aware elsewhere) and each frame
draws just the visible rows (Textual's line API). Conflict marker lines stand
out in the theme's error colour.
"""

import re
from typing import ClassVar

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

MARKERS = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")
_WORDS = re.compile(r"\S+\s*|\s+")


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


class ResultView(ScrollView, can_focus=False):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"result-view--marker", "result-view--note"}
    DEFAULT_CSS = """
    ResultView > .result-view--marker { color: $text-error; text-style: bold; }
    ResultView > .result-view--note { color: $text-warning; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""
        """What the view shows, as the server computed it."""
        self.note = ""
        """Shown instead of the text, e.g. when the result is that the file is deleted."""
        self._rows: list[tuple[str, bool]] = []
        self._width = 0

    def show(self, text: str, note: str = "") -> None:
        self.text, self.note = text, note
        self._rewrap()

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._rewrap()

    def _rewrap(self) -> None:
        self._width = width = self.scrollable_content_region.width
        if self.note:
            self._rows = [(row, False) for row in wrap(self.note, width)]
        else:
            self._rows = [
                (row, line.startswith(MARKERS))
                for line in self.text.splitlines()
                for row in wrap(line, width)
            ]
        self.virtual_size = Size(width, len(self._rows))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        text, marker = self._rows[index]
        style = self.rich_style
        if self.note:
            style += self._component("result-view--note")
        elif marker:
            style += self._component("result-view--marker")
        return Strip([Segment(text, style)]).adjust_cell_length(width, self.rich_style)

    def _component(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)
