"""Edit scripts: the changes that turn one sequence into another.

:func:`edit_script` is the single entry point the rest of the package uses for
lines and for words alike; it runs git's pipeline (prepare, Myers search, slide
compaction on both sides) and reads the result out as a list of changes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from backend.merge.compact import compact
from backend.merge.myers import search
from backend.merge.prepare import Side, prepare


@dataclass(frozen=True, slots=True)
class Change:
    """Replace ``a[a_start:a_start + a_count]`` by ``b[b_start:b_start + b_count]``.

    Offsets are 0-based; a zero count is a pure insertion or deletion. Changes
    come in order and never touch: at least one equal record separates two.
    """

    a_start: int
    a_count: int
    b_start: int
    b_count: int

    @property
    def a_end(self) -> int:
        return self.a_start + self.a_count

    @property
    def b_end(self) -> int:
        return self.b_start + self.b_count


def _build(a: Side, b: Side) -> list[Change]:
    """Pair unchanged records in order; everything between pairs is one change."""
    ca, cb = a.changed, b.changed
    na, nb = a.size, b.size
    changes: list[Change] = []
    i = j = 0
    while i < na or j < nb:
        next_a = ca.find(1, i, na)
        next_b = cb.find(1, j, nb)
        step = min(
            (na if next_a == -1 else next_a) - i,
            (nb if next_b == -1 else next_b) - j,
        )
        i += step
        j += step
        if i >= na and j >= nb:
            break
        start_a, start_b = i, j
        i = ca.find(0, i)
        j = cb.find(0, j)
        changes.append(Change(start_a, i - start_a, start_b, j - start_b))
    return changes


def edit_script(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Change]:
    """Shortest-ish edit script from ``a`` to ``b``, identical to git's choice."""
    if list(a) == list(b):
        return []
    side_a, side_b = prepare(a, b)
    search(side_a, side_b)
    compact(side_a, side_b)
    compact(side_b, side_a)
    return _build(side_a, side_b)
