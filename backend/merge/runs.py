"""Measuring runs of equal records between two lists at C speed.

Following a "snake" (a diagonal of equal records) one element at a time is
the hot loop of the Myers search and dominates diffs of large, mostly equal
files. Comparing list slices lets CPython do the element loop in C: the run is
galloped in doubling steps, then its exact end is found by bisection.
"""

from __future__ import annotations

_FIRST_STEP = 8


def forward(a: list[int], b: list[int], i: int, j: int, lim_a: int, lim_b: int) -> int:
    """Length of the longest run with ``a[i + k] == b[j + k]`` inside the limits."""
    room = min(lim_a - i, lim_b - j)
    done = 0
    step = _FIRST_STEP
    while step < room - done and a[i + done : i + done + step] == b[j + done : j + done + step]:
        done += step
        step *= 2
    lo, hi = done, min(done + step, room)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[i + lo : i + mid] == b[j + lo : j + mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def backward(a: list[int], b: list[int], i: int, j: int, off_a: int, off_b: int) -> int:
    """Length of the longest run with ``a[i - 1 - k] == b[j - 1 - k]`` above the offsets."""
    room = min(i - off_a, j - off_b)
    done = 0
    step = _FIRST_STEP
    while step < room - done and a[i - done - step : i - done] == b[j - done - step : j - done]:
        done += step
        step *= 2
    lo, hi = done, min(done + step, room)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[i - mid : i - lo] == b[j - mid : j - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo
