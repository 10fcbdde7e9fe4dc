"""Confirmed swing highs and lows (fractal pivots), each with the candle that confirms it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptolens.detect.candles import FloatArray, IntArray


@dataclass(frozen=True, slots=True, eq=False)
class Swings:
    """Pivots of one side, oldest first; indices are positions in the array searched."""

    pivot: IntArray
    confirm: IntArray
    level: FloatArray

    def __len__(self) -> int:
        return int(self.pivot.shape[0])


def _pivot_mask(values: FloatArray, left: int, right: int) -> np.ndarray:
    """True where values[i] beats all ``left`` values before and ties-or-beats ``right`` after."""
    n = values.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n < left + right + 1:
        return mask
    core = values[left : n - right]
    ok = np.ones(core.shape[0], dtype=bool)
    # Strict on the left, non-strict on the right: a flat top of equal highs yields exactly
    # one pivot, its first candle, which is the moment the level was first printed.
    for j in range(1, left + 1):
        ok &= core > values[left - j : n - right - j]
    for j in range(1, right + 1):
        ok &= core >= values[left + j : n - right + j]
    mask[left : n - right] = ok
    return mask


def find_swings(
    high: FloatArray,
    low: FloatArray,
    left: int,
    right: int,
    first_confirm: int = 0,
) -> tuple[Swings, Swings]:
    """Swing highs and swing lows whose confirming candle index is >= ``first_confirm``.

    A swing high at i is known only once candle i + right has closed, so ``confirm`` is
    i + right; nothing before that candle's close may act on it.
    """
    out: list[Swings] = []
    for values, sign in ((high, 1.0), (low, -1.0)):
        pivots = np.flatnonzero(_pivot_mask(sign * values, left, right)).astype(np.int64)
        pivots = pivots[pivots + right >= first_confirm]
        out.append(Swings(pivot=pivots, confirm=pivots + right, level=values[pivots]))
    return out[0], out[1]
