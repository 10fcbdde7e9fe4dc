"""Candles for the detector tests: hand-written rows, a calm history, Hypothesis random walks,
and exact comparison of detections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np
from hypothesis import strategies as st

from cryptolens.detect import Candles, Detections

HOUR = 3_600_000
START = 1_704_067_200_000  # 2024-01-01T00:00Z


def bars(
    rows: Sequence[tuple[float, float, float, float]],
    volume: Sequence[float] | None = None,
    step: int = HOUR,
    start: int = START,
) -> Candles:
    """Candles from (open, high, low, close) rows, one ``step`` apart."""
    data = np.array(rows, dtype=np.float64).reshape(-1, 4)
    n = data.shape[0]
    vol = np.ones(n) if volume is None else np.asarray(volume, dtype=np.float64)
    times = start + np.arange(n, dtype=np.int64) * step
    return Candles.from_arrays(times, data[:, 0], data[:, 1], data[:, 2], data[:, 3], vol)


def ranges(*hl: tuple[float, float], start: int = 0, step: int = HOUR) -> Candles:
    """Candles from (high, low) pairs from ``start`` (default 0); open and close at the
    midpoint (trade-tracking tests, where only the range matters)."""
    n = len(hl)
    high = np.array([h for h, _ in hl], dtype=np.float64)
    low = np.array([lo for _, lo in hl], dtype=np.float64)
    mid = (high + low) / 2
    return Candles(start + step * np.arange(n, dtype=np.int64), mid, high, low, mid, np.ones(n))


def flat(
    n: int, price: float = 100.0, spread: float = 1.0
) -> list[tuple[float, float, float, float]]:
    """``n`` quiet doji candles around ``price`` (range ``spread``): a calm history."""
    return [(price, price + spread / 2, price - spread / 2, price)] * n


def same_rows(a: Detections, b: Detections) -> bool:
    """Column-by-column exact equality (NaN equal to NaN)."""
    if len(a) != len(b):
        return False
    for f in fields(Detections):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            return False
    return True


@st.composite
def candle_series(draw: st.DrawFn, min_size: int = 20, max_size: int = 160) -> Candles:
    """Random walks on a coarse price grid, so ties, equal highs and flat candles occur."""
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    grid = draw(st.sampled_from([0.5, 1.0, 2.0]))
    steps = rng.integers(-3, 4, n) * grid
    close = 100.0 + np.cumsum(steps)
    close = close - min(0.0, close.min() - 10.0)
    open_ = np.concatenate(([close[0]], close[:-1]))
    # Some candles open with a jump, which is what makes gaps.
    jump = rng.random(n) < 0.15
    open_ = np.where(jump, open_ + rng.integers(-4, 5, n) * grid, open_)
    open_ = np.maximum(open_, 5.0)
    up = rng.integers(0, 3, n) * grid
    down = rng.integers(0, 3, n) * grid
    high = np.maximum(open_, close) + up
    low = np.maximum(np.minimum(open_, close) - down, 1.0)
    volume = rng.integers(0, 50, n).astype(np.float64)
    times = START + np.arange(n, dtype=np.int64) * HOUR
    return Candles.from_arrays(times, open_, high, low, close, volume)


#: Swing high 105 (pivot 2, confirmed 4), swing low 95 (pivot 5, confirmed 7); candle 8
#: closes 106 above 105 (bullish BOS); swing high 109 (pivot 10, confirmed 12); candle 12
#: closes 94.5 below 95 (bearish CHoCH). Read with swing_left = swing_right = 2.
BOS_THEN_CHOCH = [
    (100, 101, 98, 100),  # 0
    (100, 102, 97, 101),  # 1
    (101, 105, 100, 104),  # 2  swing high 105
    (104, 104, 99, 100),  # 3
    (100, 103, 96, 97),  # 4  last bearish candle before the up break
    (97, 100, 95, 99),  # 5  swing low 95
    (99, 101, 97, 100),  # 6
    (100, 102, 98, 101),  # 7
    (101, 107, 100, 106),  # 8  close 106 > 105: bullish break of structure
    (106, 108, 104, 107),  # 9
    (107, 109, 105, 108),  # 10 swing high 109, last bullish candle before the down break
    (108, 108, 103, 104),  # 11
    (104, 105, 94, 94.5),  # 12 close 94.5 < 95: bearish change of character
]
