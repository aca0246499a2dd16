"""The merge screen's model: the three versions as aligned rows, and where regions sit.

Pure data, no widgets: building it is linear in the file and runs off the event
loop, and every pane draws from the same rows, so line N of the local, raven
and base panes is always the same stretch of the file (meld's alignment: a
side with fewer lines in a span is padded with blank rows).

Each row belongs to a span of the server's merge (``Span``): unchanged, changed
by one side and merged automatically, changed alike, or a numbered region. A
region starts with a header row naming it, so its number and state are visible
in every pane.

Word highlights never mix versions: a pane draws its own text only, and marks
the words that differ from the compared version (the base when there is one,
otherwise the other side). The server's word changes cover regions; inside an
auto-merged span the lines are compared here with :mod:`difflib`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal

from rich.cells import cell_len

from tui.client import ConflictDetail, Region, Span, SpanOrigin, Version
from tui.widgets.merge_result import split_lines

Side = Literal["local", "remote", "base"]
SIDES: tuple[Side, ...] = ("local", "remote", "base")
_VERSION: dict[Side, Version] = {"local": "LOCAL", "remote": "REMOTE", "base": "BASE"}
_WORDS = re.compile(r"\s+|\w+|[^\w\s]")
_WRAP = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True, slots=True)
class Row:
    """One aligned row: each side's 0-based line number, or None where it has no line.

    ``header`` rows carry no text: they open region ``region`` in every pane.
    ``offset`` is the row's position within its span (its line within the region).
    """

    origin: SpanOrigin
    region: int
    lines: tuple[int | None, int | None, int | None]
    offset: int = 0
    header: bool = False

    def line(self, side: Side) -> int | None:
        return self.lines[SIDES.index(side)]


def split(text: str | None) -> list[str]:
    r"""Lines without endings, split on ``\n`` only: the server's spans count lines so."""
    return [line.rstrip("\r\n") for line in split_lines(text)]


