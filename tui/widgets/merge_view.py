"""The three versions side by side in one scrolling view, drawn row by row.

One widget draws all three columns, so they cannot drift apart: a row is the
same stretch of the file in every column and they scroll as one. Only the rows
on screen are drawn (Textual's line API); the rows and their wrapping are built
in a worker thread (:mod:`tui.widgets.merge_rows`), so a 5,000-line conflict
never holds up a key.

Every column shows its own version's text only. A gutter gives each line its
number in that version and a tag: ``┃`` for a region to decide, ``L``/``R``
for a change taken automatically from local or raven, ``=`` for a change both
made alike, ``W`` for word edits of both that merged. The words a version
changed are highlighted (``words`` turns that off).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.client import SpanOrigin
from tui.widgets.merge_rows import SIDES, Layout, MergeDoc, Row, Side, build_layout, highlights

TAGS: dict[SpanOrigin, str] = {
    "UNCHANGED": " ",
    "LOCAL": "L",
    "RAVEN": "R",
    "BOTH": "=",
    "WORDS": "W",
    "CONFLICT": "┃",
}
_ORIGIN_SIDES: dict[SpanOrigin, tuple[Side, ...]] = {
    "LOCAL": ("local",),
    "RAVEN": ("remote",),
    "BOTH": ("local", "remote"),
    "WORDS": ("local", "remote"),
}
SEPARATOR = "│"
_MISSING: dict[Side, str] = {
    "local": "(local has no lines here)",
    "remote": "(raven has no lines here)",
    "base": "(not in the base)",
}


def column_widths(width: int, columns: int) -> list[int]:
    """Each column's width, separators taken out: the side labels use the same split."""
    room = max(width - (columns - 1), columns)
    base, extra = divmod(room, columns)
    return [base + (1 if i < extra else 0) for i in range(columns)]


