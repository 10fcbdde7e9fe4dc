"""Strength formulas: bounded to [0, 1] and never weaker when an input grows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect.strength import fvg_strength, ob_strength, per_atr, sat, sweep_strength

ratio = st.floats(0.0, 1e6, allow_nan=False)
bump = st.floats(0.0, 1e3, allow_nan=False)


def _a(x: float) -> np.ndarray:
    return np.array([x])


def test_sat_is_half_at_its_reference_and_one_at_infinity() -> None:
    assert sat(_a(2.0), 2.0)[0] == 0.5
    assert sat(_a(np.inf), 2.0)[0] == 1.0
    assert sat(_a(0.0), 2.0)[0] == 0.0


def test_a_positive_size_in_a_flat_market_is_infinitely_many_atr() -> None:
    assert per_atr(_a(1.0), _a(0.0))[0] == np.inf
    assert per_atr(_a(0.0), _a(0.0))[0] == 0.0


@settings(max_examples=200, deadline=None)
@given(ratio, ratio, ratio, bump, st.integers(0, 2))
def test_fvg_strength_is_bounded_and_monotone_in_every_input(
    size: float, disp: float, vol: float, more: float, which: int
) -> None:
    base = [size, disp, vol]
    bigger = list(base)
    bigger[which] += more
    a = fvg_strength(*map(_a, base))[0]
    b = fvg_strength(*map(_a, bigger))[0]
    assert 0.0 <= a <= 1.0
    assert b >= a


@settings(max_examples=200, deadline=None)
@given(ratio, ratio, bump, st.booleans())
def test_order_block_strength_is_bounded_and_monotone(
    disp: float, vol: float, more: float, choch: bool
) -> None:
    flag = np.array([choch])
    a = ob_strength(_a(disp), _a(vol), flag)[0]
    assert 0.0 <= a <= 1.0
    assert ob_strength(_a(disp + more), _a(vol), flag)[0] >= a
    assert ob_strength(_a(disp), _a(vol + more), flag)[0] >= a
    assert ob_strength(_a(disp), _a(vol), np.array([True]))[0] >= a


@settings(max_examples=200, deadline=None)
@given(ratio, st.integers(1, 50), st.booleans(), ratio, bump, st.integers(1, 5))
def test_sweep_strength_is_bounded_and_monotone(
    rejection: float, levels: int, pooled: bool, vol: float, more: float, extra: int
) -> None:
    def score(r: float, n: int, p: bool, v: float) -> float:
        return float(sweep_strength(_a(r), np.array([n]), np.array([p]), _a(v))[0])

    a = score(rejection, levels, pooled, vol)
    assert 0.0 <= a <= 1.0
    assert score(rejection + more, levels, pooled, vol) >= a
    assert score(rejection, levels + extra, pooled, vol) >= a
    assert score(rejection, levels, True, vol) >= a
    assert score(rejection, levels, pooled, vol + more) >= a
