"""Fair Value Gaps: three candles whose outer wicks do not overlap."""

from __future__ import annotations

import numpy as np

from cryptolens.detect.strength import fvg_strength, per_atr, volume_ratio
from cryptolens.detect.window import Window
from cryptolens.detect.zones import FVG_CODE, Detections


def fvg_in_window(w: Window, min_size_atr: float, volume_lookback: int) -> Detections:
    """Bullish gaps (high[i-2] < low[i]) and bearish ones (low[i-2] > high[i]), decided at i.

    The zone is the untraded space between the first and third candle. It is known when the
    third candle closes; its forming candle is the middle (displacement) one. Gaps smaller
    than ``min_size_atr`` x ATR of the third candle are dropped.
    """
    c = w.candles
    first = max(2, w.start)
    if w.n <= first:
        return Detections.empty()
    i = np.arange(first, w.n, dtype=np.int64)
    atr = w.atr[i]
    up_gap = c.low[i] - c.high[i - 2]
    down_gap = c.low[i - 2] - c.high[i]
    floor = min_size_atr * atr
    bull = (up_gap > 0) & (up_gap >= floor)
    bear = (down_gap > 0) & (down_gap >= floor)
    keep = bull | bear
    i, atr, bull = i[keep], atr[keep], bull[keep]
    low = np.where(bull, c.high[i - 2], c.high[i])
    high = np.where(bull, c.low[i], c.low[i - 2])
    middle = i - 1
    size_atr = per_atr(high - low, atr)
    displacement_atr = per_atr(np.abs(c.close[middle] - c.open[middle]), atr)
    vol = volume_ratio(w, middle, volume_lookback)
    return Detections.build(
        w,
        code=FVG_CODE,
        bullish=bull,
        low=low,
        high=high,
        formed=middle,
        decided=i,
        strength=fvg_strength(size_atr, displacement_atr, vol),
        atr=atr,
        size_atr=size_atr,
        displacement_atr=displacement_atr,
        volume_ratio=vol,
    )
