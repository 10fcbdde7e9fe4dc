"""Strength scores in [0, 1]: documented weighted sums of saturating ratios.

sat(x, ref) = x / (x + ref) is 0 at x = 0, 0.5 at x = ref and tends to 1, so every input
helps with diminishing returns and no single input can push a score past its weight.

    FVG   = 0.50 sat(size_atr, 0.5) + 0.30 sat(displacement_atr, 1) + 0.20 sat(volume_ratio, 1)
    OB    = 0.50 sat(displacement_atr, 2) + 0.25 sat(volume_ratio, 1) + 0.25 (CHoCH ? 1 : 0.5)
    Sweep = 0.40 sat(rejection_atr, 1) + 0.35 sat(levels_swept + pooled, 1)
          + 0.25 sat(volume_ratio, 1)

Every score is non-decreasing in each of its inputs (tests hold it to that).
"""

from __future__ import annotations

import numpy as np

from cryptolens.detect.candles import BoolArray, FloatArray, IntArray
from cryptolens.detect.window import Window


def sat(x: FloatArray, ref: float) -> FloatArray:
    """x / (x + ref) for x >= 0, with +inf mapping to 1."""
    x = np.maximum(x, 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(x), 1.0, x / (x + ref))


def per_atr(value: FloatArray, atr: FloatArray) -> FloatArray:
    """value / ATR; a flat market (ATR 0) makes any positive value infinitely large."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = value / atr
    return np.where(atr > 0, out, np.where(value > 0, np.inf, 0.0))


def fvg_strength(
    size_atr: FloatArray, displacement_atr: FloatArray, volume_ratio: FloatArray
) -> FloatArray:
    """Fair Value Gap strength from its size, the middle candle's body and its volume."""
    return (
        0.5 * sat(size_atr, 0.5) + 0.3 * sat(displacement_atr, 1.0) + 0.2 * sat(volume_ratio, 1.0)
    )


def ob_strength(
    displacement_atr: FloatArray, volume_ratio: FloatArray, choch: BoolArray
) -> FloatArray:
    """Order-block strength from displacement, breaking-candle volume and the break kind."""
    structure = np.where(choch, 1.0, 0.5)
    return 0.5 * sat(displacement_atr, 2.0) + 0.25 * sat(volume_ratio, 1.0) + 0.25 * structure


def sweep_strength(
    rejection_atr: FloatArray, levels_swept: IntArray, pooled: BoolArray, volume_ratio: FloatArray
) -> FloatArray:
    """Sweep strength from the rejection wick, the liquidity taken and the volume."""
    liquidity = levels_swept.astype(np.float64) + pooled.astype(np.float64)
    return (
        0.4 * sat(rejection_atr, 1.0) + 0.35 * sat(liquidity, 1.0) + 0.25 * sat(volume_ratio, 1.0)
    )


def volume_ratio(w: Window, index: IntArray, lookback: int) -> FloatArray:
    """Volume of each candle over the mean volume of the up to ``lookback`` candles before it.

    The sum runs in a fixed order over a fixed set of candles, so the ratio is the same float
    whichever window the candle is decided in. Only candles since the last hole count. With no
    earlier candle (or all of them at zero
    volume) the ratio is 1: nothing to compare with counts as average.
    """
    volume = w.candles.volume
    count = np.minimum(lookback, w.base - w.run_start + index)
    total = np.zeros(index.shape[0])
    for k in range(1, lookback + 1):
        use = count >= k
        total = total + np.where(use, volume[np.maximum(index - k, 0)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / count
        ratio = volume[index] / mean
    return np.where((count > 0) & (mean > 0), ratio, 1.0)
