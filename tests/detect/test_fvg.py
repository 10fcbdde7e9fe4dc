"""Fair Value Gaps: rules, edge cases, strength and causality."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles, DetectionParams, detect_fvg
from cryptolens.domain.enums import Direction
from tests.builders.candles import HOUR, START, bars, candle_series, flat, same_rows

UP = [(100, 101, 99, 100.5), (100.5, 106, 100, 105.5), (105.5, 108, 103, 107)]
DOWN = [(100, 101, 99, 99.5), (99.5, 100, 94, 94.5), (94.5, 97, 92, 93)]


def test_a_third_low_above_the_first_high_is_a_bullish_gap() -> None:
    (zone,) = detect_fvg(bars(UP), "1h").to_zones()
    assert zone.direction is Direction.BULLISH
    assert (zone.zone_low, zone.zone_high) == (101.0, 103.0)  # high[0], low[2]
    assert zone.formed_index == 1  # the middle, displacement candle
    assert zone.decided_index == 2
    assert zone.formed_at == START + 3 * HOUR  # close of the third candle


def test_a_third_high_below_the_first_low_is_a_bearish_gap() -> None:
    (zone,) = detect_fvg(bars(DOWN), "1h").to_zones()
    assert zone.direction is Direction.BEARISH
    assert (zone.zone_low, zone.zone_high) == (97.0, 99.0)  # high[2], low[0]


def test_touching_wicks_leave_no_gap() -> None:
    rows = [(100, 101, 99, 100.5), (100.5, 106, 100, 105.5), (105.5, 108, 101, 107)]
    assert len(detect_fvg(bars(rows), "1h")) == 0


def test_zero_range_candles_can_frame_a_gap() -> None:
    rows = [(100, 100, 100, 100), (100, 104, 100, 104), (104, 104, 104, 104)]
    (zone,) = detect_fvg(bars(rows), "1h").to_zones()
    assert (zone.zone_low, zone.zone_high) == (100.0, 104.0)


def test_a_gap_in_the_first_three_candles_is_found_because_atr_starts_at_once() -> None:
    zones = detect_fvg(bars(UP + flat(3, 107)), "1h")
    assert zones.decided_index.tolist()[:1] == [2]


def test_gaps_smaller_than_the_atr_threshold_are_dropped() -> None:
    rows = [
        *flat(30, 100, 4.0),
        (100, 102, 98, 101),
        (101, 103, 100, 102),
        (102.5, 104, 102.2, 103),
    ]
    candles = bars(rows)
    # Gap 0.2 against an ATR of about 4: kept at 0.01 x ATR, dropped at the 0.1 default.
    assert len(detect_fvg(candles, "1h", DetectionParams(fvg_min_size_atr=0.01))) == 1
    assert len(detect_fvg(candles, "1h")) == 0


def test_a_bigger_gap_with_everything_else_alike_is_not_weaker() -> None:
    history = flat(40, 100, 2.0)
    small = bars(
        [*history, (100, 101, 99, 100.5), (100.5, 106, 100, 105.5), (105.5, 108, 102, 107)]
    )
    big = bars([*history, (100, 101, 99, 100.5), (100.5, 106, 100, 105.5), (105.5, 108, 104, 107)])
    (a,) = detect_fvg(small, "1h").to_zones()
    (b,) = detect_fvg(big, "1h").to_zones()
    assert b.inputs["size_atr"] > a.inputs["size_atr"]
    assert b.strength >= a.strength


def test_strength_lies_in_the_unit_interval_and_its_inputs_are_reported() -> None:
    (zone,) = detect_fvg(bars(UP, volume=[1, 5, 1]), "1h").to_zones()
    assert 0 <= zone.strength <= 1
    assert set(zone.inputs) == {"size_atr", "displacement_atr", "volume_ratio"}
    assert zone.inputs["volume_ratio"] == 5.0  # middle volume 5 against the one before it
    assert zone.inputs["size_atr"] == 2.0 / zone.atr


@settings(max_examples=60, deadline=None)
@given(candle_series(), st.data())
def test_gaps_from_a_prefix_are_exactly_the_gaps_known_by_its_last_close(
    c: Candles, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(c)))
    full = detect_fvg(c, "1h")
    part = detect_fvg(c[:k], "1h")
    known = full.formed_at <= c.open_time[k - 1] + HOUR
    assert same_rows(part, full.take(known))
    assert np.all(full.zone_low < full.zone_high)


def test_the_volume_ratio_is_one_when_the_candles_before_have_no_volume() -> None:
    (zone,) = detect_fvg(bars(UP, volume=[0, 5, 1]), "1h").to_zones()
    assert zone.inputs["volume_ratio"] == 1.0  # mean volume 0: nothing to compare with
