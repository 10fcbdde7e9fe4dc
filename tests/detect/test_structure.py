"""Market structure: breaks of structure, changes of character and equal highs/lows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles, DetectionParams, market_structure
from tests.builders.candles import BOS_THEN_CHOCH, HOUR, START, bars, candle_series

SMALL = DetectionParams(swing_left=2, swing_right=2)


def test_a_close_above_the_last_swing_high_is_a_bullish_break_of_structure() -> None:
    s = market_structure(bars(BOS_THEN_CHOCH), "1h", SMALL)
    assert s.breaks.index[0] == 8
    assert bool(s.breaks.bullish[0])
    assert not bool(s.breaks.choch[0])  # the first break has no trend to change
    assert s.breaks.level[0] == 105.0
    assert s.breaks.swing_pivot[0] == 2
    assert s.breaks.formed_at[0] == START + 9 * HOUR  # close of candle 8


def test_a_break_against_the_last_break_is_a_change_of_character() -> None:
    s = market_structure(bars(BOS_THEN_CHOCH), "1h", SMALL)
    assert s.breaks.index.tolist() == [8, 12]
    assert s.breaks.bullish.tolist() == [True, False]
    assert s.breaks.choch.tolist() == [False, True]
    assert s.breaks.level[1] == 95.0


def test_a_wick_beyond_the_swing_without_a_close_beyond_is_no_break() -> None:
    rows = [*list(BOS_THEN_CHOCH[:8]), (101, 107, 100, 104.5)]
    s = market_structure(bars(rows), "1h", SMALL)
    assert len(s.breaks) == 0


def test_a_swing_is_broken_only_once() -> None:
    rows = [*list(BOS_THEN_CHOCH[:9]), (106, 106.5, 105.5, 106), (106, 107.5, 105.5, 107)]
    s = market_structure(bars(rows), "1h", SMALL)
    assert s.breaks.index.tolist() == [8]


def test_consecutive_swing_highs_within_tolerance_are_equal_highs() -> None:
    rows = [
        (100, 101, 99, 100),
        (100, 102, 99, 101),
        (101, 110, 100, 104),  # 2: swing high 110
        (104, 105, 101, 102),
        (102, 103, 100, 101),
        (101, 104, 100, 103),
        (103, 110, 102, 104),  # 6: swing high 110 again
        (104, 105, 101, 102),
        (102, 103, 100, 101),  # 8: confirms the second high
    ]
    s = market_structure(bars(rows), "1h", SMALL)
    assert s.swing_highs.pivot.tolist() == [2, 6]
    assert s.equal_highs.formed_index.tolist() == [8]
    assert s.equal_highs.level.tolist() == [110.0]
    assert s.equal_highs.first_pivot.tolist() == [2]
    assert s.equal_highs.second_pivot.tolist() == [6]


def test_swing_highs_further_apart_than_the_tolerance_are_not_equal() -> None:
    rows = [(100, 101, 99, 100), (100, 102, 99, 101), (101, 110, 100, 104)]
    rows += [(104, 105, 101, 102), (102, 103, 100, 101), (101, 104, 100, 103)]
    rows += [(103, 108, 102, 104), (104, 105, 101, 102), (102, 103, 100, 101)]
    s = market_structure(bars(rows), "1h", SMALL)
    assert len(s.swing_highs) == 2
    assert len(s.equal_highs) == 0


@settings(max_examples=50, deadline=None)
@given(candle_series(), st.data())
def test_structure_from_a_prefix_is_the_structure_known_by_its_last_close(
    c: Candles, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(c)))
    full = market_structure(c, "1h", SMALL)
    part = market_structure(c[:k], "1h", SMALL)
    known = full.breaks.index < k
    assert part.breaks.index.tolist() == full.breaks.index[known].tolist()
    assert part.breaks.choch.tolist() == full.breaks.choch[known].tolist()
    assert np.array_equal(part.breaks.level, full.breaks.level[known])
    for a, b in ((part.equal_highs, full.equal_highs), (part.equal_lows, full.equal_lows)):
        assert a.formed_index.tolist() == b.formed_index[b.formed_index < k].tolist()


#: Swing high 103 (pivot 2, confirmed 4), then a newer swing high 105 (pivot 6, confirmed 8);
#: candle 9 closes at 104: above the older swing, below the newer one.
NEWER_SWING = [
    (100, 101, 99, 100),
    (100, 102, 99, 101),
    (101, 103, 100, 102),  # 2: swing high 103
    (102, 102.5, 100, 101),
    (101, 102, 99, 100),  # 4: confirms 103
    (100, 102, 99, 101),
    (101, 105, 100, 102.5),  # 6: swing high 105
    (102.5, 103, 101, 102),
    (102, 102.5, 101, 102),  # 8: confirms 105; 103 is no longer the reference
    (102, 104.5, 101.5, 104),  # 9: close 104 > 103 but < 105: no break
]


def test_a_swing_stops_being_the_reference_once_a_newer_one_is_confirmed() -> None:
    s = market_structure(bars(NEWER_SWING), "1h", SMALL)
    assert not s.breaks.bullish.any()
    broken = market_structure(bars([*NEWER_SWING, (104, 106.5, 103.5, 106)]), "1h", SMALL)
    (level,) = broken.breaks.level[broken.breaks.bullish]
    assert level == 105.0  # the newer swing is the one broken


def test_the_candle_confirming_a_newer_swing_still_breaks_the_older_one() -> None:
    rows = [*NEWER_SWING[:8], (102, 104, 101, 103.5)]  # 8 confirms 105 and closes above 103
    s = market_structure(bars(rows), "1h", SMALL)
    assert s.breaks.index[s.breaks.bullish].tolist() == [8]
    assert s.breaks.level[s.breaks.bullish].tolist() == [103.0]
