"""Myers' O(ND) difference search, divide-and-conquer form, as git runs it.

A port of ``xdl_recs_cmp`` and ``xdl_split`` (xdiff/xdiffi.c), cost-limiting
heuristics included: among the many shortest edit scripts, the exact one git
picks decides whether a merge is clean, so we follow it instead of inventing our
own tie-breaking. Works on the records :mod:`backend.merge.prepare` kept; the
result lands in each side's ``changed`` flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.merge.prepare import Side, bogosqrt
from backend.merge.runs import backward, forward

# Constants from xdiff.
_SNAKE_CNT = 20
_HEUR_MIN_COST = 256
_MAX_COST_MIN = 256
_K_HEUR = 4
_LINE_MAX = (1 << 63) - 1
# Snake length after which galloping with slice compares beats stepping.
_INLINE = 4


@dataclass(slots=True)
class _Split:
    """Where to cut a box, and whether each half still has to be minimal."""

    i1: int
    i2: int
    min_lo: bool
    min_hi: bool


@dataclass(slots=True)
class _Box:
    """One sub-problem ``ha1[off1:lim1]`` against ``ha2[off2:lim2]`` and its search front.

    Diagonals are numbered ``d = i1 - i2``; the forward front spans diagonals
    ``fmin..fmax`` around ``fmid``, the backward one ``bmin..bmax`` around ``bmid``.
    """

    off1: int
    lim1: int
    off2: int
    lim2: int
    fmin: int = 0
    fmax: int = 0
    bmin: int = 0
    bmax: int = 0
    got_snake: bool = False

    def __post_init__(self) -> None:
        self.fmin = self.fmax = self.fmid
        self.bmin = self.bmax = self.bmid

    @property
    def fmid(self) -> int:
        return self.off1 - self.off2

    @property
    def bmid(self) -> int:
        return self.lim1 - self.lim2

    @property
    def odd(self) -> bool:
        return bool((self.fmid - self.bmid) & 1)


class _Search:
    """State shared by all boxes of one diff: the records and the two K vectors.

    The vectors are indexed by diagonal plus ``origin`` and, as in C, are reused
    from box to box; boxes are solved in the same order as git's recursion.
    """

    def __init__(self, ha1: list[int], ha2: list[int]) -> None:
        self.ha1 = ha1
        self.ha2 = ha2
        ndiags = len(ha1) + len(ha2) + 3
        self.origin = len(ha2) + 1
        self.kvdf = [0] * ndiags
        self.kvdb = [0] * ndiags
        self.mxcost = max(bogosqrt(ndiags), _MAX_COST_MIN)

    def split(self, box: _Box, need_min: bool) -> _Split:
        """Find the middle snake of the box (or a good-enough cut when too costly)."""
        self.kvdf[box.fmid + self.origin] = box.off1
        self.kvdb[box.bmid + self.origin] = box.lim1
        ec = 0
        while True:
            ec += 1
            box.got_snake = False
            cut = self._step_forward(box)
            if cut is None:
                cut = self._step_backward(box)
            if cut is None and not need_min:
                cut = self._shortcut(box, ec)
            if cut is not None:
                return cut

    def _step_forward(self, box: _Box) -> _Split | None:
        """Extend every forward path by one edit; a cut when it meets a backward path."""
        ha1, ha2, kvdf, kvdb, o = self.ha1, self.ha2, self.kvdf, self.kvdb, self.origin
        lim1, lim2 = box.lim1, box.lim2
        if box.fmin > box.off1 - lim2:
            box.fmin -= 1
            kvdf[box.fmin - 1 + o] = -1
        else:
            box.fmin += 1
        if box.fmax < lim1 - box.off2:
            box.fmax += 1
            kvdf[box.fmax + 1 + o] = -1
        else:
            box.fmax -= 1
        odd, bmin, bmax = box.odd, box.bmin + o, box.bmax + o
        # ``k`` is the diagonal shifted by the origin, so it indexes the vectors.
        for k in range(box.fmax + o, box.fmin + o - 1, -2):
            lo, hi = kvdf[k - 1], kvdf[k + 1]
            i1 = lo + 1 if lo >= hi else hi
            prev1 = i1
            i2 = i1 - k + o
            while i1 < lim1 and i2 < lim2 and ha1[i1] == ha2[i2]:
                if i1 - prev1 == _INLINE:
                    run = forward(ha1, ha2, i1, i2, lim1, lim2)
                    i1 += run
                    i2 += run
                    break
                i1 += 1
                i2 += 1
            if i1 - prev1 > _SNAKE_CNT:
                box.got_snake = True
            kvdf[k] = i1
            if odd and bmin <= k <= bmax and kvdb[k] <= i1:
                return _Split(i1, i2, True, True)
        return None

    def _step_backward(self, box: _Box) -> _Split | None:
        """Mirror of :meth:`_step_forward`, walking from the end of the box."""
        ha1, ha2, kvdf, kvdb, o = self.ha1, self.ha2, self.kvdf, self.kvdb, self.origin
        off1, off2 = box.off1, box.off2
        if box.bmin > off1 - box.lim2:
            box.bmin -= 1
            kvdb[box.bmin - 1 + o] = _LINE_MAX
        else:
            box.bmin += 1
        if box.bmax < box.lim1 - off2:
            box.bmax += 1
            kvdb[box.bmax + 1 + o] = _LINE_MAX
        else:
            box.bmax -= 1
        even, fmin, fmax = not box.odd, box.fmin + o, box.fmax + o
        for k in range(box.bmax + o, box.bmin + o - 1, -2):
            lo, hi = kvdb[k - 1], kvdb[k + 1]
            i1 = lo if lo < hi else hi - 1
            prev1 = i1
            i2 = i1 - k + o
            while i1 > off1 and i2 > off2 and ha1[i1 - 1] == ha2[i2 - 1]:
                if prev1 - i1 == _INLINE:
                    run = backward(ha1, ha2, i1, i2, off1, off2)
                    i1 -= run
                    i2 -= run
                    break
                i1 -= 1
                i2 -= 1
            if prev1 - i1 > _SNAKE_CNT:
                box.got_snake = True
            kvdb[k] = i1
            if even and fmin <= k <= fmax and i1 <= kvdf[k]:
                return _Split(i1, i2, True, True)
        return None

    def _shortcut(self, box: _Box, ec: int) -> _Split | None:
        """git's escape hatches that trade minimality for time on costly boxes."""
        if box.got_snake and ec > _HEUR_MIN_COST:
            cut = self._good_forward(box, ec)
            if cut is None:
                cut = self._good_backward(box, ec)
            if cut is not None:
                return cut
        if ec >= self.mxcost:
            return self._furthest(box)
        return None

    def _good_forward(self, box: _Box, ec: int) -> _Split | None:
        """A forward path that is far along and ends in a long snake is worth taking."""
        ha1, ha2, kvdf, o = self.ha1, self.ha2, self.kvdf, self.origin
        best = 0
        cut = (0, 0)
        for d in range(box.fmax, box.fmin - 1, -2):
            i1 = kvdf[d + o]
            i2 = i1 - d
            v = (i1 - box.off1) + (i2 - box.off2) - abs(d - box.fmid)
            if (
                v > _K_HEUR * ec
                and v > best
                and box.off1 + _SNAKE_CNT <= i1 < box.lim1
                and box.off2 + _SNAKE_CNT <= i2 < box.lim2
            ):
                k = 1
                while ha1[i1 - k] == ha2[i2 - k]:
                    if k == _SNAKE_CNT:
                        best = v
                        cut = (i1, i2)
                        break
                    k += 1
        return _Split(cut[0], cut[1], True, False) if best > 0 else None

    def _good_backward(self, box: _Box, ec: int) -> _Split | None:
        """Mirror of :meth:`_good_forward` for the backward paths."""
        ha1, ha2, kvdb, o = self.ha1, self.ha2, self.kvdb, self.origin
        best = 0
        cut = (0, 0)
        for d in range(box.bmax, box.bmin - 1, -2):
            i1 = kvdb[d + o]
            i2 = i1 - d
            v = (box.lim1 - i1) + (box.lim2 - i2) - abs(d - box.bmid)
            if (
                v > _K_HEUR * ec
                and v > best
                and box.off1 < i1 <= box.lim1 - _SNAKE_CNT
                and box.off2 < i2 <= box.lim2 - _SNAKE_CNT
            ):
                k = 0
                while ha1[i1 + k] == ha2[i2 + k]:
                    if k == _SNAKE_CNT - 1:
                        best = v
                        cut = (i1, i2)
                        break
                    k += 1
        return _Split(cut[0], cut[1], False, True) if best > 0 else None

    def _furthest(self, box: _Box) -> _Split:
        """Give up on optimality: cut at the furthest-reaching path found so far."""
        kvdf, kvdb, o = self.kvdf, self.kvdb, self.origin
        off1, lim1, off2, lim2 = box.off1, box.lim1, box.off2, box.lim2
        fbest = fbest1 = -1
        for d in range(box.fmax, box.fmin - 1, -2):
            i1 = min(kvdf[d + o], lim1)
            i2 = i1 - d
            if lim2 < i2:
                i1, i2 = lim2 + d, lim2
            if fbest < i1 + i2:
                fbest, fbest1 = i1 + i2, i1
        bbest = bbest1 = _LINE_MAX
        for d in range(box.bmax, box.bmin - 1, -2):
            i1 = max(off1, kvdb[d + o])
            i2 = i1 - d
            if i2 < off2:
                i1, i2 = off2 + d, off2
            if i1 + i2 < bbest:
                bbest, bbest1 = i1 + i2, i1
        if (lim1 + lim2) - bbest < fbest - (off1 + off2):
            return _Split(fbest1, fbest - fbest1, True, False)
        return _Split(bbest1, bbest - bbest1, False, True)


