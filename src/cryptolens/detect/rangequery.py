"""Sparse tables: O(1) range maxima and vectorised 'first candle that reaches a price' searches."""

from __future__ import annotations

import numpy as np

from cryptolens.detect.candles import BoolArray, FloatArray, IntArray

#: Fine levels kept over the full array (blocks of up to 2**FINE candles); longer searches
#: hop over block maxima held in a smaller table of the same kind.
FINE = 6
BLOCK = 1 << FINE


class MaxTable:
    """Range-maximum sparse table over one float array (minima: build it on the negated array).

    ``levels[k][i]`` is ``max(values[i : i + 2**k])``. With ``max_span`` only the levels that
    span needs are built; without it, FINE levels plus a coarse table over block maxima, so
    memory stays a few copies of the array however long the searches are.
    """

    __slots__ = ("coarse", "levels", "n")

    def __init__(self, values: FloatArray, max_span: int | None = None) -> None:
        self.n = int(values.shape[0])
        span = self.n if max_span is None else min(max_span, self.n)
        depth = max(1, int(span).bit_length())
        if max_span is None:
            depth = min(depth, FINE + 1)
        self.levels: list[FloatArray] = [values]
        for k in range(1, depth):
            step = 1 << (k - 1)
            prev = self.levels[-1]
            if prev.shape[0] <= step:
                break
            self.levels.append(np.maximum(prev[:-step], prev[step:]))
        self.coarse: MaxTable | None = None
        if max_span is None and self.n > 2 * BLOCK:
            block_max = np.maximum.reduceat(values, np.arange(0, self.n, BLOCK))
            self.coarse = MaxTable(block_max)

    def range_max(self, start: IntArray, stop: IntArray) -> FloatArray:
        """max(values[start:stop]) per query; -inf where the range is empty."""
        length = stop - start
        out = np.full(start.shape[0], -np.inf)
        ok = length > 0
        if not ok.any():
            return out
        s, e, ln = start[ok], stop[ok], length[ok]
        if int(ln.max()) >= 1 << len(self.levels):
            raise ValueError("range longer than this table was built for")
        k = np.floor(np.log2(ln)).astype(np.int64)
        result = np.empty(s.shape[0])
        for level in np.unique(k):
            pick = k == level
            table = self.levels[int(level)]
            width = 1 << int(level)
            result[pick] = np.maximum(table[s[pick]], table[e[pick] - width])
        out[ok] = result
        return out

    def _sweep(
        self, pos: IntArray, stop: IntArray, threshold: FloatArray, strict: bool
    ) -> IntArray:
        # Greedy descent: jump each power-of-two block whose maximum stays short of the
        # threshold. One pass finds the first reaching index within 2**len(levels) - 1.
        pos = pos.copy()
        for k in range(len(self.levels) - 1, -1, -1):
            width = 1 << k
            table = self.levels[k]
            block = table[np.minimum(pos, table.shape[0] - 1)]
            short = block <= threshold if strict else block < threshold
            pos = np.where((pos + width <= stop) & short, pos + width, pos)
        return pos

    def _reached(
        self, pos: IntArray, stop: IntArray, threshold: FloatArray, strict: bool
    ) -> BoolArray:
        value = self.levels[0][np.minimum(pos, self.n - 1)]
        hit = value > threshold if strict else value >= threshold
        return (pos < stop) & hit

    def first_reaching(
        self, start: IntArray, stop: IntArray, threshold: FloatArray, *, strict: bool
    ) -> IntArray:
        """First i in [start, stop) with values[i] > threshold (strict) or >= it; else stop."""
        stop = np.minimum(stop.astype(np.int64), self.n)
        pos = np.minimum(start.astype(np.int64), stop)
        if pos.shape[0] == 0 or self.n == 0:
            return pos
        pos = self._sweep(pos, stop, threshold, strict)
        hit = self._reached(pos, stop, threshold, strict)
        todo = np.flatnonzero(~hit & (pos < stop))
        if todo.shape[0] == 0:
            return pos
        if self.coarse is None:
            # Bounded table asked for a longer search: keep sweeping (rare, still exact).
            while todo.shape[0]:
                p = self._sweep(pos[todo] + 1, stop[todo], threshold[todo], strict)
                pos[todo] = p
                done = self._reached(p, stop[todo], threshold[todo], strict) | (p >= stop[todo])
                todo = todo[~done]
            return pos
        # Everything up to pos is short. Finish the current block, hop whole blocks through
        # the coarse table, then search inside the block (or the partial tail) that remains.
        e, thr = stop[todo], threshold[todo]
        q = pos[todo] + 1
        block_end = np.minimum(-(-q // BLOCK) * BLOCK, e)
        p = self._sweep(np.minimum(q, block_end), block_end, thr, strict)
        found = self._reached(p, block_end, thr, strict)
        first_block = -(-q // BLOCK)
        last_block = e // BLOCK
        j = self.coarse.first_reaching(
            first_block, np.maximum(last_block, first_block), thr, strict=strict
        )
        in_block = j < last_block
        lo = np.where(in_block, j * BLOCK, np.maximum(last_block * BLOCK, q))
        hi = np.where(in_block, np.minimum(j * BLOCK + BLOCK, e), e)
        p2 = self._sweep(np.minimum(lo, hi), hi, thr, strict)
        p2 = np.where(self._reached(p2, hi, thr, strict), p2, e)
        pos[todo] = np.where(found, p, p2)
        return pos
