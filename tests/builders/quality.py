"""Zone-quality data for tests: the real pipeline's data set over candles, and synthetic data
sets whose probability of holding is known."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cryptolens.backtest.replay import prepare
from cryptolens.detect import Candles
from cryptolens.detect.zones import INPUT_NAMES
from cryptolens.quality.dataset import Dataset, ZoneTable
from cryptolens.quality.features import FEATURES, build_dataset
from cryptolens.quality.outcomes import FAILED, HELD, NEVER, UNDECIDED

HOUR = 3_600_000


def dataset_of(candles: Candles, timeframes: Sequence[str] = ("1h", "4h")) -> Dataset:
    """The zones the replay finds in hourly ``candles``, with features and verdicts."""
    prepared = prepare(candles, base_timeframe="1h", timeframes=list(timeframes))
    return build_dataset(prepared.columns.detections(), prepared.candles)


def synthetic_dataset(n: int, seed: int, *, undecided: float = 0.0) -> tuple[Dataset, np.ndarray]:
    """``n`` hourly zones whose chance of holding is 0.15 + 0.7 x size_atr (size_atr uniform
    in [0, 1]; every other feature noise); returns the data set and the true probabilities."""
    rng = np.random.default_rng(seed)
    size = rng.random(n)
    truth = 0.15 + 0.7 * size
    verdict = np.where(rng.random(n) < truth, HELD, FAILED).astype(np.int8)
    verdict[rng.random(n) < undecided] = UNDECIDED
    formed = np.int64(1_500_000_000_000) + np.arange(n, dtype=np.int64) * HOUR
    known = np.where(verdict == UNDECIDED, NEVER, formed + rng.integers(1, 48, n) * HOUR)
    features = rng.normal(size=(n, len(FEATURES)))
    features[:, FEATURES.index("pattern")] = rng.integers(0, 3, n)
    features[:, FEATURES.index("size_atr")] = size
    zones = ZoneTable(
        timeframe=np.full(n, "1h", dtype=object),
        pattern=features[:, FEATURES.index("pattern")].astype(np.int8),
        bullish=rng.random(n) < 0.5,
        zone_low=np.full(n, 99.0),
        zone_high=100.0 + size,
        formed_index=np.arange(n, dtype=np.int64),
        decided_index=np.arange(n, dtype=np.int64),
        formed_at=formed,
        strength=rng.random(n),
        atr=np.ones(n),
        inputs={name: np.full(n, np.nan) for name in INPUT_NAMES},
    )
    return Dataset(zones, features, FEATURES, verdict, known.astype(np.int64)), truth
