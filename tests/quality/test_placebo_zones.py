"""Placebo zones: deterministic for a seed, and the real zone's shape at a random moment."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.quality.outcomes import ZoneSpec
from cryptolens.quality.placebo_zones import placebo_zones, timeframe_atr
from tests.builders.candles import HOUR, START, candle_series

BULL, BEAR = Direction.BULLISH, Direction.BEARISH


def walk(n: int = 300, seed: int = 5) -> Candles:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) + rng.random(n)
    low = np.minimum(open_, close) - rng.random(n)
    times = START + np.arange(n, dtype=np.int64) * HOUR
    return Candles.from_arrays(times, open_, high, low, close, np.ones(n))


def real_zones(candles: Candles, atr: np.ndarray) -> list[ZoneSpec]:
    """A bullish zone under the close of candle 50 and a bearish one above candle 120's."""
    c50, a50 = float(candles.close[50]), float(atr[50])
    c120, a120 = float(candles.close[120]), float(atr[120])
    return [
        ZoneSpec("1h", BULL, c50 - 1.5 * a50, c50 - 0.5 * a50, START + 51 * HOUR, a50),
        ZoneSpec("1h", BEAR, c120 + 0.25 * a120, c120 + 2.25 * a120, START + 121 * HOUR, a120),
    ]


def test_placebos_are_the_same_for_a_seed_and_move_with_it() -> None:
    candles = walk()
    atr = timeframe_atr(candles, "1h")
    zones = real_zones(candles, atr)
    first = placebo_zones(zones, {"1h": candles}, {"1h": atr}, seed=7, draws=3)
    assert first == placebo_zones(zones, {"1h": candles}, {"1h": atr}, seed=7, draws=3)
    assert first != placebo_zones(zones, {"1h": candles}, {"1h": atr}, seed=8, draws=3)
    assert len(first) == 6


def test_a_placebo_keeps_direction_height_and_distance_from_price_in_atr() -> None:
    candles = walk()
    atr = timeframe_atr(candles, "1h")
    zones = real_zones(candles, atr)
    placebos = placebo_zones(zones, {"1h": candles}, {"1h": atr}, seed=1, draws=4)
    for i, placebo in enumerate(placebos):
        zone = zones[i // 4]
        j = int(np.searchsorted(candles.open_time, placebo.formed_at - HOUR))
        assert candles.open_time[j] + HOUR == placebo.formed_at
        assert (placebo.timeframe, placebo.direction) == (zone.timeframe, zone.direction)
        assert placebo.atr == atr[j]
        height = (placebo.zone_high - placebo.zone_low) / placebo.atr
        assert height == pytest.approx((zone.zone_high - zone.zone_low) / zone.atr)
        close = candles.close[j]
        if zone.direction is BULL:
            assert (close - placebo.zone_high) / placebo.atr == pytest.approx(0.5)
        else:
            assert (placebo.zone_low - close) / placebo.atr == pytest.approx(0.25)


@settings(max_examples=30, deadline=None)
@given(candle_series(min_size=40, max_size=120), st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_placebos_form_at_candle_closes_of_the_data_whatever_the_seed(
    candles: Candles, seed: int, draws: int
) -> None:
    atr = timeframe_atr(candles, "1h")
    zone = ZoneSpec("1h", BEAR, 100.0, 101.0, int(candles.open_time[10]) + HOUR, 1.0)
    got = placebo_zones([zone], {"1h": candles}, {"1h": atr}, seed=seed, draws=draws)
    again = placebo_zones([zone], {"1h": candles}, {"1h": atr}, seed=seed, draws=draws)
    assert got == again
    closes = set((candles.open_time + HOUR).tolist())
    assert all(p.formed_at in closes and p.zone_low < p.zone_high for p in got)


def test_bad_inputs_are_named() -> None:
    candles = walk(60)
    atr = timeframe_atr(candles, "1h")
    zone = ZoneSpec("1h", BULL, 90.0, 91.0, START + 10 * HOUR, 1.0)
    with pytest.raises(ValidationError, match="draws"):
        placebo_zones([zone], {"1h": candles}, {"1h": atr}, seed=1, draws=0)
    with pytest.raises(ValidationError, match="4h"):
        placebo_zones([ZoneSpec("4h", BULL, 90, 91, START, 1.0)], {"1h": candles}, {}, seed=1)
    off_grid = ZoneSpec("1h", BULL, 90.0, 91.0, START + 10 * HOUR + 5, 1.0)
    with pytest.raises(ValidationError, match="not a 1h candle's close"):
        placebo_zones([off_grid], {"1h": candles}, {"1h": atr}, seed=1)


def test_no_placebo_forms_during_the_atr_warm_up() -> None:
    candles = walk(40)
    atr = timeframe_atr(candles, "1h")
    zone = ZoneSpec("1h", BEAR, 200.0, 201.0, START + 30 * HOUR, 1.0)
    got = placebo_zones([zone], {"1h": candles}, {"1h": atr}, seed=3, draws=200, warmup=14)
    first = min(p.formed_at for p in got)
    assert first >= START + 15 * HOUR  # the close of candle 14, the first after the warm-up
    assert len({p.formed_at for p in got}) > 10
