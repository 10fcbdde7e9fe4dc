"""Seeded synthetic OHLCV candles for benchmarks and large-volume tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cryptolens.detect.candles import Candles

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: 2024-01-01T00:00:00Z, a UTC day boundary, so every timeframe bucket starts aligned.
DEFAULT_START_MS = 1_704_067_200_000


def synthetic_candles(
    n: int,
    *,
    seed: int = 42,
    start_ms: int = DEFAULT_START_MS,
    step_ms: int = 60_000,
    start_price: float = 30_000.0,
    volatility: float = 0.0015,
) -> Candles:
    """A geometric random walk with wicks and volume bursts, reproducible from ``seed``."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    # Volatility clustering makes displacements and gaps appear as they do in real markets.
    window = max(1, min(50, n))
    noise = rng.normal(0.0, 0.35, n)
    smoothed = np.convolve(noise, np.ones(window) / window, mode="same") if n else noise
    regime = np.exp(smoothed * 3)
    returns = rng.normal(0.0, volatility, n) * regime
    close = start_price * np.exp(np.cumsum(returns))
    open_ = np.concatenate(([start_price], close[:-1]))[:n]
    # Occasional opening jumps create genuine gaps between candles.
    jumps = rng.random(n) < 0.02
    open_[jumps] *= np.exp(rng.normal(0.0, volatility * 2, int(jumps.sum())))
    body_high = np.maximum(open_, close)
    body_low = np.minimum(open_, close)
    wick = np.abs(rng.normal(0.0, volatility * 0.6, (2, n))) * regime * close
    high = body_high + wick[0]
    low = np.maximum(body_low - wick[1], body_low * 0.5)
    volume = rng.gamma(2.0, 50.0, n) * regime
    open_time = start_ms + np.arange(n, dtype=np.int64) * step_ms
    return Candles(
        open_time=open_time.astype(np.int64),
        open=open_.astype(np.float64),
        high=high.astype(np.float64),
        low=low.astype(np.float64),
        close=close.astype(np.float64),
        volume=volume.astype(np.float64),
    )
