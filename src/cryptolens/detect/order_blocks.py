"""Order blocks: the last opposite-coloured candle before a break of structure."""

from __future__ import annotations

import numpy as np

from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.params import ObZone
from cryptolens.detect.strength import ob_strength, per_atr, volume_ratio
from cryptolens.detect.window import Window
from cryptolens.detect.zones import OB_CODE, Detections


def last_opposite(w: Window, breaks: IntArray, bullish: bool, max_leg: int) -> IntArray:
    """For each breaking candle, the last candle of the other colour before it, or -1.

    A bullish break looks for the last bearish candle (close < open) and vice versa; a doji is
    neither colour. It must sit at most ``max_leg`` candles before the breaking candle.
    """
    c = w.candles
    opposite = c.close < c.open if bullish else c.close > c.open
    idx = np.where(opposite, np.arange(w.n, dtype=np.int64), -1)
    latest = np.maximum.accumulate(idx) if w.n else idx
    found = np.where(breaks >= 1, latest[np.maximum(breaks - 1, 0)], -1)
    return np.where((found >= 0) & (breaks - found <= max_leg), found, -1)


def ob_in_window(
    w: Window,
    *,
    breaks: IntArray,
    levels: FloatArray,
    choch: BoolArray,
    bullish: bool,
    previous_ob: int,
    zone: ObZone,
    max_leg: int,
    volume_lookback: int,
) -> tuple[Detections, int]:
    """Order blocks of one direction from that direction's breaks (levels in real prices).

    The zone is the order-block candle's full range or its body; it is known when the breaking
    candle closes. A candle already used by an earlier break (``previous_ob`` is the global
    index of the last one) is not reported twice. Returns the zones and the new last index.
    """
    c = w.candles
    j = last_opposite(w, breaks, bullish, max_leg)
    keep = j >= 0
    b, j, levels, choch = breaks[keep], j[keep], levels[keep], choch[keep]
    # Later breaks of the same direction can only find the same or a later candle, so a
    # repeat is always the previous row (or the last order block of an earlier run).
    fresh = np.ones(j.shape[0], dtype=bool)
    fresh[1:] = j[1:] != j[:-1]
    if j.shape[0]:
        fresh[0] = w.base + j[0] != previous_ob
    b, j, levels, choch = b[fresh], j[fresh], levels[fresh], choch[fresh]
    if zone == "body":
        low = np.minimum(c.open[j], c.close[j])
        high = np.maximum(c.open[j], c.close[j])
    else:
        low, high = c.low[j], c.high[j]
    atr = w.atr[b]
    move = c.close[b] - c.close[j] if bullish else c.close[j] - c.close[b]
    displacement_atr = per_atr(np.maximum(move, 0.0), atr)
    vol = volume_ratio(w, b, volume_lookback)
    last = int(w.base + j[-1]) if j.shape[0] else previous_ob
    det = Detections.build(
        w,
        code=OB_CODE,
        bullish=np.full(j.shape[0], bullish),
        low=low,
        high=high,
        formed=j,
        decided=b,
        strength=ob_strength(displacement_atr, vol, choch),
        atr=atr,
        level=levels,
        displacement_atr=displacement_atr,
        volume_ratio=vol,
        choch=choch.astype(np.float64),
    )
    return det, last
