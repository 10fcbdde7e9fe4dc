"""Swing highs and lows: fractal pivots known only after their right-hand candles close."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles, find_swings
from tests.builders.candles import candle_series


def _highs(values: list[float], left: int = 2, right: int = 2) -> tuple[list[int], list[int]]:
    high = np.array(values, dtype=np.float64)
    swings, _ = find_swings(high, high - 1, left, right)
    return swings.pivot.tolist(), swings.confirm.tolist()


def test_a_peak_is_a_swing_high_confirmed_right_bars_later() -> None:
    pivots, confirms = _highs([1, 2, 5, 3, 2, 1])
    assert pivots == [2]
    assert confirms == [4]


def test_a_flat_top_yields_one_swing_high_at_its_first_candle() -> None:
    pivots, _ = _highs([1, 2, 5, 5, 3, 2, 1])
    assert pivots == [2]


def test_a_higher_candle_on_the_left_within_reach_cancels_the_pivot() -> None:
    pivots, _ = _highs([6, 2, 5, 3, 2, 1])
    assert pivots == []


def test_no_pivot_is_reported_before_its_right_hand_candles_exist() -> None:
    pivots, _ = _highs([1, 2, 3, 4, 5, 3])
    assert pivots == []


def test_no_pivot_is_reported_without_a_full_left_window() -> None:
    pivots, _ = _highs([5, 3, 2, 1, 0.5])
    assert pivots == []


def test_swing_lows_mirror_swing_highs() -> None:
    low = np.array([5, 4, 1, 2, 3, 4], dtype=np.float64)
    _, lows = find_swings(low + 1, low, 2, 2)
    assert lows.pivot.tolist() == [2]
    assert lows.level.tolist() == [1.0]


@settings(max_examples=50, deadline=None)
@given(candle_series(), st.integers(1, 4), st.integers(1, 4), st.data())
def test_swings_from_a_prefix_are_the_swings_confirmed_within_it(
    c: Candles, left: int, right: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(c)))
    full_h, full_l = find_swings(c.high, c.low, left, right)
    part_h, part_l = find_swings(c.high[:k], c.low[:k], left, right)
    for full, part in ((full_h, part_h), (full_l, part_l)):
        known = full.confirm < k
        assert part.pivot.tolist() == full.pivot[known].tolist()
        assert part.level.tolist() == full.level[known].tolist()
