"""Sparse tables: O(1) range maxima and vectorised 'first candle that reaches a price' searches."""

from __future__ import annotations

import numpy as np

from cryptolens.detect.candles import FloatArray, IntArray


class MaxTable:
    """Range-maximum sparse table over one float array (minima: build it on the negated array).

    ``levels[k][i]`` is ``max(values[i : i + 2**k])``; only as many levels as the longest query
    needs are built, which keeps memory at ``depth`` copies of the array.
    """

    __slots__ = ("levels", "n")

    def __init__(self, values: FloatArray, max_span: int | None = None) -> None:
        self.n = int(values.shape[0])
        span = self.n if max_span is None else min(max_span, self.n)
        depth = max(1, int(span).bit_length())
        self.levels: list[FloatArray] = [values]
        for k in range(1, depth):
            step = 1 << (k - 1)
            prev = self.levels[-1]
            if prev.shape[0] <= step:
                break
            self.levels.append(np.maximum(prev[:-step], prev[step:]))

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
        k = np.minimum(np.floor(np.log2(ln)).astype(np.int64), len(self.levels) - 1)
        result = np.empty(s.shape[0])
        for level in np.unique(k):
            pick = k == level
            table = self.levels[int(level)]
            width = 1 << int(level)
            a = table[s[pick]]
            b = table[e[pick] - width]
            result[pick] = np.maximum(a, b)
        out[ok] = result
        return out

    def first_reaching(
        self, start: IntArray, stop: IntArray, threshold: FloatArray, *, strict: bool
    ) -> IntArray:
        """First index i in [start, stop) with values[i] > threshold (strict) or >= it; else stop.

        Binary descent: from ``start`` jump over every power-of-two block whose maximum stays
        short of the threshold; where no jump is possible the next value reaches it.
        """
        pos = start.astype(np.int64, copy=True)
        stop = stop.astype(np.int64, copy=False)
        if pos.shape[0] == 0 or self.n == 0:
            return np.minimum(pos, stop)
        base = self.levels[0]
        span = int((stop - pos).max(initial=0))
        top = min(len(self.levels), max(1, span.bit_length())) - 1
        active = np.flatnonzero(pos < stop)
        while active.shape[0]:
            for k in range(top, -1, -1):
                width = 1 << k
                table = self.levels[k]
                p = pos[active]
                fits = p + width <= stop[active]
                block = table[np.minimum(p, table.shape[0] - 1)]
                short = block <= threshold[active] if strict else block < threshold[active]
                pos[active] = np.where(fits & short, p + width, p)
            # A sweep moves at most 2**(top+1) - 1 places; keep sweeping the unresolved ones.
            p = pos[active]
            value = base[np.minimum(p, self.n - 1)]
            reached = value > threshold[active] if strict else value >= threshold[active]
            active = active[(p < stop[active]) & ~reached]
        return np.minimum(pos, stop)
