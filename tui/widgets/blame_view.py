"""Blame drawn one visible line at a time: a gutter naming the version, then the line.

A blamed file may have tens of thousands of lines; mounting a widget or a
table row per line would freeze the app while it builds. The view keeps the
lines as they came and draws only the rows on screen (Textual's line API), so
opening and scrolling cost the same at any size. Consecutive lines from one
version form a group: its first line carries the gutter (who, when, which
version), the rest leave it blank, as ``tig blame`` does.
"""

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.client import BlameLineInfo
from tui.clock import Clock, local_now
from tui.widgets.theme import themed

AUTHOR_CELLS = 12
GUTTER_CELLS = AUTHOR_CELLS + 1 + 10 + 1 + 6 + 3
"""Author, a space, the date, a space, the version number, then `` │ ``."""

_CONTROLS = {c: "�" for c in range(32) if c != 9} | {127: "�"}
"""Control characters would move the terminal's cursor; they show as a replacement mark."""


def short_author(name: str) -> str:
    """An author fitted to the gutter: cut with an ellipsis rather than mid-word silently."""
    return name if len(name) <= AUTHOR_CELLS else name[: AUTHOR_CELLS - 1] + "…"


def version_label(line: BlameLineInfo) -> str:
    """``v12``, or ``≤v12`` when the walk stopped there and the line may be older."""
    return f"{'≤' if line.or_older else ''}v{line.seq}"


class BlameView(ScrollView, can_focus=True):
    """Shows one blame; ``show`` replaces it and starts at the top."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("space", "page_down", "Page down", show=False),
        Binding("home", "top", "Top", show=False),
        Binding("end", "bottom", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    BlameView {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, *, id: str | None = None, clock: Clock = local_now) -> None:
        super().__init__(id=id)
        self.clock = clock
        """Dates show in this clock's time zone."""
        self.lines: Sequence[BlameLineInfo] = ()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh())

    def show(self, lines: Sequence[BlameLineInfo]) -> None:
        self.lines = lines
        # len() rather than cell widths: only horizontal scrolling depends on it,
        # and measuring every line would cost as much as drawing them all.
        widest = max((len(line.text) for line in lines), default=0)
        self.virtual_size = Size(GUTTER_CELLS + widest, len(lines))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def starts_group(self, index: int) -> bool:
        """Whether line ``index`` is the first of a run of lines from one version."""
        return index == 0 or self.lines[index - 1].seq != self.lines[index].seq

    def gutter_text(self, index: int) -> str:
        """The gutter text of line ``index``: filled on a group's first line, blank after."""
        if not self.starts_group(index):
            return " " * (GUTTER_CELLS - 3) + " │ "
        line = self.lines[index]
        date = line.recorded_at.astimezone(self.clock().tzinfo).strftime("%Y-%m-%d")
        who = short_author(line.author)
        return f"{who:<{AUTHOR_CELLS}} {date} {version_label(line):>6} │ "

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False)

    def action_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        theme = self.app.theme_variables
        gutter_style: Style = themed("$text-secondary", theme)
        if not self.starts_group(index):
            gutter_style = themed("$foreground-darken-3", theme)
        text = self.lines[index].text.translate(_CONTROLS).expandtabs(4)
        body = Strip([Segment(text, self.rich_style)]).crop_extend(
            scroll_x, scroll_x + max(width - GUTTER_CELLS, 0), self.rich_style
        )
        gutter = Strip([Segment(self.gutter_text(index), gutter_style)])
        return Strip.join([gutter, body]).crop(0, width)
