"""A coloured view of a diff between two versions, in the theme's colours.

Only the lines on screen are drawn (Textual's line API), each when it is
first shown, so a diff of ten thousand lines opens as fast as one of ten.
"""

from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.client import FileDiff
from tui.widgets.theme import themed

_STYLE = {
    "insert": "$text-success",
    "delete": "$text-error",
    "header": "bold $text-accent",
    "equal": "",
}
_PREFIX = {"insert": "+", "delete": "-", "header": "", "equal": " "}
HINT = "Press d for the diff with the version before, or mark two versions with space."


def _summary(diff: FileDiff) -> str:
    return f"{diff.from_hash[:8]} → {diff.to_hash[:8]}   +{diff.insertions} -{diff.deletions}"


def _rows(diff: FileDiff | None) -> list[tuple[str, str]]:
    """Each line shown, as its text and the kind that styles it."""
    if diff is None:
        return [(HINT, "hint")]
    rows = [(_summary(diff), "summary")]
    if not diff.lines:
        rows.append(("(no difference)", "hint"))
    rows.extend((_PREFIX.get(line.kind, " ") + line.text, line.kind) for line in diff.lines)
    return rows


def render_diff(diff: FileDiff) -> Content:
    """The whole diff as one ``Content``: what the view shows, as text to read or search."""
    styles = {**_STYLE, "hint": "dim", "summary": "bold"}
    return Content.assemble(*((text + "\n", styles.get(kind, "")) for text, kind in _rows(diff)))


class DiffView(ScrollView, can_focus=True):
    """Shows a hint until given a diff; ``show`` another to replace it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("home", "top", "Top", show=False),
        Binding("end", "bottom", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    DiffView {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.diff: FileDiff | None = None
        self._rows: list[tuple[str, str]] = _rows(None)
        self._styles: dict[str, RichStyle] = {}
        self._cache: dict[int, Strip] = {}

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._restyle())
        self._restyle()

    @property
    def content(self) -> Content:
        """What the view shows, as one ``Content`` (built on demand: it costs a walk)."""
        if self.diff is None:
            return Content.styled(HINT, "dim")
        return render_diff(self.diff)

    def show(self, diff: FileDiff | None) -> None:
        self.diff = diff
        self._rows = _rows(diff)
        self._cache.clear()
        widest = max(cell_len(text) for text, _ in self._rows)
        self.virtual_size = Size(widest, len(self._rows))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def _restyle(self) -> None:
        variables = self.app.theme_variables
        self._styles = {kind: themed(spec, variables) for kind, spec in _STYLE.items() if spec}
        self._styles["summary"] = RichStyle(bold=True)
        self._styles["hint"] = RichStyle(dim=True)
        self._cache.clear()
        self.refresh()

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False)

    def action_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False)

    def _strip(self, index: int) -> Strip:
        strip = self._cache.get(index)
        if strip is None:
            text, kind = self._rows[index]
            strip = self._cache[index] = Strip([Segment(text, self._styles.get(kind))])
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        return self._strip(index).crop_extend(scroll_x, scroll_x + width, self.rich_style)
