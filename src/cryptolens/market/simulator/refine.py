"""Finer candles synthesised inside coarse ones, so hourly history can serve a 1m feed.

The demo history is hourly and daily while CryptoLens ingests 1m candles by default. Each
coarse candle is split into ``k`` sub-candles along a random bridge from its open to its close
that stays inside its low-high range; one sub-candle reaches the high and one the low, and the
volume is shared out. Re-aggregating the sub-candles therefore gives back the coarse candle's
open, high, low and close exactly (volume up to float rounding). The randomness is seeded by
the coarse candle's open time, so every request sees the same sub-candles.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cryptolens.market.simulator.datasets import Dataset

FloatArray = npt.NDArray[np.float64]


def can_refine(data: Dataset, step_ms: int) -> bool:
    return 0 < step_ms < data.step_ms and data.step_ms % step_ms == 0


def _split(
    o: float, h: float, low: float, c: float, v: float, k: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    j = np.arange(k + 1, dtype=np.float64)
    line = o + (c - o) * j / k
    walk = np.concatenate([[0.0], np.cumsum(rng.normal(size=k))])
    bridge = walk - walk[-1] * j / k  # zero at both ends
    room: list[float] = []
    up, down = bridge > 0, bridge < 0
    if up.any():
        room.append(float(np.min((h - line[up]) / bridge[up])))
    if down.any():
        room.append(float(np.min((low - line[down]) / bridge[down])))
    # As wide as the range allows (with a margin), so the path really wanders in it.
    scale = 0.8 * max(0.0, min(room)) if room and h > low else 0.0
    points = np.clip(line + bridge * scale, low, h)
    points[0], points[-1] = o, c
    opens, closes = points[:-1].copy(), points[1:].copy()
    highs, lows = np.maximum(opens, closes), np.minimum(opens, closes)
    highs += (h - highs) * rng.uniform(0.0, 0.3, k)  # a little wick, never past the range
    lows -= (lows - low) * rng.uniform(0.0, 0.3, k)
    highs[rng.integers(k)] = h
    lows[rng.integers(k)] = low
    weights = rng.gamma(2.0, 1.0, k)
    volumes = v * weights / weights.sum()
    return opens, highs, lows, closes, volumes


def refine(data: Dataset, step_ms: int, first_ms: int, last_ms: int, *, seed: int = 0) -> Dataset:
    """``step_ms`` candles inside the coarse candles covering ``[first_ms, last_ms]``."""
    if not can_refine(data, step_ms):
        raise ValueError(f"cannot split {data.step_ms} ms candles into {step_ms} ms ones")
    k = data.step_ms // step_ms
    i0 = int(np.searchsorted(data.open_time, first_ms - data.step_ms, side="right"))
    i1 = int(np.searchsorted(data.open_time, last_ms, side="right"))
    if i1 <= i0:
        return Dataset.from_arrays([], [], [], [], [], [], step_ms=step_ms)
    offsets = np.arange(k, dtype=np.int64) * step_ms
    parts: list[tuple[npt.NDArray[np.generic], ...]] = []
    for i in range(i0, i1):
        t, o, h, low, c, v = data.row(i)
        rng = np.random.default_rng([seed, t // 1000])
        parts.append((t + offsets, *_split(o, h, low, c, v, k, rng)))
    columns = [np.concatenate([part[n] for part in parts]) for n in range(6)]
    return Dataset.from_arrays(*columns, step_ms=step_ms)
