"""Pairing two edit scripts against a common base into merge regions.

A port of ``xdl_do_merge`` (xdiff/xmerge.c) at the level ``git merge-file
--diff3`` runs at (``XDL_MERGE_EAGER``): a change only one side made is taken,
the very same change made by both sides is taken once, and anything else that
overlaps *or touches* (no unchanged base record between) is a conflict. The
touching rule is git's and deliberate: two edits to neighbouring lines of a
paragraph usually need a human.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

from backend.merge.script import Change

Mode = Literal["conflict", "local", "remote"]


@dataclass(slots=True)
class Region:
    """Base ``[i0, i0+chg0)`` became local ``[i1, ...)`` and remote ``[i2, ...)``.

    ``mode`` says whose version wins; "conflict" means neither can be chosen.
    """

    mode: Mode
    i0: int
    chg0: int
    i1: int
    chg1: int
    i2: int
    chg2: int


def _append(regions: list[Region], new: Region) -> None:
    """Fuse with the previous region when they touch on either side (xdl_append_merge)."""
    if regions:
        last = regions[-1]
        if new.i1 <= last.i1 + last.chg1 or new.i2 <= last.i2 + last.chg2:
            if new.mode != last.mode:
                last.mode = "conflict"
            last.chg0 = new.i0 + new.chg0 - last.i0
            last.chg1 = new.i1 + new.chg1 - last.i1
            last.chg2 = new.i2 + new.chg2 - last.i2
            return
    regions.append(new)


def _local_only(c: Change, remote_shift: int) -> Region:
    return Region(
        "local", c.a_start, c.a_count, c.b_start, c.b_count, c.a_start + remote_shift, c.a_count
    )


def _remote_only(c: Change, local_shift: int) -> Region:
    return Region(
        "remote", c.a_start, c.a_count, c.a_start + local_shift, c.a_count, c.b_start, c.b_count
    )


def _same_change(
    c1: Change, c2: Change, local: Sequence[Hashable], remote: Sequence[Hashable]
) -> bool:
    return (
        c1.a_start == c2.a_start
        and c1.a_count == c2.a_count
        and c1.b_count == c2.b_count
        and local[c1.b_start : c1.b_end] == remote[c2.b_start : c2.b_end]
    )


def _conflict(c1: Change, c2: Change) -> Region:
    """The smallest region covering two overlapping changes, in all three files."""
    off = c1.a_start - c2.a_start
    ffo = off + c1.a_count - c2.a_count
    i0, i1, i2 = c1.a_start, c1.b_start, c2.b_start
    if off > 0:
        i0 -= off
        i1 -= off
    else:
        i2 += off
    chg0 = c1.a_end - i0
    chg1 = c1.b_end - i1
    chg2 = c2.b_end - i2
    if ffo < 0:
        chg0 -= ffo
        chg1 -= ffo
    else:
        chg2 += ffo
    return Region("conflict", i0, chg0, i1, chg1, i2, chg2)


def merge_regions(
    script1: Sequence[Change],
    script2: Sequence[Change],
    local: Sequence[Hashable],
    remote: Sequence[Hashable],
    base_size: int,
) -> list[Region]:
    """Walk both scripts in base order and produce git's merge regions.

    ``script1`` edits base into ``local``, ``script2`` base into ``remote``.
    Regions come in order; stretches between them are equal in all three.
    """
    regions: list[Region] = []
    k1 = k2 = 0
    while k1 < len(script1) and k2 < len(script2):
        c1, c2 = script1[k1], script2[k2]
        if c1.a_end < c2.a_start:
            _append(regions, _local_only(c1, c2.b_start - c2.a_start))
            k1 += 1
            continue
        if c2.a_end < c1.a_start:
            _append(regions, _remote_only(c2, c1.b_start - c1.a_start))
            k2 += 1
            continue
        if not _same_change(c1, c2, local, remote):
            _append(regions, _conflict(c1, c2))
        if c1.a_end >= c2.a_end:
            k2 += 1
        if c2.a_end >= c1.a_end:
            k1 += 1
    for c1 in script1[k1:]:
        _append(regions, _local_only(c1, len(remote) - base_size))
    for c2 in script2[k2:]:
        _append(regions, _remote_only(c2, len(local) - base_size))
    return regions
