"""Regression on real data: 20,111 hourly Coinbase BTC/USD candles, 2017-07-01 .. 2019-10-17.

Counts are pinned to catch any change of behaviour; each pinned zone also asserts the raw
candles that justify it, so a reader can check the rule by eye.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pandas as pd

import cryptolens
from cryptolens.detect import (
    Candles,
    Detections,
    as_candles,
    detect,
    market_structure,
    run_lifecycle,
)
from cryptolens.detect.engine import initial_state, run
from cryptolens.domain.enums import Direction, PatternStatus, PatternType
from tests.builders.candles import same_rows

DATA = Path(cryptolens.__file__).parent / "data" / "coinbase_btcusd_1h.csv.gz"
HOUR = 3_600_000


@cache
def btc() -> Candles:
    return as_candles(pd.read_csv(DATA))


@cache
def zones() -> Detections:
    return detect(btc(), "1h")


def _ohlc(i: int) -> tuple[float, float, float, float]:
    c = btc()
    return (float(c.open[i]), float(c.high[i]), float(c.low[i]), float(c.close[i]))


def test_the_data_is_what_the_fixture_claims() -> None:
    c = btc()
    assert len(c) == 20_111
    assert c.open_time[0] == 1_498_906_800_000  # 2017-07-01T11:00Z
    assert set((c.open_time[1:] - c.open_time[:-1]).tolist()) == {HOUR}


def test_zone_counts_per_pattern_and_direction_are_pinned() -> None:
    z = zones()
    counts = Counter(zip(z.pattern.tolist(), z.bullish.tolist(), strict=True))
    assert counts == {
        (0, True): 1851,
        (0, False): 1623,
        (1, True): 512,
        (1, False): 444,
        (2, True): 469,
        (2, False): 424,
    }


def test_structure_counts_are_pinned() -> None:
    s = market_structure(btc(), "1h")
    assert (len(s.swing_highs), len(s.swing_lows)) == (1308, 1324)
    assert (len(s.breaks), int(s.breaks.choch.sum())) == (958, 446)
    assert (len(s.equal_highs), len(s.equal_lows)) == (51, 49)


def test_lifecycle_outcomes_are_pinned() -> None:
    states = run_lifecycle(zones(), btc(), "1h").status
    assert Counter(states) == {
        PatternStatus.INVALIDATED: 2175,
        PatternStatus.FILLED: 2009,
        PatternStatus.EXPIRED: 1134,
        PatternStatus.ACTIVE: 4,
        PatternStatus.TOUCHED: 1,
    }


def test_the_first_zone_is_a_bearish_gap_in_the_first_three_candles() -> None:
    assert _ohlc(0) == (2505.56, 2513.38, 2495.12, 2509.17)
    assert _ohlc(2) == (2488.43, 2488.43, 2454.40, 2454.43)
    first = zones().to_zones()[0]
    assert first.pattern_type is PatternType.FVG
    assert first.direction is Direction.BEARISH
    # low of candle 0 (2495.12) lies above the high of candle 2 (2488.43).
    assert (first.zone_low, first.zone_high) == (2488.43, 2495.12)
    assert first.formed_index == 1
    assert first.formed_at == 1_498_906_800_000 + 3 * HOUR
    # ATR of candle 2 is still the mean of three true ranges: 18.26, 27.88 and 34.03.
    assert abs(first.atr - (18.26 + 27.88 + 34.03) / 3) < 1e-9


def test_the_first_order_block_is_checked_candle_by_candle() -> None:
    # Swing high at candle 21: 2461.99 above the five highs before, not exceeded by the five
    # after (candle 22 ties it), so it is confirmed when candle 26 closes.
    assert _ohlc(21)[1] == 2461.99
    assert [_ohlc(i)[1] for i in range(16, 21)] == [2410.0, 2412.0, 2439.99, 2439.99, 2439.97]
    assert [_ohlc(i)[1] for i in range(22, 27)] == [2461.99, 2457.54, 2450.0, 2450.03, 2450.35]
    # Candle 27 closes 2442.99, candle 28 closes 2463.86 > 2461.99: the break.
    assert _ohlc(27)[3] == 2442.99
    assert _ohlc(28)[3] == 2463.86
    # Candle 27 is bullish (2435.62 -> 2442.99); candle 26 is the last bearish one.
    assert _ohlc(26) == (2440.87, 2450.35, 2429.90, 2435.62)
    ob = next(z for z in zones().to_zones() if z.pattern_type is PatternType.ORDER_BLOCK)
    assert ob.direction is Direction.BULLISH
    assert (ob.formed_index, ob.decided_index) == (26, 28)
    assert (ob.zone_low, ob.zone_high) == (2429.90, 2450.35)
    assert ob.level == 2461.99
    assert ob.formed_at == int(btc().open_time[28]) + HOUR


def test_the_first_sweep_is_checked_candle_by_candle() -> None:
    # Swing low at candle 77 (2560.00): the five lows on either side are higher.
    assert _ohlc(77)[2] == 2560.0
    assert min(_ohlc(i)[2] for i in range(72, 77)) == 2577.88
    assert min(_ohlc(i)[2] for i in range(78, 83)) == 2563.02
    # Nothing trades below it until candle 89 wicks to 2559.01 and closes at 2572.85.
    assert min(_ohlc(i)[2] for i in range(78, 89)) > 2560.0
    assert _ohlc(89) == (2576.12, 2579.00, 2559.01, 2572.85)
    sweep = next(z for z in zones().to_zones() if z.pattern_type is PatternType.LIQUIDITY_SWEEP)
    assert sweep.direction is Direction.BULLISH
    assert sweep.formed_index == 89
    assert (sweep.zone_low, sweep.zone_high) == (2559.01, 2560.0)
    assert sweep.inputs["levels_swept"] == 1.0


def test_feeding_the_real_series_a_day_at_a_time_reproduces_the_full_run() -> None:
    c = btc()
    state = initial_state("1h")
    parts = []
    for a in range(0, len(c), 24):
        state, found = run(state, c[a : a + 24])
        parts.append(found)
    assert same_rows(Detections.concat(parts), zones())
