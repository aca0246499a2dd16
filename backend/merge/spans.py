"""Where every stretch of a three-way merge came from, aligned across the three versions.

The merged file's chunks say what a person must decide, but a stable chunk mixes
text nobody changed with changes taken from one side automatically. A merge
screen has to tell those apart (an auto-merged change is not something every
side had), so this walks the same merge regions as :func:`merge3way` and keeps,
for every span, its line ranges in the base, local and remote versions and who
changed it. Conflict spans are numbered exactly as the merge's regions are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from backend.merge.regions import merge_regions
from backend.merge.script import edit_script
from backend.merge.text import split_lines
from backend.merge.three_way import Chunk, Granularity, MergeResult, word_pass

SpanKind = Literal["same", "local", "remote", "both", "words", "conflict"]
"""same: no side changed it; local/remote: that side's change, taken; both: the same
change on both sides, taken once; words: both changed it and their word edits merged;
conflict: a region to decide."""


@dataclass(frozen=True, slots=True)
class Span:
    """Lines ``[*_start, *_start + *_count)`` of each version (0-based) and their origin.

    ``index`` is the region number of a conflict span (0 otherwise);
    ``merged_count`` is how many lines the span has in the merged file (for a
    conflict: how many its local side has, before any decision).
    """

    kind: SpanKind
    base_start: int
    base_count: int
    local_start: int
    local_count: int
    remote_start: int
    remote_count: int
    merged_count: int
    index: int = 0


def _stretch(
    out: list[Span], base: Sequence[str], local: Sequence[str], at: tuple[int, int, int]
) -> None:
    """Text between merge regions: equal on both sides, perhaps changed alike from the base."""
    b0, l0, r0 = at
    shift = r0 - l0
    pos_b, pos_l = 0, 0

    def same(count: int) -> None:
        if count:
            out.append(
                Span("same", b0 + pos_b, count, l0 + pos_l, count, l0 + pos_l + shift, count, count)
            )

    for change in edit_script(base, local):
        same(change.a_start - pos_b)
        pos_l += change.a_start - pos_b
        pos_b = change.a_start
        out.append(
            Span(
                "both",
                b0 + pos_b,
                change.a_count,
                l0 + pos_l,
                change.b_count,
                l0 + pos_l + shift,
                change.b_count,
                change.b_count,
            )
        )
        pos_b += change.a_count
        pos_l += change.b_count
    same(len(base) - pos_b)


def _region_span(
    kind: SpanKind,
    base: list[str],
    local: list[str],
    remote: list[str],
    ranges: tuple[int, ...],
    granularity: Granularity,
) -> Span:
    i0, chg0, i1, chg1, i2, chg2 = ranges
    merged = chg1 if kind in ("local", "conflict") else chg2
    span = Span(kind, i0, chg0, i1, chg1, i2, chg2, merged)
    if kind == "conflict" and granularity == "word":
        chunk = Chunk(
            "conflict",
            base=tuple(base[i0 : i0 + chg0]),
            local=tuple(local[i1 : i1 + chg1]),
            remote=tuple(remote[i2 : i2 + chg2]),
        )
        worded = word_pass(chunk)
        if worded.kind == "stable":
            span = replace(span, kind="words", merged_count=len(worded.lines))
    return span


def merge_spans(
    base: str, local: str, remote: str, *, granularity: Granularity = "line"
) -> list[Span]:
    """The spans of ``merge3way(base, local, remote, granularity=...)``, in file order."""
    b, loc, rem = split_lines(base), split_lines(local), split_lines(remote)
    regions = merge_regions(edit_script(b, loc), edit_script(b, rem), loc, rem, len(b))
    out: list[Span] = []
    p0 = p1 = p2 = 0
    for r in regions:
        _stretch(out, b[p0 : r.i0], loc[p1 : r.i1], (p0, p1, p2))
        out.append(
            _region_span(
                r.mode, b, loc, rem, (r.i0, r.chg0, r.i1, r.chg1, r.i2, r.chg2), granularity
            )
        )
        p0, p1, p2 = r.i0 + r.chg0, r.i1 + r.chg1, r.i2 + r.chg2
    _stretch(out, b[p0:], loc[p1:], (p0, p1, p2))
    return _numbered(out)


def _numbered(spans: list[Span]) -> list[Span]:
    index = 0
    out: list[Span] = []
    for span in spans:
        if span.kind == "conflict":
            index += 1
            span = replace(span, index=index)
        out.append(span)
    return out


def spans_of_chunks(merge: MergeResult) -> list[Span]:
    """Spans of a merge without a base: shared lines, and the regions where the sides differ."""
    out: list[Span] = []
    at_l = at_r = 0
    for chunk in merge.chunks:
        if chunk.kind == "stable":
            n = len(chunk.lines)
            out.append(Span("same", 0, 0, at_l, n, at_r, n, n))
            at_l, at_r = at_l + n, at_r + n
        else:
            nl, nr = len(chunk.local), len(chunk.remote)
            out.append(Span("conflict", 0, len(chunk.base), at_l, nl, at_r, nr, nl, chunk.index))
            at_l, at_r = at_l + nl, at_r + nr
    return out
