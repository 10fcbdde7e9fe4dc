"""Zone lifecycle: touches, fills, invalidation and expiry from wicks and closes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.detect import (
    Candles,
    DetectionParams,
    LifecycleParams,
    ZoneState,
    advance_zone,
    advance_zones,
    detect,
    expiry_ms,
    run_lifecycle,
)
from cryptolens.detect.lifecycle import LifecycleColumns, advance_columns
from cryptolens.domain.enums import Direction, PatternStatus
from tests.builders.candles import BOS_THEN_CHOCH, HOUR, START, bars, candle_series

FORMED = START + 3 * HOUR  # the zone is known when candle 2 closes
BEFORE = [(120, 121, 90, 110)] * 3  # would touch and fill the zone, but comes before it


def bullish(low: float = 100.0, high: float = 104.0, **kw: object) -> ZoneState:
    state = ZoneState(Direction.BULLISH, low, high, FORMED, FORMED + expiry_ms("1h"))
    return replace(state, **kw)  # type: ignore[arg-type]


def test_a_bullish_zone_is_touched_then_filled_by_wicks() -> None:
    c = bars([*BEFORE, (110, 111, 105, 106), (106, 107, 103, 104), (104, 105, 101, 102)])
    s = advance_zone(bullish(), c, "1h")
    assert (c.low[4], c.low[5]) == (103.0, 101.0)
    assert s.status is PatternStatus.TOUCHED
    assert s.touched_at == START + 5 * HOUR  # close of candle 4, the first low <= 104
    assert s.fill_fraction == 0.75  # deepest low 101 is 3 of the zone's 4 deep
    c2 = bars([(102, 103, 99.5, 101)], start=START + 6 * HOUR)
    s2 = advance_zone(s, c2, "1h")
    assert s2.status is PatternStatus.FILLED
    assert s2.filled_at == START + 7 * HOUR
    assert s2.fill_fraction == 1.0


def test_a_close_beyond_the_far_edge_invalidates_the_zone() -> None:
    c = bars([*BEFORE, (110, 111, 103, 104), (104, 105, 98, 99)])
    s = advance_zone(bullish(), c, "1h")
    assert s.status is PatternStatus.INVALIDATED
    assert s.invalidated_at == START + 5 * HOUR
    assert s.touched_at == START + 4 * HOUR


def test_candles_before_formed_at_are_ignored() -> None:
    s = advance_zone(bullish(), bars(BEFORE), "1h")
    assert s == bullish()


def test_an_untouched_zone_expires_after_its_timeframe_lifetime() -> None:
    life = expiry_ms("1h") // HOUR
    assert life == 72  # ZONE_EXPIRY["1h"] is three days
    c = bars([*BEFORE, *[(110, 111, 109, 110)] * life, (110, 111, 95, 110)])
    s = advance_zone(bullish(), c, "1h")
    assert s.status is PatternStatus.EXPIRED
    assert s.expired_at == FORMED + expiry_ms("1h")
    assert s.touched_at is None  # the candle after expiry would have filled it


def test_the_zone_is_still_open_one_candle_before_its_expiry() -> None:
    c = bars([*BEFORE, *[(110, 111, 109, 110)] * 71])
    assert advance_zone(bullish(), c, "1h").status is PatternStatus.ACTIVE


@pytest.mark.parametrize(
    ("timeframe", "hours"),
    [
        ("1m", 4),
        ("5m", 12),
        ("15m", 24),
        ("30m", 48),
        ("1h", 72),
        ("2h", 120),
        ("4h", 168),
        ("1d", 336),
    ],
)
def test_lifetimes_follow_the_zone_expiry_table(timeframe: str, hours: int) -> None:
    assert expiry_ms(timeframe) == hours * HOUR


def test_price_leaving_by_the_atr_distance_expires_the_zone_early() -> None:
    state = bullish(away_level=112.0)
    c = bars([*BEFORE, (110, 111, 108, 110), (110, 112.5, 109, 112), (112, 113, 99, 100)])
    s = advance_zone(state, c, "1h")
    assert s.status is PatternStatus.EXPIRED
    assert s.expired_at == START + 5 * HOUR
    assert s.fill_fraction == 0.0


def test_a_bearish_zone_mirrors_the_rules() -> None:
    state = ZoneState(Direction.BEARISH, 100.0, 104.0, FORMED, FORMED + expiry_ms("1h"))
    c = bars([*BEFORE, (95, 101, 94, 96), (96, 105, 95, 104.5)])
    s = advance_zone(state, c, "1h")
    assert s.touched_at == START + 4 * HOUR
    assert s.status is PatternStatus.INVALIDATED  # closed 104.5 above the far edge 104


def test_a_zero_height_zone_is_filled_at_its_first_touch() -> None:
    c = bars([*BEFORE, (110, 111, 100, 101)])
    s = advance_zone(bullish(100.0, 100.0), c, "1h")
    assert s.status is PatternStatus.FILLED
    assert s.fill_fraction == 1.0


def test_zone_states_open_from_detected_zones_carry_the_atr_expiry_level() -> None:
    zones = detect(bars(BOS_THEN_CHOCH), "1h", DetectionParams(swing_left=2, swing_right=2))
    zone = zones.to_zones()[0]
    state = ZoneState.open(zone, "1h", LifecycleParams(expiry_atr_distance=2.0))
    assert state.away_level == zone.zone_high + 2.0 * zone.atr
    assert state.expires_at == zone.formed_at + 72 * HOUR


PARAMS = DetectionParams(swing_left=2, swing_right=2)
LIFE = st.sampled_from([LifecycleParams(), LifecycleParams(expiry_atr_distance=1.5)])


@settings(max_examples=50, deadline=None)
@given(candle_series(), LIFE, st.data())
def test_advancing_in_two_steps_equals_advancing_once(
    c: Candles, life: LifecycleParams, data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(c)))
    zones = detect(c, "1h", PARAMS)
    fresh = LifecycleColumns.open(zones, "1h", life)
    once = advance_columns(fresh, c, HOUR).to_states()
    twice = advance_zones(advance_zones(fresh.to_states(), c[:k], "1h"), c[k:], "1h")
    assert twice == once


@settings(max_examples=50, deadline=None)
@given(candle_series(), LIFE, st.data())
def test_lifecycle_events_seen_on_a_prefix_are_the_full_events_up_to_its_end(
    c: Candles, life: LifecycleParams, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(c)))
    zones = detect(c, "1h", PARAMS)
    full = run_lifecycle(zones, c, "1h", life).to_states()
    part = run_lifecycle(zones, c[:k], "1h", life).to_states()
    end = int(c.open_time[k - 1]) + HOUR
    for f, p in zip(full, part, strict=True):
        for name in ("touched_at", "filled_at", "invalidated_at", "expired_at"):
            expected = getattr(f, name)
            assert getattr(p, name) == (
                expected if expected is not None and expected <= end else None
            )


def test_an_event_on_the_candle_closing_exactly_at_expiry_counts() -> None:
    # 71 quiet candles, then the 72nd after formation closes exactly at expires_at and touches.
    c = bars([*BEFORE, *[(110, 111, 109, 110)] * 71, (110, 111, 103, 104)])
    s = advance_zone(bullish(), c, "1h")
    assert s.touched_at == s.expires_at == START + 75 * HOUR
    assert s.expired_at == s.expires_at  # touched yet still open at expiry: it then expires
    filled = bars([*BEFORE, *[(110, 111, 109, 110)] * 71, (110, 111, 99.5, 101)])
    f = advance_zone(bullish(), filled, "1h")
    assert f.status is PatternStatus.FILLED  # a final event at expiry wins over expiry
    assert f.filled_at == f.expires_at
    assert f.expired_at is None
