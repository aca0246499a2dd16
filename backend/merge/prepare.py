"""Turning two sequences into the reduced problem the Myers search runs on.

This mirrors git's ``xdiff/xprepare.c`` (trim common ends, then discard records
that cannot be matched) because the merge engine promises git's results: the
discards decide which of several equally short edit scripts is found, so a
"cleverer" preparation would make us disagree with ``git merge-file``.
Records are compared whole, line ending included, exactly like xdiff without
whitespace flags.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from itertools import compress, count

from backend.merge.runs import backward, forward

# Constants from xdiff/xprepare.c.
_KPDIS_RUN = 4
_MAX_EQLIMIT = 1024
_SIMSCAN_WINDOW = 100

# Discard flags per record: 0 no match in the other file, 1 some, 2 many.
_KEEP = bytes.maketrans(b"\x00\x01\x02", b"\x00\x01\x01")
_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")
_UNMATCHED_RUN = re.compile(b"[\x00\x02]{3,}")


@dataclass
class Side:
    """One file of a two-way diff, as xdiff's ``xdfile_t`` sees it.

    ``ids`` holds equivalence-class numbers so comparisons are integer compares;
    ``changed`` has one extra zero byte at the end, the sentinel xdiff relies on.
    ``kept`` lists the indexes (``rindex``) that survive the discard pass.
    """

    ids: list[int]
    changed: bytearray
    kept: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.ids)


def bogosqrt(n: int) -> int:
    """git's cheap square-root estimate; thresholds must match it exactly."""
    root = 1
    while n > 0:
        root <<= 1
        n >>= 2
    return root


def classify(a: Sequence[Hashable], b: Sequence[Hashable]) -> tuple[Side, Side]:
    """Number equal records alike so later passes compare small integers."""
    # A record's class is the position of its first occurrence: unique, and
    # ``map`` keeps the whole loop in C.
    table: dict[Hashable, int] = {}
    ids_a = list(map(table.setdefault, a, count()))
    ids_b = list(map(table.setdefault, b, count(len(ids_a))))
    return Side(ids_a, bytearray(len(ids_a) + 1)), Side(ids_b, bytearray(len(ids_b) + 1))


def trim_ends(a: Side, b: Side) -> tuple[int, int, int]:
    """Return (start, end_a, end_b): the inclusive middle left after common ends.

    Like ``xdl_trim_ends``, the tail scan may not eat into the common head.
    """
    head = forward(a.ids, b.ids, 0, 0, a.size, b.size)
    tail = backward(a.ids, b.ids, a.size, b.size, head, head)
    return head, a.size - tail - 1, b.size - tail - 1


def _clean_mmatch(dis: bytearray, i: int, start: int, end: int) -> bool:
    """Whether a many-times-matched record sits inside a run of unmatched ones.

    Such records (blank lines, list markers) are discarded so they cannot anchor
    a bogus alignment between two rewritten blocks; port of ``xdl_clean_mmatch``.
    """
    start = max(start, i - _SIMSCAN_WINDOW)
    end = min(end, i + _SIMSCAN_WINDOW)
    r = 1
    before_none = 0
    before_multi = 1
    while i - r >= start:
        flag = dis[i - r]
        if flag == 0:
            before_none += 1
        elif flag == 2:
            before_multi += 1
        else:
            break
        r += 1
    if before_none == 0:
        return False
    r = 1
    after_none = 0
    after_multi = 1
    while i + r <= end:
        flag = dis[i + r]
        if flag == 0:
            after_none += 1
        elif flag == 2:
            after_multi += 1
        else:
            break
        r += 1
    if after_none == 0:
        return False
    none = before_none + after_none
    multi = before_multi + after_multi
    return multi * _KPDIS_RUN < multi + none


def _discard(side: Side, start: int, end: int, other_counts: Counter[int]) -> None:
    """Mark unmatchable records changed and keep the rest; ``xdl_cleanup_records``."""
    limit = min(bogosqrt(side.size), _MAX_EQLIMIT)
    middle = side.ids[start : end + 1]
    flag_of = {
        c: 0 if n == 0 else 2 if n >= limit else 1 for c in set(middle) for n in [other_counts[c]]
    }
    dis = bytearray(start) + bytearray(map(flag_of.__getitem__, middle)) + bytearray(1)
    keep = dis[start : end + 1].translate(_KEEP)
    # Only a many-times-matched record with unmatched ones on both sides, all in
    # one run without a singly matched record, can be discarded; test just those.
    for run in _UNMATCHED_RUN.finditer(dis, start, end + 1):
        for i in range(run.start(), run.end()):
            if dis[i] == 2 and _clean_mmatch(dis, i, start, end):
                keep[i - start] = 0
    side.kept = list(compress(range(start, end + 1), keep))
    side.changed[start : end + 1] = keep.translate(_FLIP)


def prepare(a: Sequence[Hashable], b: Sequence[Hashable]) -> tuple[Side, Side]:
    """Classify, trim and discard, leaving ``kept`` records for the search."""
    side_a, side_b = classify(a, b)
    start, end_a, end_b = trim_ends(side_a, side_b)
    counts_a = Counter(side_a.ids)
    counts_b = Counter(side_b.ids)
    _discard(side_a, start, end_a, counts_b)
    _discard(side_b, start, end_b, counts_a)
    return side_a, side_b
