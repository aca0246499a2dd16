"""Turning a conflicted merge into text, one decision per conflict region.

The terminal app lets a person pick, region by region, the local side, the
other side ("raven"), both in either order, the base, or a hand-edited text.
:func:`render_partial` shows the file while decisions are still missing, with
git markers around the undecided regions, so the screen and a later
:func:`apply_decisions` agree byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Literal, TypeAlias, cast, get_args

from backend.merge.text import dominant_eol, split_lines
from backend.merge.three_way import Chunk, MergeResult

Choice = Literal["local", "raven", "both_local_first", "both_raven_first", "base"]
_CHOICES: frozenset[str] = frozenset(get_args(Choice))


@dataclass(frozen=True, slots=True)
class Edited:
    """The exact text to put in place of a region, line endings as the user typed them."""

    text: str


Decision: TypeAlias = Choice | Edited


class DecisionError(ValueError):
    """The decisions do not fit the merge: missing, unknown or malformed."""


def _check(index: int, decision: object) -> Decision:
    if isinstance(decision, Edited):
        return decision
    if isinstance(decision, str) and decision in _CHOICES:
        return cast(Choice, decision)
    allowed = ", ".join(sorted(_CHOICES))
    raise DecisionError(
        f"region {index}: {decision!r} is not a decision (use {allowed} or Edited(text))"
    )


def _by_index(
    result: MergeResult, decisions: Mapping[int, Decision] | Sequence[Decision]
) -> dict[int, Decision]:
    """Validate and key the decisions by 1-based region index."""
    count = len(result.regions)
    if isinstance(decisions, Mapping):
        unknown = sorted(k for k in decisions if not isinstance(k, int) or not 1 <= k <= count)
        if unknown:
            raise DecisionError(
                f"unknown region index {unknown}; this merge has {count} region(s) (1..{count})"
            )
        return {k: _check(k, v) for k, v in decisions.items()}
    if isinstance(decisions, str):
        raise DecisionError("decisions must be a mapping or a sequence, not a single string")
    if len(decisions) != count:
        raise DecisionError(f"expected {count} decision(s), one per region, got {len(decisions)}")
    return {i: _check(i, d) for i, d in enumerate(decisions, start=1)}


def _file_eol(result: MergeResult) -> str:
    """The file's usual line ending, for the newline we may have to add."""
    lines = chain.from_iterable(chain(c.lines, c.local, c.remote, c.base) for c in result.chunks)
    return dominant_eol(lines)


def _join(first: Sequence[str], second: Sequence[str], eol: str) -> str:
    """Both sides one after the other, never gluing the second onto an open last line."""
    head = "".join(first)
    if head and second and not head.endswith("\n"):
        head += eol
    return head + "".join(second)


def _resolve(chunk: Chunk, decision: Decision, eol: str) -> str:
    if isinstance(decision, Edited):
        return decision.text
    if decision == "local":
        return "".join(chunk.local)
    if decision == "raven":
        return "".join(chunk.remote)
    if decision == "base":
        return "".join(chunk.base)
    if decision == "both_local_first":
        return _join(chunk.local, chunk.remote, eol)
    return _join(chunk.remote, chunk.local, eol)


def render_partial(result: MergeResult, decisions: Mapping[int, Decision]) -> tuple[str, int]:
    """The file with decided regions resolved and the rest still in markers.

    Returns the text and how many regions are still undecided.
    """
    chosen = _by_index(result, decisions)
    parts = [text for _, text in _parts(result, chosen)]
    return "".join(parts), len(result.regions) - len(chosen)


def _parts(result: MergeResult, chosen: Mapping[int, Decision]) -> list[tuple[Chunk, str]]:
    """Each chunk with the text it becomes: stable, decided, or still in markers."""
    eol = _file_eol(result)
    parts: list[tuple[Chunk, str]] = []
    for chunk in result.chunks:
        if chunk.kind == "stable":
            parts.append((chunk, "".join(chunk.lines)))
        elif chunk.index in chosen:
            parts.append((chunk, _resolve(chunk, chosen[chunk.index], eol)))
        else:
            parts.append((chunk, chunk.with_markers()))
    return parts


def region_lines(
    result: MergeResult, decisions: Mapping[int, Decision]
) -> dict[int, tuple[int, int]]:
    """Where each region sits in :func:`render_partial`'s text: (0-based first line, lines).

    A merge screen scrolls the result to the region a person is deciding; the
    count is the region's lines as decided (markers included while undecided).
    """
    chosen = _by_index(result, decisions)
    out: dict[int, tuple[int, int]] = {}
    line = 0
    for chunk, text in _parts(result, chosen):
        count = len(split_lines(text))
        if chunk.kind == "conflict":
            out[chunk.index] = (line, count)
        line += count
    return out


def apply_decisions(
    result: MergeResult, decisions: Mapping[int, Decision] | Sequence[Decision]
) -> str:
    """The final text; every region needs exactly one decision.

    A sequence gives the decisions in region order; a mapping is keyed by the
    1-based region index.
    """
    chosen = _by_index(result, decisions)
    missing = [c.index for c in result.regions if c.index not in chosen]
    if missing:
        raise DecisionError(f"no decision for region(s) {missing}")
    text, _ = render_partial(result, chosen)
    return text