class MergeView(ScrollView, can_focus=True, inherit_bindings=False):
    """Local, raven and (when known) base, aligned; up/down are left to the screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "merge-view--gutter",
        "merge-view--separator",
        "merge-view--header",
        "merge-view--region",
        "merge-view--decided",
        "merge-view--current",
        "merge-view--pad",
        "merge-view--note",
        "merge-view--word",
        "merge-view--word-base",
        "merge-view--auto",
        "merge-view--tag-local",
        "merge-view--tag-raven",
        "merge-view--tag-both",
        "merge-view--tag-region",
        "merge-view--tag-decided",
    }
    DEFAULT_CSS = """
    MergeView { height: 1fr; overflow-y: scroll; }
    MergeView > .merge-view--gutter { color: $text-muted; }
    MergeView > .merge-view--separator { color: $panel-lighten-2; }
    MergeView > .merge-view--header { color: $text; background: $error-muted; text-style: bold; }
    MergeView > .merge-view--region { background: $error-muted 40%; }
    MergeView > .merge-view--decided { background: $success-muted 40%; }
    MergeView > .merge-view--current { background: $accent-muted; }
    MergeView > .merge-view--pad { color: $text-disabled; background: $surface-darken-1; }
    MergeView > .merge-view--note { color: $text-muted; text-style: italic; }
    MergeView > .merge-view--word {
        color: $text-success; background: $success-muted; text-style: bold;
    }
    MergeView > .merge-view--word-base {
        color: $text-error; background: $error-muted; text-style: bold;
    }
    MergeView > .merge-view--auto { background: $primary-muted 50%; }
    MergeView > .merge-view--tag-local { color: $text-primary; text-style: bold; }
    MergeView > .merge-view--tag-raven { color: $text-secondary; text-style: bold; }
    MergeView > .merge-view--tag-both { color: $text-accent; text-style: bold; }
    MergeView > .merge-view--tag-region { color: $text-error; text-style: bold; }
    MergeView > .merge-view--tag-decided { color: $text-success; text-style: bold; }
    """

    @dataclass
    class RegionClicked(Message):
        index: int

    @dataclass
    class LaidOut(Message):
        """The rows are wrapped to the current width (after a load or a resize)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.doc: MergeDoc | None = None
        self.wrapped: Layout | None = None
        self.current = 0
        self.decided: dict[int, str] = {}
        """Region number to a short name of its choice."""
        self.words = True
        self._cache: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._strips: dict[tuple[int, int, bool, str | None, bool], Strip] = {}
        self._styles: dict[str, Style] = {}

    # -- state from the screen

    def show(self, doc: MergeDoc) -> None:
        """A new conflict: start from the top, laid out afresh."""
        self.doc = doc
        self.wrapped = None
        self._cache = {}
        self._strips = {}
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._relayout()

    def mark(self, current: int, decided: dict[int, str]) -> None:
        moved = current != self.current
        self.current, self.decided = current, decided
        self.refresh()
        if moved:
            self.follow()

    def toggle_words(self) -> bool:
        self.words = not self.words
        self.refresh()
        return self.words

    @property
    def columns(self) -> int:
        return 3 if self.doc is None or self.doc.show_base else 2

    @property
    def sides(self) -> tuple[Side, ...]:
        return SIDES[: self.columns]

    # -- layout

    def on_resize(self) -> None:
        if self.doc is not None and (
            self.wrapped is None or self.wrapped.width != self._text_width
        ):
            self._relayout()

    @property
    def _gutter(self) -> int:
        doc = self.doc
        longest = max((len(t) for t in doc.texts.values()), default=0) if doc else 0
        return len(str(max(longest, 1))) + 3

    @property
    def _text_width(self) -> int:
        width = self.scrollable_content_region.width
        return max(min(column_widths(width, self.columns)) - self._gutter, 1)

    @work(exclusive=True, group="layout")
    async def _relayout(self) -> None:
        doc = self.doc
        if doc is None or self.scrollable_content_region.width < 2:
            return  # not laid out yet: on_resize lays the rows out once it has a size
        width = self._text_width
        layout = await asyncio.to_thread(build_layout, doc, width)
        if doc is not self.doc:
            return
        self.wrapped = layout
        self._strips = {}
        self.virtual_size = Size(self.scrollable_content_region.width, layout.height)
        self.refresh()
        self.follow()
        self.post_message(self.LaidOut())

    def follow(self) -> None:
        """Put the current region in the middle of the view (or at its top if taller)."""
        doc, layout = self.doc, self.wrapped
        if doc is None or layout is None or self.current not in doc.region_rows:
            return
        first, count = doc.region_rows[self.current]
        top, bottom = layout.starts[first], layout.starts[first + count]
        room = self.scrollable_content_region.height
        y = top - max((room - (bottom - top)) // 2, 0)
        self.scroll_to(y=max(y, 0), animate=False, immediate=True)

    def region_shown(self, index: int) -> bool:
        """Whether region ``index`` starts on screen."""
        doc, layout = self.doc, self.wrapped
        if doc is None or layout is None or index not in doc.region_rows:
            return False
        y = layout.starts[doc.region_rows[index][0]]
        top = self.scroll_offset.y
        return top <= y < top + self.scrollable_content_region.height

    # -- drawing

    def _style(self, name: str) -> Style:
        """Component styles are looked up once per theme: every row of every frame uses them."""
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"merge-view--{name}", partial=True)
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        doc, layout = self.doc, self.wrapped
        visual = self.scroll_offset.y + y
        if doc is None or layout is None or visual >= layout.height:
            return Strip.blank(width, self.rich_style)
        r, sub = layout.row_at(visual)
        row = doc.rows[r]
        # A choice or a move repaints the view; only rows whose look changed are rebuilt.
        key = (visual, width, row.region == self.current, self.decided.get(row.region), self.words)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        if len(self._strips) > 4096:
            self._strips.clear()
        self._strips[key] = strip = self._render_row(doc, layout, r, row, sub, width)
        return strip

    def _render_row(
        self, doc: MergeDoc, layout: Layout, r: int, row: Row, sub: int, width: int
    ) -> Strip:
        segments: list[Segment] = []
        widths = column_widths(width, self.columns)
        for k, side in enumerate(self.sides):
            if k:
                segments.append(Segment(SEPARATOR, self.rich_style + self._style("separator")))
            segments.extend(self._cell(doc, layout, r, row, sub, k, side, widths[k]))
        return Strip(segments).adjust_cell_length(width, self.rich_style)

    def _row_style(self, row: Row) -> Style:
        style = self.rich_style
        if row.origin != "CONFLICT":
            return style
        if row.region == self.current:
            return style + self._style("current")
        return style + self._style("decided" if row.region in self.decided else "region")

    def _cell(
        self,
        doc: MergeDoc,
        layout: Layout,
        r: int,
        row: Row,
        sub: int,
        k: int,
        side: Side,
        width: int,
    ) -> list[Segment]:
        base = self._row_style(row)
        if row.header:
            return [
                Segment(
                    self._header(row, side).ljust(width)[:width], base + self._header_style(row)
                )
            ]
        gutter = self._gutter
        line = row.line(side)
        if line is None:
            return self._missing(row, sub, side, width, base)
        text = doc.texts[side][line]
        points = layout.wraps.get((r, k), [0])
        if sub >= len(points):
            return [Segment(" " * width, base)]
        start = points[sub]
        end = points[sub + 1] if sub + 1 < len(points) else len(text)
        number = f"{line + 1:>{gutter - 3}}" if sub == 0 else " " * (gutter - 3)
        tag, tag_style = self._tag(row, side)
        out = [
            Segment(number + " ", base + self._style("gutter")),
            Segment(tag, base + tag_style),
            Segment(" ", base),
        ]
        text_style = base
        if side in _ORIGIN_SIDES.get(row.origin, ()):
            text_style = base + self._style("auto")
        word_style = text_style + self._style("word-base" if side == "base" else "word")
        at = start
        for w0, w1 in self._highlights(r, row, k, side) if self.words else []:
            w0, w1 = max(w0, start), min(w1, end)
            if w1 <= w0:
                continue
            out.append(Segment(text[at:w0], text_style))
            out.append(Segment(text[w0:w1], word_style))
            at = w1
        out.append(Segment(text[at:end], text_style))
        return list(Segment.adjust_line_length(out, width, text_style))

    def _highlights(self, r: int, row: Row, k: int, side: Side) -> list[tuple[int, int]]:
        key = (r, k)
        found = self._cache.get(key)
        if found is None:
            assert self.doc is not None
            found = self._cache[key] = highlights(self.doc, row, side)
        return found

    def _tag(self, row: Row, side: Side) -> tuple[str, Style]:
        origin = row.origin
        if origin == "CONFLICT":
            return TAGS[origin], self._style(
                "tag-decided" if row.region in self.decided else "tag-region"
            )
        if origin == "UNCHANGED":
            return " ", Style()
        if side not in _ORIGIN_SIDES[origin] and side != "base":
            return " ", Style()
        name = {"LOCAL": "tag-local", "RAVEN": "tag-raven"}.get(origin, "tag-both")
        return TAGS[origin], self._style(name)

    def _header(self, row: Row, side: Side) -> str:
        state = self.decided.get(row.region)
        status = f"✓ {state}" if state else "? undecided"
        if side == "base":
            return f"── region {row.region} (base) "
        return f"── region {row.region}  {status} "

    def _header_style(self, row: Row) -> Style:
        return (
            self._style("header") if row.region not in self.decided else self._style("tag-decided")
        )

    def _missing(self, row: Row, sub: int, side: Side, width: int, base: Style) -> list[Segment]:
        """A side without a line in this row: a note on a region's first row, else padding."""
        doc = self.doc
        deleted = doc is not None and side != "base" and getattr(doc.conflict, side) is None
        if deleted and row.offset == 0 and sub == 0:
            name = "local" if side == "local" else "raven"
            note = f"(the {name} side deleted this file)".ljust(width)[:width]
            return [Segment(note, base + self._style("note"))]
        if row.origin == "CONFLICT" and row.offset == 0 and sub == 0:
            note = _MISSING[side].ljust(width)[:width]
            return [Segment(note, base + self._style("note"))]
        return [Segment(" " * width, base + self._style("pad"))]

    def on_click(self, event: Click) -> None:
        doc, layout = self.doc, self.wrapped
        if doc is None or layout is None:
            return
        visual = self.scroll_offset.y + event.y
        if 0 <= visual < layout.height:
            row = doc.rows[layout.row_at(visual)[0]]
            if row.region:
                self.post_message(self.RegionClicked(row.region))

    def notify_style_update(self) -> None:
        """A theme change restyles every row: drop the rows drawn in the old colours."""
        self._strips = {}
        self._styles = {}
        super().notify_style_update()