@dataclass
class MergeDoc:
    """The conflict as rows; ``region_rows[n]`` is region n's (header row, row count)."""

    conflict: ConflictDetail
    show_base: bool
    texts: dict[Side, list[str]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    region_rows: dict[int, tuple[int, int]] = field(default_factory=dict)
    regions: dict[int, Region] = field(default_factory=dict)

    @property
    def region_count(self) -> int:
        return len(self.regions)


def build_doc(conflict: ConflictDetail) -> MergeDoc:
    """Rows for every span; linear in the file, so it runs in a worker thread."""
    show_base = conflict.base_known
    doc = MergeDoc(conflict, show_base)
    doc.texts = {
        "local": split(conflict.local),
        "remote": split(conflict.remote),
        "base": split(conflict.base),
    }
    doc.regions = {r.index: r for r in conflict.regions}
    for span in conflict.spans:
        _add_span(doc, span)
    return doc


def _add_span(doc: MergeDoc, span: Span) -> None:
    counts = (span.local_count, span.remote_count, span.base_count if doc.show_base else 0)
    starts = (span.local_start, span.remote_start, span.base_start)
    region = span.region or 0
    first = len(doc.rows)
    if span.origin == "CONFLICT":
        doc.rows.append(Row("CONFLICT", region, (None, None, None), header=True))
    height = max(*counts, 1 if span.origin == "CONFLICT" else 0)
    for i in range(height):
        lines = tuple(starts[k] + i if i < counts[k] else None for k in range(3))
        doc.rows.append(Row(span.origin, region, lines, offset=i))  # type: ignore[arg-type]
    if span.origin == "CONFLICT":
        doc.region_rows[region] = (first, len(doc.rows) - first)


# ---- word highlights -------------------------------------------------------------


def highlights(doc: MergeDoc, row: Row, side: Side) -> list[tuple[int, int]]:
    """Character ranges of the line ``side`` shows in ``row`` that differ from its comparison."""
    line = row.line(side)
    if line is None:
        return []
    text = doc.texts[side][line]
    if row.origin == "UNCHANGED":
        return []
    if row.origin == "CONFLICT":
        region = doc.regions.get(row.region)
        return region_ranges(doc.show_base, region, row.offset, side, text) if region else []
    return _auto_ranges(doc, row, side, text)


def region_ranges(
    show_base: bool, region: Region, offset: int, side: Side, text: str
) -> list[tuple[int, int]]:
    """From the server's word changes: this side's own words, never the other version's.

    ``offset`` is the line's number within the region on ``side``.
    """
    if not region.word_changes:
        return []
    if show_base and region.base:
        if side == "base":
            pairs = [("BASE", "LOCAL", "old"), ("BASE", "REMOTE", "old")]
        else:
            pairs = [("BASE", _VERSION[side], "new")]
    elif side == "base":
        return []
    else:
        pairs = [("LOCAL", "REMOTE", "old" if side == "local" else "new")]
    ranges: list[tuple[int, int]] = []
    partnered = False
    for old, new, rendered in pairs:
        segments = region.words(old, new, rendered).get(offset)  # type: ignore[arg-type]
        if segments is None:
            continue
        partnered = True
        own = "delete" if rendered == "old" else "insert"
        at = 0
        for segment in segments:
            if segment.kind == "equal":
                at += len(segment.text)
            elif segment.kind == own:
                ranges.append((at, at + len(segment.text)))
                at += len(segment.text)
    if not partnered:  # a line without a partner: all of it is this side's own
        return [(0, len(text))] if text else []
    return _merged(ranges)


def _auto_ranges(doc: MergeDoc, row: Row, side: Side, text: str) -> list[tuple[int, int]]:
    """Inside an auto-merged span: the changed side against the base, line by line."""
    changed: tuple[Side, ...]
    if row.origin == "LOCAL":
        changed = ("local",)
    elif row.origin == "RAVEN":
        changed = ("remote",)
    else:
        changed = ("local", "remote")
    if side not in changed and side != "base":
        return []
    if not doc.show_base:
        return []
    other = changed[0] if side == "base" else "base"
    partner = row.line(other)
    if partner is None:
        return [(0, len(text))] if text else []
    return word_ranges(doc.texts[other][partner], text)


def word_ranges(old: str, new: str) -> list[tuple[int, int]]:
    """Ranges of ``new`` whose words are not in ``old`` (a plain word diff)."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    starts = [0]
    for token in b:
        starts.append(starts[-1] + len(token))
    ranges = [
        (starts[j1], starts[j2])
        for tag, _, _, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        if tag in ("replace", "insert") and j2 > j1
    ]
    return _merged(ranges)


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif end > start:
            out.append((start, end))
    return out


# ---- layout: wrapped rows, the same height in every pane -----------------------------


def wrap_points(line: str, width: int) -> list[int]:
    """Where each wrapped row of ``line`` starts (character offsets), breaking between words."""
    if width <= 0 or cell_len(line) <= width:
        return [0]
    starts = [0]
    used = 0
    for match in _WRAP.finditer(line):
        word = match.group()
        size = cell_len(word.rstrip())
        if used and used + size > width:
            starts.append(match.start())
            used = 0
        while size > width:  # a word longer than the row: cut it
            cut = _cut(line, starts[-1], width)
            starts.append(cut)
            size = cell_len(line[cut : match.end()].rstrip())
        used += cell_len(word)
    return starts


def _cut(line: str, start: int, width: int) -> int:
    used = 0
    for i in range(start, len(line)):
        used += cell_len(line[i])
        if used > width:
            return max(i, start + 1)
    return len(line)


@dataclass(frozen=True)
class Layout:
    """Rows wrapped to a column width: row r starts at visual line ``starts[r]``."""

    width: int
    starts: list[int]
    wraps: dict[tuple[int, int], list[int]]
    """(row, side index) to that line's wrap points, for lines that wrap."""

    @property
    def height(self) -> int:
        return self.starts[-1]

    def row_at(self, y: int) -> tuple[int, int]:
        """The row drawn at visual line ``y`` and which of its wrapped lines it is."""
        row = bisect_right(self.starts, y) - 1
        return row, y - self.starts[row]


def build_layout(doc: MergeDoc, width: int) -> Layout:
    """Wrap every row to ``width`` cells; a row is as tall as its tallest side."""
    sides = range(3 if doc.show_base else 2)
    starts = [0]
    wraps: dict[tuple[int, int], list[int]] = {}
    for r, row in enumerate(doc.rows):
        height = 1
        for k in sides:
            line = row.lines[k]
            if line is None:
                continue
            text = doc.texts[SIDES[k]][line]
            if len(text) <= width and text.isascii():
                continue
            points = wrap_points(text, width)
            if len(points) > 1:
                wraps[(r, k)] = points
                height = max(height, len(points))
        starts.append(starts[-1] + height)
    return Layout(width, starts, wraps)
