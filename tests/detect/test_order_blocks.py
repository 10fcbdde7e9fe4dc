"""Order blocks: the last opposite-coloured candle before a break of structure."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles, DetectionParams, detect_order_blocks
from cryptolens.domain.enums import Direction
from tests.builders.candles import BOS_THEN_CHOCH, HOUR, START, bars, candle_series, same_rows

SMALL = DetectionParams(swing_left=2, swing_right=2)


def test_the_last_bearish_candle_before_a_bullish_break_is_a_bullish_order_block() -> None:
    c = bars(BOS_THEN_CHOCH)
    bull = [
        z
        for z in detect_order_blocks(c, "1h", SMALL).to_zones()
        if z.direction is Direction.BULLISH
    ]
    (zone,) = bull
    # Candle 4 (open 100 > close 97) is the last bearish one before candle 8 closes above 105.
    assert (c.open[4], c.close[4]) == (100.0, 97.0)
    assert zone.formed_index == 4
    assert (zone.zone_low, zone.zone_high) == (96.0, 103.0)  # its full range
    assert zone.level == 105.0
    assert zone.formed_at == START + 9 * HOUR  # known when candle 8 closes
    assert zone.inputs["choch"] == 0.0


def test_the_last_bullish_candle_before_a_bearish_change_of_character_is_a_bearish_block() -> None:
    c = bars(BOS_THEN_CHOCH)
    bear = [
        z
        for z in detect_order_blocks(c, "1h", SMALL).to_zones()
        if z.direction is Direction.BEARISH
    ]
    (zone,) = bear
    assert (c.open[10], c.close[10], c.open[11], c.close[11]) == (107.0, 108.0, 108.0, 104.0)
    assert zone.formed_index == 10
    assert (zone.zone_low, zone.zone_high) == (105.0, 109.0)
    assert zone.inputs["choch"] == 1.0


def test_the_body_option_uses_open_and_close() -> None:
    params = DetectionParams(swing_left=2, swing_right=2, ob_zone="body")
    zones = detect_order_blocks(bars(BOS_THEN_CHOCH), "1h", params).to_zones()
    assert [(z.zone_low, z.zone_high) for z in zones] == [(97.0, 100.0), (107.0, 108.0)]


def test_a_block_further_back_than_the_maximum_leg_is_not_reported() -> None:
    params = DetectionParams(swing_left=2, swing_right=2, ob_max_leg=3)
    zones = detect_order_blocks(bars(BOS_THEN_CHOCH), "1h", params).to_zones()
    # Candle 4 is four candles before the break at 8; candle 10 is two before 12.
    assert [z.formed_index for z in zones] == [10]


def test_order_blocks_report_whether_their_break_changed_character() -> None:
    zones = detect_order_blocks(bars(BOS_THEN_CHOCH), "1h", SMALL).to_zones()
    bos, choch = zones
    assert choch.inputs["choch"] == 1.0
    assert bos.inputs["choch"] == 0.0
    assert 0 <= bos.strength <= 1
    assert 0 <= choch.strength <= 1


@settings(max_examples=60, deadline=None)
@given(candle_series(), st.data())
def test_blocks_from_a_prefix_are_exactly_the_blocks_known_by_its_last_close(
    c: Candles, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(c)))
    full = detect_order_blocks(c, "1h", SMALL)
    part = detect_order_blocks(c[:k], "1h", SMALL)
    assert same_rows(part, full.take(full.formed_at <= c.open_time[k - 1] + HOUR))


def test_a_doji_is_neither_colour_so_the_search_passes_over_it() -> None:
    rows = list(BOS_THEN_CHOCH[:9])
    rows[7] = (100, 102, 98, 100)  # candle 7 becomes a doji: open == close
    zones = detect_order_blocks(bars(rows), "1h", SMALL).to_zones()
    assert [z.formed_index for z in zones] == [4]


def test_a_zero_range_candle_before_the_break_is_passed_over() -> None:
    rows = list(BOS_THEN_CHOCH[:9])
    rows[7] = (99.5, 99.5, 99.5, 99.5)  # flat: open == high == low == close
    (zone,) = detect_order_blocks(bars(rows), "1h", SMALL).to_zones()
    assert zone.formed_index == 4
    assert (zone.zone_low, zone.zone_high) == (96.0, 103.0)
