"""Liquidity sweeps: a wick through intact liquidity that closes back inside."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles, DetectionParams, detect_liquidity_sweeps
from cryptolens.domain.enums import Direction
from tests.builders.candles import HOUR, START, bars, candle_series, same_rows

SMALL = DetectionParams(swing_left=2, swing_right=2)

HIGH_105 = [
    (100, 101, 98, 100),
    (100, 102, 97, 101),
    (101, 105, 100, 104),  # 2: swing high 105, confirmed by candle 4
    (104, 104, 99, 100),
    (100, 103, 99, 101),
    (101, 104, 100, 103),
]


def test_a_wick_above_a_swing_high_closing_back_below_is_a_bearish_sweep() -> None:
    c = bars([*HIGH_105, (103, 106.5, 102, 104)])
    (zone,) = detect_liquidity_sweeps(c, "1h", SMALL).to_zones()
    assert (c.high[6], c.close[6]) == (106.5, 104.0)  # wick above 105, close back below
    assert zone.direction is Direction.BEARISH
    assert (zone.zone_low, zone.zone_high) == (105.0, 106.5)
    assert zone.level == 105.0
    assert zone.formed_index == 6
    assert zone.formed_at == START + 7 * HOUR
    assert zone.inputs["levels_swept"] == 1.0
    assert zone.inputs["rejection_atr"] == 2.5 / zone.atr


def test_a_close_beyond_the_level_is_a_break_not_a_sweep() -> None:
    c = bars([*HIGH_105, (103, 106.5, 102, 106)])
    assert len(detect_liquidity_sweeps(c, "1h", SMALL)) == 0


def test_a_close_exactly_at_the_level_counts_as_back_inside() -> None:
    c = bars([*HIGH_105, (103, 106.5, 102, 105)])
    assert len(detect_liquidity_sweeps(c, "1h", SMALL)) == 1


def test_liquidity_already_taken_is_not_swept_again() -> None:
    c = bars([*HIGH_105, (103, 106.5, 102, 104), (104, 106, 103, 104)])
    zones = detect_liquidity_sweeps(c, "1h", SMALL)
    assert zones.formed_index.tolist() == [6]


def test_a_wick_below_a_swing_low_closing_back_above_is_a_bullish_sweep() -> None:
    mirrored = [(200 - o, 200 - lo, 200 - h, 200 - cl) for o, h, lo, cl in HIGH_105]
    c = bars([*mirrored, (97, 98, 93.5, 96)])
    (zone,) = detect_liquidity_sweeps(c, "1h", SMALL).to_zones()
    assert zone.direction is Direction.BULLISH
    assert (zone.zone_low, zone.zone_high) == (93.5, 95.0)


def test_a_sweep_of_equal_highs_counts_both_levels_and_the_pool() -> None:
    rows = [
        (100, 101, 99, 100),
        (100, 102, 99, 101),
        (101, 110, 100, 104),  # 2: swing high 110
        (104, 105, 101, 102),
        (102, 103, 100, 101),
        (101, 104, 100, 103),
        (103, 109.9, 102, 104),  # 6: swing high 109.9, equal within 0.1 x ATR of 110
        (104, 105, 101, 102),
        (102, 103, 100, 101),  # 8: confirms it, forming the pool
        (101, 111, 100, 108),  # 9: wick through both, close back below both
    ]
    c = bars(rows)
    (zone,) = detect_liquidity_sweeps(
        c, "1h", DetectionParams(swing_left=2, swing_right=2, equal_tolerance_atr=0.5)
    ).to_zones()
    assert (zone.zone_low, zone.zone_high) == (110.0, 111.0)  # the outermost level swept
    assert zone.inputs["levels_swept"] == 2.0
    assert zone.inputs["pooled"] == 1.0
    single = detect_liquidity_sweeps(
        c, "1h", DetectionParams(swing_left=2, swing_right=2, equal_tolerance_atr=0.0)
    ).to_zones()
    assert single[0].inputs["pooled"] == 0.0
    assert zone.strength > single[0].strength


@settings(max_examples=60, deadline=None)
@given(candle_series(), st.data())
def test_sweeps_from_a_prefix_are_exactly_the_sweeps_known_by_its_last_close(
    c: Candles, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(c)))
    full = detect_liquidity_sweeps(c, "1h", SMALL)
    part = detect_liquidity_sweeps(c[:k], "1h", SMALL)
    assert same_rows(part, full.take(full.formed_at <= c.open_time[k - 1] + HOUR))


#: Swing highs 107 (pivot 2) and, later and lower, 105 (pivot 6); candle 9 wicks to 108
#: through both and closes at 106, between them.
TWO_LEVELS = [
    (100, 101, 99, 100),
    (100, 102, 99, 101),
    (101, 107, 100, 102),  # 2: swing high 107
    (102, 103, 100, 101),
    (101, 102, 99, 100),
    (100, 102, 99, 101),
    (101, 105, 100, 102),  # 6: swing high 105
    (102, 103, 100, 101),
    (101, 102, 99, 100),
    (100, 108, 99, 106),  # 9: takes both, closes between them
]


def test_a_candle_closing_between_levels_it_takes_sweeps_only_those_above_its_close() -> None:
    params = DetectionParams(swing_left=2, swing_right=2, equal_tolerance_atr=0.0)
    (zone,) = detect_liquidity_sweeps(bars(TWO_LEVELS), "1h", params).to_zones()
    assert zone.direction is Direction.BEARISH
    assert zone.level == 107.0
    assert (zone.zone_low, zone.zone_high) == (107.0, 108.0)
    assert zone.inputs["levels_swept"] == 1.0  # 105 was broken (closed above), not swept
    # Broken liquidity is taken: a later wick above 105 closing below it sweeps nothing.
    later = bars([*TWO_LEVELS, (106, 106.5, 103, 104)])
    assert len(detect_liquidity_sweeps(later, "1h", params)) == 1
