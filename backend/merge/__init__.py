"""The merge engine: line and word diffs, three-way merges, conflict decisions.

Pure functions over strings, no I/O, no framework: the server, the connector and
the terminal app all rely on the same results, and they match git's.
"""

from backend.merge.decisions import (
    Decision,
    DecisionError,
    Edited,
    apply_decisions,
    region_lines,
    render_partial,
)
from backend.merge.diff import (
    DiffLine,
    Hunk,
    HunkError,
    apply_hunks,
    diff_lines,
    hunks,
    pair_lines,
    unified_diff,
    word_diff,
)
from backend.merge.spans import Span, merge_spans, spans_of_chunks
from backend.merge.three_way import Chunk, MergeResult, merge3way
from backend.merge.two_way import merge_without_base

__all__ = [
    "Chunk",
    "Decision",
    "DecisionError",
    "DiffLine",
    "Edited",
    "Hunk",
    "HunkError",
    "MergeResult",
    "Span",
    "apply_decisions",
    "apply_hunks",
    "diff_lines",
    "hunks",
    "merge3way",
    "merge_spans",
    "merge_without_base",
    "pair_lines",
    "region_lines",
    "render_partial",
    "spans_of_chunks",
    "unified_diff",
    "word_diff",
]
