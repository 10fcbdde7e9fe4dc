"""The outcome label: hand-built zones whose verdict is read off the candles, and properties
against a candle-by-candle reading of the same rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction
from cryptolens.domain.errors import ValidationError
from cryptolens.quality.outcomes import Outcome, ZoneSpec, zone_outcomes
from tests.builders.candles import HOUR, START, bars

BULL, BEAR = Direction.BULLISH, Direction.BEARISH


def bull_zone(formed_at: int = START, atr: float = 2.0) -> ZoneSpec:
    """Bullish zone 98..100 on 1h, known at ``formed_at``."""
    return ZoneSpec("1h", BULL, 98.0, 100.0, formed_at, atr)


def bear_zone(formed_at: int = START, atr: float = 2.0) -> ZoneSpec:
    """Bearish zone 100..102 on 1h."""
    return ZoneSpec("1h", BEAR, 100.0, 102.0, formed_at, atr)


def one(zone: ZoneSpec, candles: Candles, atr_mult: float = 1.0) -> Outcome:
    return zone_outcomes([zone], {"1h": candles}, atr_mult)[0]


def test_bullish_zone_that_is_touched_then_rallies_k_atr_above_holds() -> None:
    candles = bars([(103, 104, 102, 103), (101, 101.5, 99, 100), (100, 102.5, 100, 102)])
    assert one(bull_zone(), candles) == Outcome(True, START + HOUR, START + 2 * HOUR)


def test_bullish_zone_closing_below_its_low_first_fails() -> None:
    candles = bars([(101, 101, 99, 99.5), (99, 99, 96, 97), (97, 110, 97, 109)])
    assert one(bull_zone(), candles) == Outcome(False, START, START + HOUR)


def test_wick_below_the_far_edge_without_a_close_beyond_it_does_not_fail() -> None:
    candles = bars([(101, 101, 95, 99), (99, 102, 99, 101.5)])
    assert one(bull_zone(), candles) == Outcome(True, START, START + HOUR)


def test_the_touching_candle_cannot_hold_the_zone_but_can_fail_it() -> None:
    # Candle 0 touches and reaches 102 (hold level) in the same bar: not a hold yet.
    touch_and_reach = bars([(101, 103, 99.5, 101), (101, 101, 100.5, 101)])
    assert one(bull_zone(), touch_and_reach) == Outcome(None, START, None)
    # Candle 0 touches and closes below the zone: failed at once.
    touch_and_close = bars([(101, 101, 97, 97.5)])
    assert one(bull_zone(), touch_and_close) == Outcome(False, START, START)


def test_a_candle_reaching_the_hold_level_and_closing_beyond_the_far_edge_fails() -> None:
    candles = bars([(101, 101, 99.5, 100), (100, 103, 96, 97)])
    assert one(bull_zone(), candles) == Outcome(False, START, START + HOUR)


def test_untouched_zone_has_no_verdict_and_no_touch() -> None:
    candles = bars([(103, 110, 101, 108), (108, 120, 105, 119)])
    assert one(bull_zone(), candles) == Outcome(None, None, None)


def test_candles_before_formation_and_after_expiry_are_ignored() -> None:
    formed = START + HOUR
    rows = [(99, 99, 90, 91)]  # before formation: would fail it
    rows += [(105, 106, 104, 105)] * 72  # the 3-day lifetime of a 1h zone, untouched
    rows += [(100, 100, 90, 91)]  # after expiry: would fail it
    assert one(bull_zone(formed), bars(rows)) == Outcome(None, None, None)


def test_bearish_zone_mirrors_the_bullish_rules() -> None:
    held = bars([(99, 100.5, 98, 99), (99, 99.5, 97.5, 98)])
    assert one(bear_zone(), held) == Outcome(True, START, START + HOUR)
    failed = bars([(99, 101, 98, 100), (100, 103, 100, 102.5)])
    assert one(bear_zone(), failed) == Outcome(False, START, START + HOUR)


def test_the_atr_multiple_moves_the_hold_level() -> None:
    candles = bars([(101, 101, 99, 100), (100, 103, 100, 103), (103, 105, 103, 105)])
    assert one(bull_zone(), candles, 1.0).decided_at == START + HOUR  # 102
    assert one(bull_zone(), candles, 2.0).decided_at == START + 2 * HOUR  # 104


def test_zones_of_several_timeframes_read_their_own_candles() -> None:
    hourly = bars([(101, 101, 97, 97.5)])
    four = bars([(101, 101, 99, 100), (100, 104, 100, 103)], step=4 * HOUR)
    zones = [bull_zone(), ZoneSpec("4h", BULL, 98.0, 100.0, START, 2.0)]
    got = zone_outcomes(zones, {"1h": hourly, "4h": four})
    assert [o.held for o in got] == [False, True]


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValidationError, match="atr_mult"):
        zone_outcomes([bull_zone()], {"1h": bars([(1, 1, 1, 1)])}, -1.0)
    with pytest.raises(ValidationError, match="no candles for timeframe '4h'"):
        zone_outcomes([ZoneSpec("4h", BULL, 1, 2, START, 1)], {"1h": bars([(1, 1, 1, 1)])})
    assert zone_outcomes([], {}) == []


def read_by_hand(zone: ZoneSpec, candles: Candles, k: float) -> Outcome:
    """The rule, one candle at a time."""
    bull = zone.direction is BULL
    end = zone.formed_at + 72 * HOUR
    touched = None
    for t, h, lo, c in zip(
        candles.open_time.tolist(),
        candles.high.tolist(),
        candles.low.tolist(),
        candles.close.tolist(),
        strict=True,
    ):
        if t < zone.formed_at or t >= end:
            continue
        first = False
        if touched is None:
            if (lo <= zone.zone_high) if bull else (h >= zone.zone_low):
                touched, first = t, True
            else:
                continue
        if (c < zone.zone_low) if bull else (c > zone.zone_high):
            return Outcome(False, touched, t)
        if not first:
            goal = zone.zone_high + k * zone.atr if bull else zone.zone_low - k * zone.atr
            if (h >= goal) if bull else (lo <= goal):
                return Outcome(True, touched, t)
    return Outcome(None, touched, None)


@st.composite
def walks(draw: st.DrawFn) -> Candles:
    n = draw(st.integers(1, 120))
    steps = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    wicks = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=n, max_size=n))
    close = 100 + np.cumsum(steps).astype(float)
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) + [w[0] for w in wicks]
    low = np.minimum(open_, close) - [w[1] for w in wicks]
    times = START + HOUR * np.arange(n, dtype=np.int64)
    return Candles(times, open_, high, low, close, np.ones(n))


zones = st.builds(
    lambda bull, low, height, at, atr: ZoneSpec(
        "1h", BULL if bull else BEAR, float(low), float(low + height), START + at * HOUR, atr
    ),
    st.booleans(),
    st.integers(90, 110),
    st.integers(0, 4),
    st.integers(-5, 100),
    st.sampled_from([0.5, 1.0, 2.0, 4.0]),
)


@settings(max_examples=200, deadline=None)
@given(walks(), st.lists(zones, min_size=1, max_size=8), st.sampled_from([0.0, 1.0, 1.5]))
def test_columns_agree_with_the_rule_read_candle_by_candle(
    candles: Candles, zone_list: list[ZoneSpec], k: float
) -> None:
    got = zone_outcomes(zone_list, {"1h": candles}, k)
    assert got == [read_by_hand(z, candles, k) for z in zone_list]


@settings(max_examples=100, deadline=None)
@given(walks(), zones, st.integers(0, 119))
def test_a_verdict_never_depends_on_candles_after_the_deciding_one(
    candles: Candles, zone: ZoneSpec, cut: int
) -> None:
    full = one(zone, candles)
    if full.decided_at is None or full.decided_at > int(
        candles.open_time[min(cut, len(candles) - 1)]
    ):
        return
    assert one(zone, candles[: cut + 1]) == full
