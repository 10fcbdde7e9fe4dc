"""The replay: timeframes as the settings check them, candles as ingestion aggregates them,
and outcome tracking that folds only the candles able to change a trade."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptolens.backtest.replay import (
    check_timeframes,
    find_drafts,
    finer_lookup,
    prepare,
    replay,
    replay_signals,
    timeframe_candles,
    track_drafts,
    track_events,
)
from cryptolens.detect import Candles
from cryptolens.domain.enums import Direction, PatternType
from cryptolens.domain.errors import ValidationError
from cryptolens.market.aggregate import aggregate_candles
from cryptolens.signals import Trade, track
from tests.backtest.builders import H, M, bars, twenty_minutes


def test_timeframes_include_the_base_and_come_shortest_first() -> None:
    assert check_timeframes("1h", ["1d", "4h"]) == ("1h", "4h", "1d")


@pytest.mark.parametrize(
    ("base", "timeframes", "message"),
    [("1h", ["30m"], "not a multiple"), ("1h", ["7m"], "unknown timeframe"), ("2x", [], "2x")],
)
def test_bad_timeframes_are_refused(base: str, timeframes: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_timeframes(base, timeframes)


def test_no_candles_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="no base candles"):
        replay(bars(), base_timeframe="1h", timeframes=("1h",))


def test_higher_timeframes_are_the_closed_buckets_ingestion_stores(btc_hours: Candles) -> None:
    base = btc_hours[5:300]  # starts mid-bucket, ends mid-day
    built = timeframe_candles(base, "1h", ("1h", "4h", "1d"))
    assert built["1h"] is base
    expected = aggregate_candles(base, base_timeframe="1h", target_timeframe="4h")
    np.testing.assert_array_equal(built["4h"].open_time, expected.open_time)
    np.testing.assert_array_equal(built["4h"].high, expected.high)
    last_close = int(base.open_time[-1]) + H
    assert int(built["1d"].open_time[-1]) + 24 * H <= last_close


def test_finer_lookup_answers_only_for_a_complete_candle() -> None:
    minutes = bars(*[(101.0, 99.0)] * 90, step=M)
    lookup = finer_lookup(minutes, M)
    found = lookup(0, H)
    assert found is not None
    assert len(found[0]) == 60
    assert found[1] == M
    assert lookup(H, H) is None  # only 30 of its 60 minutes


def _trade(direction: Direction, price: float, **changes: object) -> Trade:
    sign = 1.0 if direction is Direction.BULLISH else -1.0
    trade = Trade(
        direction=direction,
        entry=price,
        stop=price - sign * 5,
        targets=(price + sign * 4, price + sign * 8, price + sign * 12),
        created_at=2 * H,
        expires_at=12 * H,
        max_hold_ms=40 * H,
    )
    return replace(trade, **changes)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    moves=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=150),
    bullish=st.booleans(),
    offset=st.floats(-6, 6),
    hold=st.integers(1, 20),
    ttl=st.integers(1, 30),
    with_finer=st.booleans(),
)
def test_folding_only_the_eventful_candles_tracks_exactly_like_folding_all(
    moves: list[float], bullish: bool, offset: float, hold: int, ttl: int, with_finer: bool
) -> None:
    closes = 100 + np.cumsum(moves)
    candles = bars(*zip((closes + 2).tolist(), (closes - 2).tolist(), strict=True))
    direction = Direction.BULLISH if bullish else Direction.BEARISH
    trade = _trade(direction, 100 + offset, max_hold_ms=hold * H, expires_at=2 * H + ttl * H)
    finer = None
    if with_finer:
        finer = finer_lookup(twenty_minutes(candles), 20 * M)
    assert track_events(trade, candles, H, finer) == track(trade, candles, H, finer)


def test_replay_is_prepare_then_signals(btc_hours: Candles) -> None:
    base = btc_hours[:2_000]
    whole = replay(base, base_timeframe="1h", timeframes=("1h", "4h", "1d"))
    prepared = prepare(base, base_timeframe="1h", timeframes=("1h", "4h", "1d"))
    parts = replay_signals(prepared)
    assert whole.signals
    assert parts.signals == whole.signals
    assert parts.zones == whole.zones == prepared.zones
    # The drafts and the tracking are the two halves of replay_signals.
    drafts = find_drafts(prepared)
    assert track_drafts(prepared, drafts).signals == whole.signals


def test_a_pattern_filter_keeps_only_signals_on_those_zones(btc_hours: Candles) -> None:
    prepared = prepare(btc_hours[:2_000], base_timeframe="1h", timeframes=("1h", "4h", "1d"))
    every = replay_signals(prepared, patterns=list(PatternType))
    assert every.signals == replay_signals(prepared).signals
    fvg = replay_signals(prepared, patterns=[PatternType.FVG])
    assert fvg.signals
    assert fvg.signals != every.signals
    assert all(key[1] == "fvg" for s in fvg.signals for key in s.zones)
    assert fvg.zones == int((prepared.patterns == 0).sum()) < prepared.zones
    assert replay_signals(prepared, patterns=[]).signals == ()
