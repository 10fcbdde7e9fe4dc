"""Wilder ATR: matches the textbook recursion and resumes bit for bit from its state."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import AtrState, Candles, atr, true_range, wilder_atr
from tests.builders.candles import bars, candle_series


def _textbook_atr(c: Candles, period: int) -> list[float]:
    out: list[float] = []
    prev_close = None
    total = 0.0
    value = math.nan
    for i in range(len(c)):
        h, lo = float(c.high[i]), float(c.low[i])
        tr = (
            h - lo if prev_close is None else max(h - lo, abs(h - prev_close), abs(lo - prev_close))
        )
        if i < period:
            total += tr
            value = total / (i + 1)
        else:
            value = value + (tr - value) / period
        out.append(value)
        prev_close = float(c.close[i])
    return out


def test_true_range_counts_the_gap_from_the_previous_close() -> None:
    c = bars([(100, 101, 99, 100), (105, 106, 104, 105)])
    tr = true_range(c.high, c.low, c.close, float("nan"))
    assert tr.tolist() == [2.0, 6.0]  # 106 - previous close 100


def test_the_value_at_period_minus_one_is_the_simple_mean_of_true_ranges() -> None:
    c = bars([(100, 100 + k, 100 - k, 100) for k in (1, 2, 3, 4)])
    assert atr(c, period=4)[3] == (2 + 4 + 6 + 8) / 4


@settings(max_examples=40, deadline=None)
@given(candle_series(), st.integers(1, 20))
def test_atr_equals_the_textbook_wilder_recursion(c: Candles, period: int) -> None:
    assert np.allclose(atr(c, period), _textbook_atr(c, period), rtol=1e-12, atol=0)


@settings(max_examples=60, deadline=None)
@given(candle_series(), st.integers(1, 20), st.lists(st.integers(1, 159), max_size=6))
def test_atr_fed_in_pieces_is_bit_identical_to_one_run(
    c: Candles, period: int, cuts: list[int]
) -> None:
    whole, _ = wilder_atr(c.high, c.low, c.close, AtrState(period=period))
    state = AtrState(period=period)
    pieces = []
    bounds = sorted({0, len(c), *(k for k in cuts if k < len(c))})
    for a, b in itertools.pairwise(bounds):
        values, state = wilder_atr(c.high[a:b], c.low[a:b], c.close[a:b], state)
        pieces.append(values)
    assert np.array_equal(np.concatenate(pieces), whole)
    assert state.atr == whole[-1]