def _mark_all(side: Side, start: int, stop: int) -> None:
    for k in range(start, stop):
        side.changed[side.kept[k]] = 1


def search(a: Side, b: Side) -> None:
    """Mark in ``a.changed``/``b.changed`` every kept record the edit script touches.

    An explicit stack replaces xdiff's recursion so deep splits cannot hit
    Python's recursion limit; the low half is still solved before the high one.
    """
    ha1 = [a.ids[i] for i in a.kept]
    ha2 = [b.ids[i] for i in b.kept]
    finder = _Search(ha1, ha2)
    boxes = [(0, len(ha1), 0, len(ha2), False)]
    while boxes:
        off1, lim1, off2, lim2, need_min = boxes.pop()
        head = forward(ha1, ha2, off1, off2, lim1, lim2)
        off1, off2 = off1 + head, off2 + head
        tail = backward(ha1, ha2, lim1, lim2, off1, off2)
        lim1, lim2 = lim1 - tail, lim2 - tail
        if off1 == lim1:
            _mark_all(b, off2, lim2)
        elif off2 == lim2:
            _mark_all(a, off1, lim1)
        else:
            cut = finder.split(_Box(off1, lim1, off2, lim2), need_min)
            boxes.append((cut.i1, lim1, cut.i2, lim2, cut.min_hi))
            boxes.append((off1, cut.i1, off2, cut.i2, cut.min_lo))
