"""Sliding groups of changed lines to where a reader (and git) expects them.

An inserted paragraph next to blank lines can be reported in several places
with the same cost. git (``xdl_change_compact`` in xdiff/xdiffi.c, without the
optional indent heuristic, which ``git merge-file`` does not use) slides every
group as far down as it goes, merging groups that touch, then back up to line
up with a change in the other file if it can. The position changes which base
lines two merge sides appear to touch, so we reproduce it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.merge.prepare import Side


@dataclass
class _Group:
    """A run of changed records ``[start, end)``; empty when start == end."""

    start: int
    end: int


def _first_group(changed: bytearray) -> _Group:
    return _Group(0, changed.find(0))


def _next(changed: bytearray, size: int, g: _Group, steps: int = 1) -> bool:
    """Move ``g`` forward ``steps`` groups (each step crosses one unchanged record)."""
    while steps > 0:
        if g.end == size:
            return False
        nxt = changed.find(1, g.end + 1, size)
        if nxt == -1:
            nxt = size
        gap = nxt - g.end
        if steps < gap:
            g.start = g.end = g.end + steps
            return True
        g.start = nxt
        g.end = changed.find(0, nxt)
        steps -= gap
    return True


def _previous(changed: bytearray, g: _Group) -> bool:
    if g.start == 0:
        return False
    g.end = g.start - 1
    g.start = g.end
    while g.start > 0 and changed[g.start - 1]:
        g.start -= 1
    return True


def _slide_down(side: Side, g: _Group) -> bool:
    ids, changed = side.ids, side.changed
    if g.end < side.size and ids[g.start] == ids[g.end]:
        changed[g.start] = 0
        changed[g.end] = 1
        g.start += 1
        g.end = changed.find(0, g.end)
        return True
    return False


def _slide_up(side: Side, g: _Group) -> bool:
    ids, changed = side.ids, side.changed
    if g.start > 0 and ids[g.start - 1] == ids[g.end - 1]:
        g.start -= 1
        g.end -= 1
        changed[g.start] = 1
        changed[g.end] = 0
        while g.start > 0 and changed[g.start - 1]:
            g.start -= 1
        return True
    return False


def _shift_group(side: Side, other: Side, g: _Group, go: _Group) -> None:
    """Slide one non-empty group to git's preferred place, keeping ``go`` in step."""
    while True:
        size = g.end - g.start
        end_matching_other = -1
        while _slide_up(side, g):
            _previous(other.changed, go)
        earliest_end = g.end
        if go.end > go.start:
            end_matching_other = g.end
        while _slide_down(side, g):
            _next(other.changed, other.size, go)
            if go.end > go.start:
                end_matching_other = g.end
        if size == g.end - g.start:
            break
    if g.end != earliest_end and end_matching_other != -1:
        while go.end == go.start:
            _slide_up(side, g)
            _previous(other.changed, go)


def compact(side: Side, other: Side) -> None:
    """Run the slider over every change group of ``side``.

    Empty groups are skipped in bulk with ``bytearray.find`` rather than one by
    one as in C: both files always sit on the same group number, so jumping by
    the same count in each keeps them in step and turns a per-line loop into a
    per-change one.
    """
    g = _first_group(side.changed)
    go = _first_group(other.changed)
    while True:
        if g.end > g.start:
            _shift_group(side, other, g, go)
            if not _next(side.changed, side.size, g):
                return
            _next(other.changed, other.size, go)
            continue
        nxt = side.changed.find(1, g.end + 1, side.size)
        steps = (side.size if nxt == -1 else nxt) - g.end
        if not _next(side.changed, side.size, g, max(steps, 1)):
            return
        _next(other.changed, other.size, go, max(steps, 1))
