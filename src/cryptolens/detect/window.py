"""The slice of candles one engine run works on: lookback tail plus newly closed candles."""

from __future__ import annotations

import numpy as np

from cryptolens.detect.candles import Candles, FloatArray, IntArray
from cryptolens.detect.rangequery import MaxTable


class Window:
    """Candles ``[0, n)`` of which only ``[start, n)`` are decided here; ``base`` is the global
    index of candle 0, so window index i is candle ``base + i`` of the whole stream."""

    __slots__ = (
        "_negated",
        "_tables",
        "atr",
        "base",
        "candles",
        "n",
        "run_start",
        "start",
        "tf_ms",
    )

    def __init__(
        self,
        candles: Candles,
        start: int,
        base: int,
        tf_ms: int,
        atr: FloatArray,
        run_start: int = 0,
    ):
        self.candles = candles
        self.n = len(candles)
        self.start = start
        self.base = base
        #: Stream index of the first candle after the last hole: nothing before it is read.
        self.run_start = run_start
        self.tf_ms = tf_ms
        self.atr = atr
        self._tables: dict[int, MaxTable] = {}
        self._negated: dict[int, tuple[FloatArray, FloatArray, FloatArray, FloatArray]] = {}

    def close_time(self, index: IntArray) -> IntArray:
        """Close time (epoch ms) of the candles at ``index``: when their decisions are known."""
        return self.candles.open_time[index] + np.int64(self.tf_ms)

    def signed(self, sign: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(extreme, opposite extreme, close, open) seen from one side: +1 highs, -1 lows.

        Negating prices turns every 'below' rule for lows into the 'above' rule for highs,
        exactly (negation is lossless), so each rule is written once.
        """
        c = self.candles
        if sign > 0:
            return c.high, c.low, c.close, c.open
        if -1 not in self._negated:
            self._negated[-1] = (-c.low, -c.high, -c.close, -c.open)
        return self._negated[-1]

    def table(self, sign: int) -> MaxTable:
        """Range-max table over the signed extremes (built once per side, on first use)."""
        if sign not in self._tables:
            self._tables[sign] = MaxTable(np.ascontiguousarray(self.signed(sign)[0]))
        return self._tables[sign]
