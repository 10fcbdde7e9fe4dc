"""Features are known when the zone forms: later candles never change them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles
from cryptolens.quality.dataset import Dataset
from cryptolens.quality.features import FEATURES
from tests.builders.candles import candle_series
from tests.builders.quality import HOUR, dataset_of


def rows_by_key(data: Dataset, until: int) -> dict[tuple[object, ...], np.ndarray]:
    z = data.zones
    return {
        (
            z.timeframe[i],
            int(z.pattern[i]),
            bool(z.bullish[i]),
            int(z.formed_index[i]),
        ): data.features[i]
        for i in range(len(data))
        if z.formed_at[i] <= until
    }


def rewrite_after(candles: Candles, cut: int, seed: int) -> Candles:
    """The same candles up to ``cut``, a different random market after it."""
    rng = np.random.default_rng(seed)
    n = len(candles)
    later = n - cut - 1
    close = candles.close.copy()
    close[cut + 1 :] = close[cut] + np.cumsum(rng.normal(0, 3, later))
    close = np.maximum(close, 5.0)
    open_ = candles.open.copy()
    open_[cut + 1 :] = np.concatenate(([close[cut]], close[cut + 1 : -1]))
    high = np.maximum(open_, close) + np.where(np.arange(n) > cut, rng.random(n) * 3, 0)
    high = np.where(np.arange(n) > cut, high, candles.high)
    low = np.minimum(open_, close) - np.where(np.arange(n) > cut, rng.random(n) * 3, 0)
    low = np.where(np.arange(n) > cut, np.maximum(low, 1.0), candles.low)
    volume = np.where(np.arange(n) > cut, rng.random(n) * 90, candles.volume)
    return Candles.from_arrays(candles.open_time, open_, high, low, close, volume)


@settings(max_examples=40, deadline=None)
@given(candle_series(min_size=120, max_size=260), st.floats(0.3, 0.9), st.integers(0, 99))
def test_features_do_not_change_when_candles_after_formation_change(
    candles: Candles, where: float, seed: int
) -> None:
    cut = int(len(candles) * where)
    known_by = int(candles.open_time[cut]) + HOUR
    before = rows_by_key(dataset_of(candles), known_by)
    after = rows_by_key(dataset_of(rewrite_after(candles, cut, seed)), known_by)
    assert before.keys() == after.keys()
    for key, row in before.items():
        np.testing.assert_array_equal(row, after[key], err_msg=str(key))


def test_every_zone_gets_every_feature_column_and_trend_is_signed_by_direction() -> None:
    rng = np.random.default_rng(7)
    n = 600
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) + rng.random(n)
    low = np.minimum(open_, close) - rng.random(n)
    times = 1_704_067_200_000 + HOUR * np.arange(n, dtype=np.int64)
    data = dataset_of(Candles.from_arrays(times, open_, high, low, close, rng.random(n) * 10))
    assert data.features.shape == (len(data), len(FEATURES))
    assert len(data) > 20
    col = FEATURES.index("trend_short")
    z = data.zones
    c = close[z.decided_index]
    past = np.where(z.decided_index >= 20, close[np.maximum(z.decided_index - 20, 0)], np.nan)
    hourly = z.timeframe == "1h"
    expected = np.where(z.bullish, 1, -1) * (c - past) / z.atr
    np.testing.assert_allclose(data.features[hourly, col], expected[hourly])
