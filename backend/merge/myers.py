"""Myers' O(ND) difference search, divide-and-conquer form, as git runs it.

A line-for-line port of ``xdl_recs_cmp`` and ``xdl_split`` (xdiff/xdiffi.c),
cost-limiting heuristics included: among the many shortest edit scripts the
exact choice git makes is what decides whether a merge is clean, so we follow
it instead of inventing our own tie-breaking. Works on the reduced records that
:mod:`backend.merge.prepare` kept; results land in each side's ``changed``.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.merge.prepare import Side, bogosqrt
from backend.merge.runs import backward, forward

_SNAKE_CNT = 20
_HEUR_MIN_COST = 256
_MAX_COST_MIN = 256
_K_HEUR = 4
_LINE_MAX = (1 << 63) - 1
_INLINE = 4  # snake length after which slice galloping pays off


@dataclass
class _Split:
    """Where to cut a box, and whether each half still has to be minimal."""

    i1: int
    i2: int
    min_lo: bool
    min_hi: bool


class _Search:
    """The state one diff shares across all boxes: records and the K vectors."""

    def __init__(self, ha1: list[int], ha2: list[int]) -> None:
        self.ha1 = ha1
        self.ha2 = ha2
        ndiags = len(ha1) + len(ha2) + 3
        self.origin = len(ha2) + 1
        self.kvdf = [0] * ndiags
        self.kvdb = [0] * ndiags
        self.mxcost = max(bogosqrt(ndiags), _MAX_COST_MIN)

    def split(self, off1: int, lim1: int, off2: int, lim2: int, need_min: bool) -> _Split:
        """Find the middle snake of the box (or a good-enough cut when too costly)."""
        ha1, ha2, kvdf, kvdb, o = self.ha1, self.ha2, self.kvdf, self.kvdb, self.origin
        dmin, dmax = off1 - lim2, lim1 - off2
        fmid, bmid = off1 - off2, lim1 - lim2
        odd = (fmid - bmid) & 1
        fmin = fmax = fmid
        bmin = bmax = bmid
        kvdf[fmid + o] = off1
        kvdb[bmid + o] = lim1
        ec = 0
        while True:
            ec += 1
            got_snake = False
            if fmin > dmin:
                fmin -= 1
                kvdf[fmin - 1 + o] = -1
            else:
                fmin += 1
            if fmax < dmax:
                fmax += 1
                kvdf[fmax + 1 + o] = -1
            else:
                fmax -= 1
            # ``k`` is the diagonal ``d`` shifted by the origin, to index the vectors.
            for k in range(fmax + o, fmin + o - 1, -2):
                lo, hi = kvdf[k - 1], kvdf[k + 1]
                i1 = lo + 1 if lo >= hi else hi
                prev1 = i1
                i2 = i1 - k + o
                # Short snakes are common and cheaper to walk inline; long ones gallop.
                while i1 < lim1 and i2 < lim2 and ha1[i1] == ha2[i2]:
                    if i1 - prev1 == _INLINE:
                        run = forward(ha1, ha2, i1, i2, lim1, lim2)
                        i1 += run
                        i2 += run
                        break
                    i1 += 1
                    i2 += 1
                if i1 - prev1 > _SNAKE_CNT:
                    got_snake = True
                kvdf[k] = i1
                if odd and bmin + o <= k <= bmax + o and kvdb[k] <= i1:
                    return _Split(i1, i2, True, True)

            if bmin > dmin:
                bmin -= 1
                kvdb[bmin - 1 + o] = _LINE_MAX
            else:
                bmin += 1
            if bmax < dmax:
                bmax += 1
                kvdb[bmax + 1 + o] = _LINE_MAX
            else:
                bmax -= 1
            for k in range(bmax + o, bmin + o - 1, -2):
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
                    got_snake = True
                kvdb[k] = i1
                if not odd and fmin + o <= k <= fmax + o and i1 <= kvdf[k]:
                    return _Split(i1, i2, True, True)

            if need_min:
                continue
            if got_snake and ec > _HEUR_MIN_COST:
                found = self._good_forward(off1, lim1, off2, lim2, fmin, fmax, fmid, ec)
                if found is None:
                    found = self._good_backward(off1, lim1, off2, lim2, bmin, bmax, bmid, ec)
                if found is not None:
                    return found
            if ec >= self.mxcost:
                return self._furthest(off1, lim1, off2, lim2, (fmin, fmax, bmin, bmax))

    def _good_forward(
        self, off1: int, lim1: int, off2: int, lim2: int, fmin: int, fmax: int, fmid: int, ec: int
    ) -> _Split | None:
        """A forward path that is far along and ends in a long snake is worth taking."""
        ha1, ha2, kvdf, o = self.ha1, self.ha2, self.kvdf, self.origin
        best = 0
        cut = (0, 0)
        for d in range(fmax, fmin - 1, -2):
            dd = d - fmid if d > fmid else fmid - d
            i1 = kvdf[d + o]
            i2 = i1 - d
            v = (i1 - off1) + (i2 - off2) - dd
            if (
                v > _K_HEUR * ec
                and v > best
                and off1 + _SNAKE_CNT <= i1 < lim1
                and off2 + _SNAKE_CNT <= i2 < lim2
            ):
                k = 1
                while ha1[i1 - k] == ha2[i2 - k]:
                    if k == _SNAKE_CNT:
                        best = v
                        cut = (i1, i2)
                        break
                    k += 1
        return _Split(cut[0], cut[1], True, False) if best > 0 else None

    def _good_backward(
        self, off1: int, lim1: int, off2: int, lim2: int, bmin: int, bmax: int, bmid: int, ec: int
    ) -> _Split | None:
        """Mirror of :meth:`_good_forward` for the backward paths."""
        ha1, ha2, kvdb, o = self.ha1, self.ha2, self.kvdb, self.origin
        best = 0
        cut = (0, 0)
        for d in range(bmax, bmin - 1, -2):
            dd = d - bmid if d > bmid else bmid - d
            i1 = kvdb[d + o]
            i2 = i1 - d
            v = (lim1 - i1) + (lim2 - i2) - dd
            if (
                v > _K_HEUR * ec
                and v > best
                and off1 < i1 <= lim1 - _SNAKE_CNT
                and off2 < i2 <= lim2 - _SNAKE_CNT
            ):
                k = 0
                while ha1[i1 + k] == ha2[i2 + k]:
                    if k == _SNAKE_CNT - 1:
                        best = v
                        cut = (i1, i2)
                        break
                    k += 1
        return _Split(cut[0], cut[1], False, True) if best > 0 else None

    def _furthest(
        self, off1: int, lim1: int, off2: int, lim2: int, bounds: tuple[int, int, int, int]
    ) -> _Split:
        """Give up on optimality: cut at the furthest-reaching path found so far."""
        fmin, fmax, bmin, bmax = bounds
        kvdf, kvdb, o = self.kvdf, self.kvdb, self.origin
        fbest = fbest1 = -1
        for d in range(fmax, fmin - 1, -2):
            i1 = min(kvdf[d + o], lim1)
            i2 = i1 - d
            if lim2 < i2:
                i1, i2 = lim2 + d, lim2
            if fbest < i1 + i2:
                fbest, fbest1 = i1 + i2, i1
        bbest = bbest1 = _LINE_MAX
        for d in range(bmax, bmin - 1, -2):
            i1 = max(off1, kvdb[d + o])
            i2 = i1 - d
            if i2 < off2:
                i1, i2 = off2 + d, off2
            if i1 + i2 < bbest:
                bbest, bbest1 = i1 + i2, i1
        if (lim1 + lim2) - bbest < fbest - (off1 + off2):
            return _Split(fbest1, fbest - fbest1, True, False)
        return _Split(bbest1, bbest - bbest1, False, True)


def search(a: Side, b: Side) -> None:
    """Mark in ``a.changed``/``b.changed`` every kept record the edit script touches.

    An explicit stack replaces xdiff's recursion so deep splits cannot hit
    Python's recursion limit; the order boxes are solved in does not matter.
    """
    ha1 = [a.ids[i] for i in a.kept]
    ha2 = [b.ids[i] for i in b.kept]
    finder = _Search(ha1, ha2)
    boxes = [(0, len(ha1), 0, len(ha2), False)]
    while boxes:
        off1, lim1, off2, lim2, need_min = boxes.pop()
        head = forward(ha1, ha2, off1, off2, lim1, lim2)
        off1 += head
        off2 += head
        tail = backward(ha1, ha2, lim1, lim2, off1, off2)
        lim1 -= tail
        lim2 -= tail
        if off1 == lim1:
            for k in range(off2, lim2):
                b.changed[b.kept[k]] = 1
        elif off2 == lim2:
            for k in range(off1, lim1):
                a.changed[a.kept[k]] = 1
        else:
            cut = finder.split(off1, lim1, off2, lim2, need_min)
            boxes.append((cut.i1, lim1, cut.i2, lim2, cut.min_hi))
            boxes.append((off1, cut.i1, off2, cut.i2, cut.min_lo))
